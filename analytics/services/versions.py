"""The one place that moves portfolios' ``data_version`` on, and announces it.

Moving the version on makes the portfolio's stored snapshot stale at once (readers
compare versions). Announcing it sends ``portfolio_data_changed`` once the
transaction commits, whose receivers queue the work that follows (a snapshot of
the new key, a compliance evaluation). A change whose positions rebuild is queued
behind it (an import of trades, prices, FX or flows, a recorded split) moves the
version on without announcing it: the rebuild announces the final version, so that
work runs once, on the rebuilt positions, and not once before the rebuild and once
after it. (Should that rebuild never run, its retries spent, the portfolio still
reads stale and the nightly refresh requests its current key.)
"""

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.db.models import F

from analytics.models import Portfolio
from analytics.signals import portfolio_data_changed


def portfolio_data_changed_mark(
    *, portfolio_ids: Iterable[int], announce: bool = True
) -> list[int]:
    """Bump ``data_version`` of each portfolio and, unless ``announce`` is false
    (a positions rebuild queued by the caller will), announce it once the
    surrounding transaction commits. Returns the sorted ids."""
    ids = sorted(set(portfolio_ids))
    if not ids:
        return ids
    Portfolio.objects.filter(pk__in=ids).update(data_version=F("data_version") + 1)
    if announce:
        portfolio_data_changed_announce(portfolio_ids=ids)
    return ids


def portfolio_data_changed_announce(*, portfolio_ids: Iterable[int]) -> None:
    """Send ``portfolio_data_changed`` for the portfolios once the surrounding
    transaction commits (nothing is sent if it rolls back), without moving their
    version on: the version an earlier change moved on is now final."""
    ids = sorted(set(portfolio_ids))
    if not ids:
        return
    transaction.on_commit(
        partial(portfolio_data_changed.send, sender=Portfolio, portfolio_ids=ids), robust=True
    )
