"""Uploaded files: small ones are imported in the request, large ones are kept
under ``MEDIA_ROOT/imports/`` and imported by the ``analytics.import_run_execute``
task (the run is created first, so a duplicated task finds it claimed)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from analytics.ingest.kinds import SPECS
from analytics.models import ImportOrigin, ImportRun, ImportStatus
from analytics.services.imports.authorisation import import_authorise
from analytics.services.imports.report import imports_folder
from analytics.services.imports.runs import data_import, import_run_create
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
    """An uploaded file: imported in the request when it is at most
    ``INGEST_INLINE_MAX_BYTES``, otherwise stored and queued (see the module
    docstring). Raises ``PermissionDenied`` as ``data_import`` does, before
    anything is stored."""
    import_authorise(spec=SPECS[kind], actor=actor)
    if (upload.size or 0) <= settings.INGEST_INLINE_MAX_BYTES:
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


def import_run_execute_queued(*, run_id: int) -> ImportRun | None:
    """Run a queued upload. Claimed with a conditional update, so a duplicated
    task does nothing; the stored file is removed once imported."""
    claimed = ImportRun.objects.filter(id=run_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING
    )
    if not claimed:
        return None
    run = ImportRun.objects.select_related("actor").get(id=run_id)
    path = Path(settings.MEDIA_ROOT) / run.stored_file
    with path.open("rb") as handle:
        run = data_import(
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
    path.unlink(missing_ok=True)
    return run
