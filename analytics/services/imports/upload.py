"""Uploaded files: small ones are imported in the request, large ones are kept
under ``MEDIA_ROOT/imports/`` and imported by the ``analytics.import_run_execute``
task (the run is created first, so a duplicated task finds it claimed). What is
small is the content, not the upload: a workbook is a zip, and a small one can
expand to gigabytes, so it is measured by its parts' uncompressed sizes. The task
claims the run with a lease; a worker that dies half way loses it, and the
redelivered task or the lease sweeper (``recovery``) imports the kept file again.
The file is removed once the run has finished."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q

from analytics.ingest.kinds import SPECS
from analytics.ingest.xlsx import xlsx_expanded_bytes
from analytics.models import ImportOrigin, ImportRun, ImportStatus
from analytics.services.imports.authorisation import import_authorise
from analytics.services.imports.recovery import UNFINISHED, import_runs_fail
from analytics.services.imports.report import imports_folder
from analytics.services.imports.runs import (
    IMPORT_LEASE,
    ImportLeaseLost,
    data_import,
    import_run_create,
)
from portal.leases import lease_claim, lease_holder_name
from portal.models import User
from portal.origins import RequestOrigin
from portal.task_queue import task_send_on_commit


def import_upload(
    *,
    kind: str,
    upload: UploadedFile,
    file_format: str,
    source: str,
    actor: User,
    dry_run: bool = False,
    skip_invalid: bool = False,
    request_origin: RequestOrigin | None = None,
) -> ImportRun:
    """An uploaded file: imported in the request when its content is at most
    ``INGEST_INLINE_MAX_BYTES`` (``_inline_bytes``), otherwise stored and queued
    (see the module docstring), so no request parses a large or expanding file.
    Raises ``PermissionDenied`` as ``data_import`` does, before anything is
    stored."""
    import_authorise(spec=SPECS[kind], actor=actor)
    content = _inline_bytes(upload, file_format=file_format)
    if content is not None and content <= settings.INGEST_INLINE_MAX_BYTES:
        return data_import(
            kind=kind,
            stream=upload.file,
            file_name=upload.name or "",
            file_format=file_format,
            source=source,
            actor=actor,
            origin=ImportOrigin.UPLOAD,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            request_origin=request_origin,
        )
    with transaction.atomic():
        run = import_run_create(
            kind=kind,
            origin=ImportOrigin.UPLOAD,
            source=source,
            actor=actor,
            file_name=upload.name or "",
            file_format=file_format,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
        stored = imports_folder() / f"import-{run.pk}.{file_format}"
        with stored.open("wb") as handle:
            for block in upload.chunks():
                handle.write(block)
        run.stored_file = str(stored.relative_to(settings.MEDIA_ROOT))
        run.file_size = upload.size or 0
        run.save(update_fields=["stored_file", "file_size"])
        task_send_on_commit("analytics.import_run_execute", run.pk)
    return run


def _inline_bytes(upload: UploadedFile, *, file_format: str) -> int | None:
    """How much the request would parse: the upload's size, or for a workbook the
    larger of that and its parts uncompressed (``xlsx_expanded_bytes``; a file
    that is no zip is refused at once by the reader). None when unknown."""
    if upload.size is None:
        return None
    if file_format != "xlsx":
        return upload.size
    stream = upload.file
    if stream is None:
        return None
    return max(upload.size, xlsx_expanded_bytes(stream) or 0)


def import_run_execute_queued(*, run_id: int) -> ImportRun | None:
    """Run a queued upload, once (the rules are in ``portal.leases``). The run is
    claimed with an ``import`` lease when it is pending, or running under a lease
    that expired or that the sweeper re-sent: its worker died, and the data
    transaction of that attempt rolled back, so the kept file is imported again
    from the start. A duplicated task that finds a live lease does nothing and
    returns None. ``data_import`` keeps the lease while it runs and releases it
    with the final status; the kept file is removed once the run has finished,
    whoever finished it."""
    claimed = lease_claim(
        ImportRun.objects.filter(id=run_id, status__in=UNFINISHED),
        free=Q(status=ImportStatus.PENDING),
        kind=IMPORT_LEASE,
        status=ImportStatus.RUNNING,
    )
    if not claimed:
        return None
    run = ImportRun.objects.select_related("actor").get(id=run_id)
    path = Path(settings.MEDIA_ROOT) / run.stored_file
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        import_runs_fail(
            ImportRun.objects.filter(id=run_id, lease_holder=lease_holder_name()),
            message="Nothing imported: the uploaded file is no longer kept. Upload it again.",
        )
        return None
    try:
        with handle:
            return data_import(
                kind=run.kind,
                stream=handle,
                file_name=run.file_name,
                file_format=run.file_format,
                source=run.source,
                actor=run.actor,
                origin=run.origin,
                dry_run=run.dry_run,
                skip_invalid=run.skip_invalid,
                run=run,
            )
    except ImportLeaseLost:
        return None  # another worker took the run over; it finishes the import
    finally:
        if not ImportRun.objects.filter(id=run_id, status__in=UNFINISHED).exists():
            path.unlink(missing_ok=True)
