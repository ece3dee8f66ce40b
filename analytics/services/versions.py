"""The one place that moves portfolios' ``data_version`` on."""

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.db.models import F

from analytics.models import Portfolio
from analytics.signals import portfolio_data_changed


def portfolio_data_changed_mark(*, portfolio_ids: Iterable[int]) -> list[int]:
    """Bump ``data_version`` of each portfolio and, once the surrounding
    transaction commits, send ``portfolio_data_changed`` for them (nothing is sent
    if it rolls back). Returns the sorted ids."""
    ids = sorted(set(portfolio_ids))
    if not ids:
        return ids
    Portfolio.objects.filter(pk__in=ids).update(data_version=F("data_version") + 1)
    transaction.on_commit(
        partial(portfolio_data_changed.send, sender=Portfolio, portfolio_ids=ids), robust=True
    )
    return ids
