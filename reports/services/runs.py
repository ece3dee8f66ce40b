"""Report runs: requested as a row, rendered by a task under a lease, stored once.

Lifecycle (see ``ReportRun`` and ``portal.leases``):

1. :func:`report_run_request` checks the request (run access to the template,
   the definition, the parameters and portfolios under the user's entitlements,
   the formats) and creates the ``queued`` row under its natural key
   ``user:<requesting user id>:<idempotency key>`` (the client's key, else a
   fresh UUID: the same request repeated with one key finds the same run). The
   row is created with a lease held by :data:`~portal.leases.RESENT`, so if its
   task never starts within one lease length the sweeper sends it again. It is
   audited ``REPORT_RUN_REQUESTED`` and the ``reports.report_run_execute`` task is
   sent once the transaction commits.
2. :func:`report_run_execute` claims it (``queued`` → ``running``, or a running
   row whose lease expired: a worker that died is taken over), keeps the lease
   while it builds the document (``reports.services.compose``), writing progress
   block by block, renders each format (``reports.renderers.RENDERERS``) into a
   temporary folder and saves each file through the storage
   (``reports.storage``). A duplicate delivery finds the row held or finished and
   does nothing.
3. Only the holder stores the outcome: ``succeeded`` with the files, data,
   data-quality summary and warnings, or ``failed`` with a readable ``error`` and
   the ``traceback``, releasing the lease in the same UPDATE. A holder that lost
   its lease stores nothing and removes the files it saved.
4. A run interrupted :data:`MAX_ATTEMPTS` times (its workers died each time) is
   failed rather than tried again for ever.

:func:`report_render_sync` is the same path without Celery (the
``render_report`` command).
"""

from __future__ import annotations

import logging
import tempfile
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from portal.export_policy import export_refusal
from portal.exports import file_sha256
from portal.leases import (
    LEASE_CLEARED,
    RESENT,
    lease_claim,
    lease_holder_name,
    lease_kept,
    lease_until,
)
from portal.models import AuditAction, User
from portal.origins import RequestOrigin
from portal.services import audit_record
from portal.task_queue import task_send, task_send_on_commit
from reports.definition import ReportDefinition, definition_clean, parameters_merge
from reports.document import Document
from reports.errors import ReportBlockFailed, ReportInvalid, ReportPermissionDenied
from reports.models import ReportFile, ReportRun, ReportTemplate, RunStatus
from reports.selectors import (
    report_template_allows,
    report_template_level,
    report_template_version_latest,
)
from reports.services.compose import definition_of, document_build, portfolios_resolve
from reports.storage import report_file_save, report_files_delete

if TYPE_CHECKING:
    from reports.renderers.base import RenderedFile

logger = logging.getLogger(__name__)

LEASE_KIND = "report_run"
"""The runs' key in ``settings.LEASE_SECONDS`` and in the lease sweeper."""
TASK = "reports.report_run_execute"
MAX_ATTEMPTS = 3
IDEMPOTENCY_KEY_MAX = 100

Renderer = Callable[..., "RenderedFile"]


class _RenderFailed(Exception):
    """A renderer raised; the message names the format."""


def renderer_get(file_format: str) -> Renderer:
    """The renderer of ``file_format`` from ``reports.renderers.RENDERERS``."""
    # The renderers package is imported when a request or run needs it, not with
    # the services: it loads WeasyPrint, openpyxl and Plotly, which a web process
    # serving pages never needs.
    from reports.renderers import RENDERERS

    return RENDERERS[file_format]


def formats_clean(formats: Sequence[str] | str | None) -> list[str]:
    """The requested formats, known and without repeats; ``ReportInvalid`` otherwise.
    A string is read as a comma-separated list."""
    from reports.renderers.base import FORMATS  # see renderer_get

    if isinstance(formats, str):
        formats = [part.strip() for part in formats.split(",") if part.strip()]
    if not formats:
        raise ReportInvalid("Choose at least one format.", field="formats")
    cleaned = []
    for file_format in formats:
        if file_format not in FORMATS:
            raise ReportInvalid(
                f"There is no format “{file_format}”; choose from: {', '.join(FORMATS)}.",
                field="formats",
            )
        if file_format not in cleaned:
            cleaned.append(file_format)
    return cleaned


def formats_allowed_check(
    *, user: User, formats: Sequence[str], blocks: Sequence[Mapping[str, Any]]
) -> None:
    """``ReportInvalid`` on ``formats`` when the export policy
    (``portal.export_policy``) forbids ``user`` one of ``formats`` for a report
    of ``blocks``: the first refusal's sentence."""
    kinds = [str(block.get("kind")) for block in blocks]
    for file_format in formats:
        refusal = export_refusal(user=user, file_format=file_format, report_kinds=kinds)
        if refusal is not None:
            raise ReportInvalid(refusal, field="formats")


def _definition_json(definition: ReportDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "description": definition.description,
        "blocks": definition.blocks,
        "layout": definition.layout,
        "parameters": definition.parameters,
    }


@transaction.atomic
def _run_create(
    *,
    user: User,
    formats: Sequence[str] | str,
    template: ReportTemplate | None,
    definition: Mapping[str, Any] | None,
    parameters: Mapping[str, Any] | None,
    idempotency_key: str | None,
    run_as: User | None,
    origin: RequestOrigin | None,
) -> tuple[ReportRun, bool]:
    if (template is None) == (definition is None):
        raise ReportInvalid("Run either a saved template or an unsaved definition.")
    if idempotency_key is not None and not (0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX):
        raise ReportInvalid(
            f"An idempotency key has 1 to {IDEMPOTENCY_KEY_MAX} characters.",
            field="idempotency_key",
        )
    key = f"user:{user.pk}:{idempotency_key or uuid.uuid4().hex}"
    existing = ReportRun.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    own_run = run_as is None
    run_as = run_as or user
    file_formats = formats_clean(formats)
    version = None
    if template is not None:
        if not report_template_allows(report_template_level(user=user, template=template), "run"):
            raise ReportPermissionDenied(
                "This template is shared with you to view only; you may not run it."
            )
        version = report_template_version_latest(template=template)
        cleaned = definition_of(version)
        stored_json: dict[str, Any] = {}
    else:
        unsaved = definition or {}  # not None: exactly one of the two was given
        cleaned = definition_clean(
            name=unsaved.get("name") or "Ad hoc report",
            description=unsaved.get("description") or "",
            blocks=unsaved.get("blocks"),
            parameters=unsaved.get("parameters"),
            layout=unsaved.get("layout"),
        )
        stored_json = _definition_json(cleaned)
    if own_run:
        # The user's own run: refuse up front a format they could not download. A
        # delivery's run (``run_as`` given) is checked per recipient by the fan-out.
        formats_allowed_check(user=user, formats=file_formats, blocks=cleaned.blocks)
    merged = parameters_merge(cleaned.parameters, parameters)
    portfolios_resolve(user=run_as, parameters=merged)  # refuses what run_as may not see
    try:
        with transaction.atomic():
            run = ReportRun.objects.create(
                key=key,
                template=template,
                version=version,
                title=cleaned.name,
                definition=stored_json,
                run_as=run_as,
                requested_by=user,
                parameters=merged,
                formats=file_formats,
                progress_total=len(cleaned.blocks) + len(file_formats),
                progress_label="Waiting for a worker",
                lease_holder=RESENT,
                lease_expires_at=lease_until(LEASE_KIND),
            )
    except IntegrityError:  # the same key, requested at the same moment
        return ReportRun.objects.get(key=key), False
    audit_record(
        actor=user,
        action=AuditAction.REPORT_RUN_REQUESTED,
        target=run,
        origin=origin,
        details={
            "template": template.slug if template else None,
            "version": version.number if version else None,
            "run_as": run_as.get_username(),
            "formats": file_formats,
            "parameters": merged,
        },
    )
    return run, True


def report_run_request(
    *,
    user: User,
    formats: Sequence[str] | str,
    template: ReportTemplate | None = None,
    definition: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    run_as: User | None = None,
    origin: RequestOrigin | None = None,
    queue: bool = True,
) -> ReportRun:
    """Queue a run of ``template`` (its latest version; ``user`` needs ``run``
    access) or of an unsaved ``definition`` (``{"name", "description", "blocks",
    "parameters", "layout"}``), with ``parameters`` overriding the template's
    (``portfolios``, ``period``, ``start``, ``end``, ``benchmark``,
    ``reporting_currency``...), rendered as ``run_as`` (default ``user``; a
    caller passing another user, such as a delivery to its recipient, has
    authorised that itself) into ``formats``. Returns the run (an existing one for a repeated
    ``idempotency_key``). With ``queue=False`` the row is created (its lease
    held by the sweeper's name as always) but its task is not sent: the caller
    renders it in-process with :func:`report_run_execute` (a scheduled delivery
    does). Raises ``ReportInvalid`` / ``ReportPermissionDenied``."""
    with transaction.atomic():
        run, created = _run_create(
            user=user,
            formats=formats,
            template=template,
            definition=definition,
            parameters=parameters,
            idempotency_key=idempotency_key,
            run_as=run_as,
            origin=origin,
        )
        if created and queue:
            task_send_on_commit(TASK, run.pk)
    return run


def report_render_sync(
    *,
    user: User,
    formats: Sequence[str] | str,
    template: ReportTemplate | None = None,
    definition: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> ReportRun:
    """Request and render a run in this process (no Celery): the same checks,
    row, audit, rendering and storage as a queued run. Returns the finished run
    (``succeeded`` or ``failed``); raises what :func:`report_run_request` raises."""
    run, _ = _run_create(
        user=user,
        formats=formats,
        template=template,
        definition=definition,
        parameters=parameters,
        idempotency_key=None,
        run_as=None,
        origin=None,
    )
    report_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def report_runs_recover(run_ids: Sequence[int]) -> None:
    """The lease sweeper's recovery of runs whose worker stopped (or whose task
    never started): send their task again; the sweeper re-armed them, so it claims
    them."""
    for run_id in run_ids:
        task_send(TASK, run_id)


def _held(run_id: int) -> QuerySet[ReportRun]:
    return ReportRun.objects.filter(pk=run_id, lease_holder=lease_holder_name())


def report_run_execute(*, run_id: int) -> ReportRun | None:
    """Render a queued run (or take over one whose lease expired); None when it
    could not be claimed (finished, or a live worker holds it). See the module."""
    claimed = lease_claim(
        ReportRun.objects.filter(pk=run_id),
        free=Q(status=RunStatus.QUEUED),
        kind=LEASE_KIND,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        progress_done=0,
        progress_label="Starting",
    )
    if not claimed:
        return None
    run = ReportRun.objects.select_related(
        "template", "version__template", "run_as", "requested_by"
    ).get(pk=run_id)
    if run.attempts > MAX_ATTEMPTS:
        _store_failure(
            run=run,
            message=f"The report was interrupted {MAX_ATTEMPTS} times and was not finished.",
            details="",
        )
        return run
    with (
        tempfile.TemporaryDirectory(prefix="report-run-") as folder,
        lease_kept(ReportRun.objects.filter(pk=run_id), kind=LEASE_KIND) as lease,
    ):
        outcome: tuple[Document, list[RenderedFile]] | None = None
        message = details = ""
        try:
            outcome = _render(run=run, directory=Path(folder))
        except (ReportBlockFailed, ReportInvalid, ReportPermissionDenied, _RenderFailed) as error:
            logger.warning("report run %s failed: %s", run_id, error)
            message, details = str(error), traceback.format_exc()
        except Exception as error:  # stored on the run for the user and admins
            logger.exception("report run %s failed", run_id)
            message = f"The report could not be built: {error or type(error).__name__}"
            details = traceback.format_exc()
        if lease.lost:
            logger.warning("report run %s was taken over by another worker", run_id)
            return run
        if outcome is not None:
            try:
                _store_success(run=run, files=outcome[1])
            except Exception as error:  # the storage refused the files
                logger.exception("report run %s: storing its files failed", run_id)
                message = f"The report's files could not be stored: {error or type(error).__name__}"
                details, outcome = traceback.format_exc(), None
        if outcome is None:
            _store_failure(run=run, message=message, details=details)
    run.refresh_from_db()
    return run


def _render(*, run: ReportRun, directory: Path) -> tuple[Document, list[RenderedFile]]:
    held = _held(run.pk)
    # Access is checked again when the run renders: a share revoked since the
    # request stops it (entitlements to portfolios are applied by compose).
    requester = run.requested_by or run.run_as
    if run.template is not None and not report_template_allows(
        report_template_level(user=requester, template=run.template), "run"
    ):
        raise ReportPermissionDenied(f"{requester.get_username()} may no longer run this template.")
    blocks = len(run.version.blocks if run.version else run.definition.get("blocks", []))

    def progress(done: int, total: int, title: str) -> None:
        label = f"Building “{title}”" if title else "Rendering"
        held.update(
            progress_done=done, progress_total=total + len(run.formats), progress_label=label
        )

    if run.version is not None:
        source: Any = run.version
    else:
        stored = run.definition
        source = ReportDefinition(
            name=stored["name"],
            description=stored.get("description", ""),
            blocks=stored["blocks"],
            parameters=stored.get("parameters", {}),
            layout=stored.get("layout", {}),
        )
    document = document_build(
        version_or_definition=source,
        user=run.run_as,
        parameters=run.parameters,
        run=run,
        on_block=progress,
    )
    files = []
    warnings = list(document.warnings)
    for done, file_format in enumerate(run.formats, start=blocks):
        held.update(progress_done=done, progress_label=f"Rendering {file_format.upper()}")
        try:
            rendered = renderer_get(file_format)(document, directory=directory)
        except Exception as error:
            raise _RenderFailed(
                f"Rendering the {file_format.upper()} file failed: {error or type(error).__name__}"
            ) from error
        files.append(rendered)
        warnings.extend(w for w in rendered.warnings if w not in warnings)
    run.warnings = warnings
    run.incomplete = list(document.incomplete)
    return document, files


def _store_success(*, run: ReportRun, files: list[RenderedFile]) -> bool:
    """Save the files and store ``succeeded``; False (and nothing kept) when this
    process no longer holds the lease."""
    saved: list[tuple[RenderedFile, str, int, str]] = []
    for rendered in files:
        name = report_file_save(run_id=run.pk, attempt=run.attempts, path=rendered.path)
        saved.append((rendered, name, rendered.path.stat().st_size, file_sha256(rendered.path)))
    with transaction.atomic():
        if _held(run.pk).select_for_update().first() is None:
            report_files_delete(name for _, name, _, _ in saved)
            logger.warning("report run %s was taken over by another worker", run.pk)
            return False
        ReportFile.objects.filter(run_id=run.pk).delete()
        ReportFile.objects.bulk_create(
            ReportFile(
                run_id=run.pk,
                name=rendered.name,
                format=rendered.format,
                storage_name=name,
                content_type=rendered.content_type,
                size=size,
                sha256=sha256,
                pages=rendered.pages,
                sheets=rendered.sheets,
            )
            for rendered, name, size, sha256 in saved
        )
        _held(run.pk).update(
            status=RunStatus.SUCCEEDED,
            finished_at=timezone.now(),
            progress_done=F("progress_total"),
            progress_label="",
            data=run.data,
            data_as_of=run.data_as_of,
            quality=run.quality,
            warnings=run.warnings,
            incomplete=run.incomplete,
            error="",
            traceback="",
            **LEASE_CLEARED,
        )
    return True


def _store_failure(*, run: ReportRun, message: str, details: str) -> bool:
    """Store ``failed`` with the message and traceback; False when this process no
    longer holds the lease."""
    return bool(
        _held(run.pk).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            progress_label="",
            data=run.data,
            data_as_of=run.data_as_of,
            quality=run.quality,
            error=message,
            traceback=details,
            **LEASE_CLEARED,
        )
    )
