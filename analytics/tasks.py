"""Thin Celery tasks for the analytics queue; each calls one service."""

from celery import shared_task
from django.db import transaction

from analytics.models import DataSource, Portfolio
from analytics.services import quality, snapshots, sources
from analytics.services.imports.upload import import_run_execute_queued
from analytics.services.positions import portfolio_positions_rebuild


@shared_task(
    name="analytics.positions_rebuild",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def positions_rebuild(portfolio_id: int) -> None:
    """Re-derive a portfolio's daily positions from its trades, flows, prices and FX.
    Safe twice: the rebuild replaces the derived rows it owns."""
    portfolio = Portfolio.objects.filter(id=portfolio_id).first()
    if portfolio is None:
        return  # deleted since the task was sent
    portfolio_positions_rebuild(portfolio=portfolio)


@shared_task(name="analytics.snapshot_compute", acks_late=True)
def snapshot_compute(snapshot_id: int) -> None:
    """Compute one stored snapshot row. Safe twice: a claimed or done row is skipped."""
    snapshots.snapshot_compute(snapshot_id=snapshot_id)


@shared_task(name="analytics.snapshots_refresh_all", acks_late=True)
def snapshots_refresh_all() -> None:
    """Nightly: fan every active portfolio out in chunks (``SNAPSHOT_CHUNK_SIZE``)."""
    snapshots.snapshots_refresh_all()


@shared_task(name="analytics.snapshots_request_chunk", acks_late=True)
def snapshots_request_chunk(portfolio_ids: list[int]) -> None:
    """Bring one chunk of portfolios' snapshots up to date; done keys cost nothing."""
    snapshots.snapshots_compute_chunk(portfolio_ids=portfolio_ids)


@shared_task(
    name="analytics.positions_rebuild_and_scan",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def positions_rebuild_and_scan(portfolio_id: int) -> None:
    """After an import changed a portfolio's inputs: re-derive its positions, then
    re-scan its data quality. The import moved the data version on without
    announcing it; the rebuild announces the final version (one snapshot, one
    evaluation). Safe twice: both replace what they own, and a second rebuild
    finds nothing to change."""
    portfolio = Portfolio.objects.filter(id=portfolio_id).first()
    if portfolio is None:
        return
    portfolio_positions_rebuild(portfolio=portfolio, inputs_changed=True)
    quality.portfolio_quality_scan(portfolio=portfolio)


@shared_task(
    name="analytics.import_run_execute",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def import_run_execute(run_id: int) -> None:
    """Import an uploaded file too large for the request. Safe twice: the run is
    claimed with a lease (``portal.leases``); a delivery that finds a live lease does
    nothing, one that finds it expired (its worker died) takes the import over."""
    import_run_execute_queued(run_id=run_id)


@shared_task(name="analytics.data_sources_poll_due", acks_late=True)
def data_sources_poll_due() -> int:
    """Beat, every minute: claim the pull sources that are due and send one fetch
    task each (after the claim commits). Safe twice: a claimed source is not due."""
    with transaction.atomic():
        claimed = sources.data_sources_claim_due()
        for source_id in claimed:
            data_source_fetch.delay_on_commit(source_id)
    return len(claimed)


@shared_task(name="analytics.data_source_fetch", bind=True, acks_late=True, max_retries=None)
def data_source_fetch(self, source_id: int, attempt: int = 1) -> None:
    """One HTTP attempt at a pull source. Transient failures (timeouts, 5xx, 429)
    are retried with exponential backoff and jitter up to the source's
    ``max_attempts``; each attempt is logged as a ``DataFetch`` row. Safe twice:
    the import behind it is idempotent by natural key."""
    source = DataSource.objects.filter(id=source_id, is_active=True).first()
    if source is None:
        return  # removed or paused since the poll was sent
    try:
        sources.data_source_fetch(source=source, attempt=attempt)
    except sources.TransientFetchError as error:
        raise self.retry(
            exc=error,
            kwargs={"source_id": source_id, "attempt": attempt + 1},
            countdown=sources.fetch_backoff_seconds(attempt),
        ) from error


@shared_task(name="analytics.data_quality_scan_all", acks_late=True)
def data_quality_scan_all() -> int:
    """Nightly: scan every instrument once, then every active portfolio (each
    scan replaces the findings and status rows it owns, so safe twice)."""
    return quality.data_quality_scan_all()


@shared_task(name="analytics.portfolio_quality_scan", acks_late=True)
def portfolio_quality_scan(portfolio_id: int) -> None:
    """Re-scan one portfolio's data quality (after reported positions arrived).
    Safe twice: the scan replaces the findings and status rows it owns."""
    portfolio = Portfolio.objects.filter(id=portfolio_id).first()
    if portfolio is not None:
        quality.portfolio_quality_scan(portfolio=portfolio)
