"""Analytics snapshots: load a portfolio's frames, compute the sections, store the result.

Load → compute → store: ``snapshot_result_compute`` loads the frames
(:mod:`.frames`, through the shared loader :mod:`analytics.selectors.frames`) and
computes the returns and sections (:mod:`.returns`, :mod:`.sections`);
``snapshot_compute`` claims the row, calls it and stores the result or the failure.

Lifecycle (see ``AnalyticsSnapshot`` and ``portal.leases``):

1. ``snapshot_request`` creates the ``pending`` row for the portfolio's current key
   (latest valuation date, ``data_version``) and sends ``analytics.snapshot_compute``
   once the transaction commits. Requesting an existing key sends nothing, except
   for a ``failed`` row, which is retried, and a ``running`` row whose holder
   stopped (its lease expired, or the sweeper re-sent it), which is re-sent at once.
   A row running under a live lease sends nothing.
2. The task claims the row with a lease of ``LEASE_SECONDS["snapshot"]``
   (``pending`` → ``running``, or a ``running`` row nobody holds any more), keeps
   the lease while it computes, and stores ``done`` or ``failed`` with the error,
   releasing the lease in the same UPDATE, only if it still holds the lease (a
   holder that lost it stores nothing: the row belongs to whoever took it over).
   A duplicate delivery finds the row held or done and does nothing.
3. A worker killed mid-compute leaves the row ``running`` with a lease that stops
   being renewed; once it expires the ``portal.leases_sweep`` beat job re-sends the
   task (``snapshots_recover``), and a refresh or the nightly job takes it over too.
4. When a portfolio's data changes (``portfolio_data_changed``), its snapshots are
   marked stale and a new key is requested.
5. A nightly beat job requests the current key of every active portfolio in
   chunks of ``SNAPSHOT_CHUNK_SIZE`` (one task per chunk), so N workers finish
   about N times sooner; keys already ``done`` or held by a live worker cost
   nothing, and rows whose holder stopped are taken over.

Sections of ``result``: ``data`` (valuations, gaps), ``series``, ``metrics``,
``period_returns``, ``calendar``, ``drawdowns``, ``rolling``, ``var``,
``exposures``, ``attribution``, ``factors`` and ``risk_values``. A section that the
data cannot support holds ``{"available": false, "reason": ...}``.
"""

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from analytics.models import AnalyticsSnapshot, Portfolio, SnapshotStatus
from analytics.selectors.portfolios import portfolio_latest_position_date
from analytics.services.snapshots.frames import portfolio_frames_load
from analytics.services.snapshots.returns import portfolio_returns
from analytics.services.snapshots.sections import snapshot_sections
from portal.leases import (
    LEASE_CLEARED,
    RESENT,
    lease_claim,
    lease_holder_name,
    lease_kept,
    lease_lapsed,
    lease_until,
)
from portal.task_queue import task_send, task_send_on_commit

logger = logging.getLogger(__name__)

LEASE_KIND = "snapshot"
"""The snapshots' key in ``settings.LEASE_SECONDS`` and in the lease sweeper."""
CONFIDENCE = 0.95

# A ``running`` row that no live worker holds: its lease expired, the sweeper
# re-sent it, or it has no lease at all (claimed before leases existed).
_UNHELD = Q(lease_expires_at__isnull=True) | Q(lease_holder=RESENT)


def portfolio_as_of(*, portfolio: Portfolio) -> dt.date | None:
    """The as-of date of the portfolio's current snapshot key: its latest date with
    derived positions, or None."""
    return portfolio_latest_position_date(portfolio=portfolio)


def snapshot_request(
    *, portfolio: Portfolio, enqueue: bool = True, as_of: dt.date | None = None
) -> AnalyticsSnapshot | None:
    """The snapshot row of ``portfolio``'s current key, queued for computing if new,
    failed, or running with no live holder (unless ``enqueue`` is false: the caller
    computes it). With ``as_of``, the key of the portfolio's latest date with
    positions on or before it, at the current data version (a page asking for a
    past date). None when the portfolio has no positions (by then)."""
    as_of = (
        portfolio_as_of(portfolio=portfolio)
        if as_of is None
        else portfolio_latest_position_date(portfolio=portfolio, on_or_before=as_of)
    )
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
        resend = enqueue and not created and _resend_if_unheld(snapshot_id=snapshot.pk)
        if (created or retry or resend) and enqueue:
            task_send_on_commit("analytics.snapshot_compute", snapshot.pk)
    return snapshot


def _resend_if_unheld(*, snapshot_id: int) -> bool:
    """Re-arm a ``running`` row that no live worker holds under :data:`RESENT` for
    one lease length, as the sweeper does, so the task about to be sent claims it
    and requests that follow within the lease send nothing more. False when the
    row is not running or a live worker holds it."""
    return bool(
        AnalyticsSnapshot.objects.filter(
            lease_lapsed() | _UNHELD, pk=snapshot_id, status=SnapshotStatus.RUNNING
        ).update(lease_holder=RESENT, lease_expires_at=lease_until(LEASE_KIND))
    )


def snapshots_recover(snapshot_ids: Sequence[int]) -> None:
    """The lease sweeper's recovery of snapshots whose worker stopped: send their
    task again (the sweeper has re-armed them, so the task claims them)."""
    for snapshot_id in snapshot_ids:
        task_send("analytics.snapshot_compute", snapshot_id)


def _claim(snapshot_id: int) -> bool:
    """Take the row with a lease if it is pending or nobody holds it any more."""
    free = Q(status=SnapshotStatus.PENDING) | Q(_UNHELD, status=SnapshotStatus.RUNNING)
    return bool(
        lease_claim(
            AnalyticsSnapshot.objects.filter(pk=snapshot_id),
            free=free,
            kind=LEASE_KIND,
            status=SnapshotStatus.RUNNING,
            started_at=timezone.now(),
        )
    )


def snapshot_compute(*, snapshot_id: int) -> AnalyticsSnapshot | None:
    """Compute and store one snapshot; does nothing unless the row can be claimed
    (it is pending, or running with no live holder). A failure is stored on the
    row (status ``failed`` and the error), not raised. The outcome is stored only
    while this process holds the lease; a holder that lost it stores nothing."""
    if not _claim(snapshot_id):
        return None
    snapshot = AnalyticsSnapshot.objects.select_related("portfolio__benchmark").get(pk=snapshot_id)
    error: Exception | None = None
    result: dict = {}
    with lease_kept(AnalyticsSnapshot.objects.filter(pk=snapshot_id), kind=LEASE_KIND):
        try:
            result = snapshot_result_compute(portfolio=snapshot.portfolio, as_of=snapshot.as_of)
        except Exception as failure:  # stored on the row for users and the nightly retry
            logger.exception("snapshot %s failed", snapshot_id)
            error = failure
    stored = (
        _store_failure(snapshot_id=snapshot_id, error=error)
        if error is not None
        else _store_result(snapshot=snapshot, result=result)
    )
    if not stored:
        logger.warning("snapshot %s was taken over by another worker; not stored", snapshot_id)
    snapshot.refresh_from_db()
    return snapshot


def _held_by_this_process(snapshot_id: int) -> QuerySet[AnalyticsSnapshot]:
    return AnalyticsSnapshot.objects.filter(pk=snapshot_id, lease_holder=lease_holder_name())


def _store_failure(*, snapshot_id: int, error: Exception) -> bool:
    """Store ``failed`` with the error and release the lease; False (nothing
    stored) when this process no longer holds the lease."""
    return bool(
        _held_by_this_process(snapshot_id).update(
            status=SnapshotStatus.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
            **LEASE_CLEARED,
        )
    )


def _store_result(*, snapshot: AnalyticsSnapshot, result: dict) -> bool:
    """Store ``done`` with the result, stale if the portfolio's data moved on
    meanwhile, and release the lease; False (nothing stored) when this process no
    longer holds the lease."""
    current = Portfolio.objects.values_list("data_version", flat=True).get(pk=snapshot.portfolio_id)
    return bool(
        _held_by_this_process(snapshot.pk).update(
            status=SnapshotStatus.DONE,
            result=result,
            finished_at=timezone.now(),
            error="",
            stale=current != snapshot.data_version,
            **LEASE_CLEARED,
        )
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
    the unit of parallelism): pending keys, and running ones whose worker stopped
    (the claim takes over an expired lease and skips a live one); done keys are
    skipped."""
    for portfolio in Portfolio.objects.filter(pk__in=list(portfolio_ids)).select_related(
        "benchmark"
    ):
        snapshot = snapshot_request(portfolio=portfolio, enqueue=False)
        if snapshot is not None and snapshot.status in (
            SnapshotStatus.PENDING,
            SnapshotStatus.RUNNING,
        ):
            snapshot_compute(snapshot_id=snapshot.pk)
