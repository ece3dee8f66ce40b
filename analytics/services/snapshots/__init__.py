"""Analytics snapshots: load a portfolio's frames, compute the sections, store the result.

Load → compute → store: ``snapshot_result_compute`` loads the frames
(:mod:`.frames`, through the shared loader :mod:`analytics.selectors.frames`) and
computes the returns and sections (:mod:`.returns`, :mod:`.sections`);
``snapshot_compute`` claims the row, calls it and stores the result or the failure.

Lifecycle (see ``AnalyticsSnapshot``):

1. ``snapshot_request`` creates the ``pending`` row for the portfolio's current key
   (latest valuation date, ``data_version``) and sends ``analytics.snapshot_compute``
   once the transaction commits. Requesting an existing key sends nothing, except
   for a ``failed`` row, which is retried.
2. The task claims the row (``pending`` → ``running``, or a ``running`` row whose
   worker died more than ``STALE_CLAIM`` ago), computes, and stores ``done`` or
   ``failed`` with the error. A duplicate delivery finds the row claimed or done.
3. When a portfolio's data changes (``portfolio_data_changed``), its snapshots are
   marked stale and a new key is requested.
4. A nightly beat job requests the current key of every active portfolio in
   chunks of ``SNAPSHOT_CHUNK_SIZE`` (one task per chunk), so N workers finish
   about N times sooner; keys already ``done`` cost nothing.

Sections of ``result``: ``data`` (valuations, gaps), ``series``, ``metrics``,
``period_returns``, ``calendar``, ``drawdowns``, ``rolling``, ``var``,
``exposures``, ``attribution``, ``factors`` and ``risk_values``. A section that the
data cannot support holds ``{"available": false, "reason": ...}``.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from analytics.models import AnalyticsSnapshot, Portfolio, SnapshotStatus
from analytics.selectors.portfolios import portfolio_latest_position_date
from analytics.services.snapshots.frames import portfolio_frames_load
from analytics.services.snapshots.returns import portfolio_returns
from analytics.services.snapshots.sections import snapshot_sections
from portal.task_queue import task_send, task_send_on_commit

logger = logging.getLogger(__name__)

STALE_CLAIM = dt.timedelta(minutes=30)
CONFIDENCE = 0.95


def portfolio_as_of(*, portfolio: Portfolio) -> dt.date | None:
    """The as-of date of the portfolio's current snapshot key: its latest date with
    derived positions, or None."""
    return portfolio_latest_position_date(portfolio=portfolio)


def snapshot_request(*, portfolio: Portfolio, enqueue: bool = True) -> AnalyticsSnapshot | None:
    """The snapshot row of ``portfolio``'s current key, queued for computing if new
    or failed (unless ``enqueue`` is false: the caller computes it). None when the
    portfolio has no positions yet."""
    as_of = portfolio_as_of(portfolio=portfolio)
    if as_of is None:
        return None
    version = Portfolio.objects.values_list("data_version", flat=True).get(pk=portfolio.pk)
    with transaction.atomic():
        snapshot, created = AnalyticsSnapshot.objects.get_or_create(
            portfolio=portfolio, as_of=as_of, data_version=version
        )
        retry = not created and snapshot.status == SnapshotStatus.FAILED
        if retry:
            AnalyticsSnapshot.objects.filter(pk=snapshot.pk).update(
                status=SnapshotStatus.PENDING, error=""
            )
            snapshot.status = SnapshotStatus.PENDING
        if (created or retry) and enqueue:
            task_send_on_commit("analytics.snapshot_compute", snapshot.pk)
    return snapshot


def _claim(snapshot_id: int) -> bool:
    now = timezone.now()
    claimable = Q(status=SnapshotStatus.PENDING) | Q(
        status=SnapshotStatus.RUNNING, started_at__lt=now - STALE_CLAIM
    )
    return bool(
        AnalyticsSnapshot.objects.filter(claimable, pk=snapshot_id).update(
            status=SnapshotStatus.RUNNING, started_at=now
        )
    )


def snapshot_compute(*, snapshot_id: int) -> AnalyticsSnapshot | None:
    """Compute and store one snapshot; does nothing unless the row can be claimed.
    A failure is stored on the row (status ``failed`` and the error), not raised."""
    if not _claim(snapshot_id):
        return None
    snapshot = AnalyticsSnapshot.objects.select_related("portfolio__benchmark").get(pk=snapshot_id)
    try:
        result = snapshot_result_compute(portfolio=snapshot.portfolio, as_of=snapshot.as_of)
    except Exception as error:  # stored on the row for users and the nightly retry
        logger.exception("snapshot %s failed", snapshot_id)
        _store_failure(snapshot_id=snapshot_id, error=error)
    else:
        _store_result(snapshot=snapshot, result=result)
    snapshot.refresh_from_db()
    return snapshot


def _store_failure(*, snapshot_id: int, error: Exception) -> None:
    AnalyticsSnapshot.objects.filter(pk=snapshot_id).update(
        status=SnapshotStatus.FAILED,
        error=f"{type(error).__name__}: {error}",
        finished_at=timezone.now(),
    )


def _store_result(*, snapshot: AnalyticsSnapshot, result: dict) -> None:
    """Store ``done`` with the result, stale if the portfolio's data moved on meanwhile."""
    current = Portfolio.objects.values_list("data_version", flat=True).get(pk=snapshot.portfolio_id)
    AnalyticsSnapshot.objects.filter(pk=snapshot.pk).update(
        status=SnapshotStatus.DONE,
        result=result,
        finished_at=timezone.now(),
        error="",
        stale=current != snapshot.data_version,
    )


def snapshot_result_compute(*, portfolio: Portfolio, as_of: dt.date) -> dict:
    """Every section of a snapshot of ``portfolio`` on data up to ``as_of``: load its
    frames, measure its returns, compute the sections."""
    frames = portfolio_frames_load(portfolio=portfolio, as_of=as_of)
    returns = portfolio_returns(frames)
    return snapshot_sections(
        portfolio=portfolio,
        frames=frames,
        returns=returns,
        risk_free=settings.ANALYTICS_RISK_FREE_RATE,
        confidence=CONFIDENCE,
    )


def snapshots_on_data_changed(*, portfolio_ids: Iterable[int]) -> None:
    """Mark the portfolios' older snapshots stale and request their current keys."""
    ids = list(portfolio_ids)
    for portfolio in Portfolio.objects.filter(pk__in=ids):
        AnalyticsSnapshot.objects.filter(
            portfolio=portfolio, data_version__lt=portfolio.data_version, stale=False
        ).update(stale=True)
        snapshot_request(portfolio=portfolio)


def snapshots_refresh_all(*, chunk_size: int | None = None) -> int:
    """Fan the active portfolios out in chunks, one ``analytics.snapshots_request_chunk``
    task per chunk. Returns the number of chunks sent."""
    size = chunk_size or settings.SNAPSHOT_CHUNK_SIZE
    ids = list(Portfolio.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    for chunk in chunks:
        task_send("analytics.snapshots_request_chunk", chunk)
    return len(chunks)


def snapshots_compute_chunk(*, portfolio_ids: Iterable[int]) -> None:
    """Request each portfolio's current key and compute it in this worker (the chunk is
    the unit of parallelism); keys already done are skipped."""
    for portfolio in Portfolio.objects.filter(pk__in=list(portfolio_ids)).select_related(
        "benchmark"
    ):
        snapshot = snapshot_request(portfolio=portfolio, enqueue=False)
        if snapshot is not None and snapshot.status == SnapshotStatus.PENDING:
            snapshot_compute(snapshot_id=snapshot.pk)
