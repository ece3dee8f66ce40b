"""Thin Celery tasks for the reports queue; each calls one service."""

from celery import shared_task

from reports.services import deliveries, dispatch
from reports.services.runs import report_run_execute as run_execute


@shared_task(name="reports.report_run_execute", acks_late=True, reject_on_worker_lost=True)
def report_run_execute(run_id: int) -> None:
    """Render one requested run. Safe twice: the run is claimed with a lease
    (``portal.leases``); a delivery that finds it finished or held by a live worker
    does nothing, one that finds the lease expired (its worker died) takes it over.
    Failures are stored on the run, not raised."""
    run_execute(run_id=run_id)


@shared_task(name="reports.schedules_dispatch", acks_late=True, reject_on_worker_lost=True)
def schedules_dispatch() -> int:
    """Start every due schedule slot once (beat, every minute). Safe twice: each
    slot is claimed by a conditional UPDATE of its schedule's ``next_run_at``, so
    a second beat or a redelivered task finds it claimed and starts nothing."""
    return dispatch.schedules_dispatch()


@shared_task(name="reports.occurrence_advance", acks_late=True, reject_on_worker_lost=True)
def occurrence_advance(occurrence_id: int) -> None:
    """Check one slot's data and fan it out, hold it, or leave it waiting. Safe
    twice: the slot is claimed under a lease while waiting, and a slot that moved
    on is left alone."""
    dispatch.occurrence_advance(occurrence_id=occurrence_id)


def _delivery_task_failed(self, exc, task_id, args, kwargs, einfo) -> None:
    delivery_id = args[0] if args else kwargs["delivery_id"]
    deliveries.delivery_task_failed(delivery_id=delivery_id, error=repr(exc))


@shared_task(
    name="reports.deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    on_failure=_delivery_task_failed,
)
def deliver(delivery_id: int) -> None:
    """Send one delivery (routed to the ``delivery`` queue). Safe twice: it is
    claimed under a lease, so a redelivered or duplicated task finds it held or
    sent and sends nothing; its retries are its own (the delivery is queued again
    with a countdown below the broker's visibility timeout), not Celery's."""
    deliveries.delivery_execute(delivery_id=delivery_id)
