"""Imports whose process ended before they finished, recovered by the lease
sweeper (``portal.leases``; the kind ``"import"``, registered in
``AnalyticsConfig.ready``).

Every running import holds a lease (``runs.IMPORT_LEASE``) that its process
renews. When the process dies (a SIGKILLed worker child, a command killed half
way, a web process that went down with a request in it), the import's data
transaction rolls back, so nothing of it was stored, and its lease expires. The
sweeper then hands the run here:

* a **queued upload** (its file is kept under ``MEDIA_ROOT``, ``stored_file``) is
  sent to ``analytics.import_run_execute`` again; the task takes the lease over
  and imports the kept file from the start;
* **any other run** (command line, in-request upload, push, pull) cannot be
  redone here, its input lived in the dead process: it is marked failed with
  ``STOPPED_MESSAGE``, which is true because its transaction rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from django.utils import timezone

from analytics.models import ImportRun, ImportStatus
from portal.leases import LEASE_CLEARED, RESENT
from portal.task_queue import task_send

STOPPED_MESSAGE = (
    "The import stopped before finishing (its process ended); nothing was imported. Run it again."
)

UNFINISHED = (ImportStatus.PENDING, ImportStatus.RUNNING)


def import_runs_fail(runs: QuerySet[ImportRun], *, message: str) -> int:
    """Finish the unfinished ``runs`` as failed with ``message`` (nothing of them
    was committed) and release their leases; returns how many were failed."""
    return runs.filter(status__in=UNFINISHED).update(
        status=ImportStatus.FAILED, message=message, finished_at=timezone.now(), **LEASE_CLEARED
    )


def import_runs_recover(run_ids: Sequence[int]) -> None:
    """The sweeper's recovery of the runs ``run_ids`` whose lease expired (see the
    module docstring): queued uploads are sent again, the others failed."""
    resent = ImportRun.objects.filter(pk__in=run_ids, lease_holder=RESENT, status__in=UNFINISHED)
    queued = list(resent.exclude(stored_file="").values_list("pk", flat=True))
    import_runs_fail(resent.filter(stored_file=""), message=STOPPED_MESSAGE)
    for run_id in queued:
        task_send("analytics.import_run_execute", run_id)
