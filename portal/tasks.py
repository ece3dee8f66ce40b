"""The portal's own periodic jobs."""

from celery import shared_task

from portal.leases import leases_sweep


@shared_task(name="portal.leases_sweep", ignore_result=True)
def leases_sweep_task() -> dict[str, int]:
    """Recover the work whose lease expired with no live holder (see ``portal.leases``)."""
    return leases_sweep()
