"""What follows a change of imported data, for every path that changes it (file
imports, pushes, pulls, the admin's resources, recorded splits): which
portfolios it affects, marking their data changed, and — once the transaction
commits — queuing the positions rebuild and data-quality scan of each (both
tasks replace what they own, so they are safe twice). The rebuild, not the
import, announces the change, so the snapshot of each portfolio is requested
once, for its final data version."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from analytics.models import DataKind, Portfolio, Trade
from analytics.services.versions import portfolio_data_changed_mark
from portal.task_queue import task_send_on_commit

REBUILD_AND_SCAN_TASK = "analytics.positions_rebuild_and_scan"
SCAN_TASK = "analytics.portfolio_quality_scan"


def portfolios_affected(
    *,
    kind: str,
    portfolio_ids: Iterable[int] = (),
    instrument_ids: Iterable[int] = (),
    currencies: Iterable[str] = (),
) -> set[int]:
    """The portfolios whose data an import of ``kind`` changed: those of the rows
    written (``portfolio_ids``); for prices, also those that trade an instrument
    whose prices changed (``instrument_ids``); for FX rates, those whose base
    currency or trades are in a currency of a changed pair (``currencies``)."""
    affected = set(portfolio_ids)
    instrument_ids = list(instrument_ids)
    if kind == DataKind.PRICES and instrument_ids:
        affected |= set(
            Trade.objects.filter(instrument_id__in=instrument_ids)
            .values_list("portfolio_id", flat=True)
            .distinct()
        )
    currencies = set(currencies)
    if kind == DataKind.FX and currencies:
        affected |= set(
            Portfolio.objects.filter(
                Q(base_currency__in=currencies) | Q(trades__currency__in=currencies)
            )
            .values_list("id", flat=True)
            .distinct()
        )
    return affected


def import_changes_record(*, kind: str, portfolio_ids: Iterable[int]) -> None:
    """Mark the data of ``portfolio_ids`` changed (inside the import's transaction)
    and, once committed, queue their refresh: reported positions change no derived
    ones, so they only queue a data-quality scan; instruments change no
    portfolio's inputs; every other kind queues a rebuild and a scan. A change
    that queues a rebuild is not announced here: the rebuild announces the final
    data version, so each portfolio's snapshot is requested once, after it
    (``analytics.services.versions``)."""
    portfolio_ids = sorted(set(portfolio_ids))
    rebuild = kind not in (DataKind.POSITIONS, DataKind.INSTRUMENTS)
    portfolio_data_changed_mark(portfolio_ids=portfolio_ids, announce=not rebuild)
    if not portfolio_ids or kind == DataKind.INSTRUMENTS:
        return
    portfolios_refresh_on_commit(portfolio_ids=portfolio_ids, rebuild=rebuild)


def portfolios_refresh_on_commit(*, portfolio_ids: Iterable[int], rebuild: bool = True) -> None:
    """Once committed, re-derive the positions (unless ``rebuild=False``) and
    re-scan the data quality of each of ``portfolio_ids``. With ``rebuild``, the
    caller marks the change without announcing it (``announce=False``): the
    rebuild announces it."""
    task = REBUILD_AND_SCAN_TASK if rebuild else SCAN_TASK
    for portfolio_id in sorted(set(portfolio_ids)):
        task_send_on_commit(task, portfolio_id)
