"""Thin Celery tasks for the analytics queue; each calls one service."""

from celery import shared_task

from analytics.models import Portfolio
from analytics.services import snapshots
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
    re-scan its data quality. Safe twice: both replace what they own."""
    portfolio = Portfolio.objects.filter(id=portfolio_id).first()
    if portfolio is None:
        return
    portfolio_positions_rebuild(portfolio=portfolio)
    from analytics.services.quality import portfolio_quality_scan

    portfolio_quality_scan(portfolio=portfolio)


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
    claimed pending → running, and a second delivery finds it claimed."""
    from analytics.services.imports import import_run_execute_queued

    import_run_execute_queued(run_id=run_id)
