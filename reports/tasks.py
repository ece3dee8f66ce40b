"""Thin Celery tasks for the reports queue; each calls one service."""

from celery import shared_task

from reports.services.runs import report_run_execute as run_execute


@shared_task(name="reports.report_run_execute", acks_late=True, reject_on_worker_lost=True)
def report_run_execute(run_id: int) -> None:
    """Render one requested run. Safe twice: the run is claimed with a lease
    (``portal.leases``); a delivery that finds it finished or held by a live worker
    does nothing, one that finds the lease expired (its worker died) takes it over.
    Failures are stored on the run, not raised."""
    run_execute(run_id=run_id)
