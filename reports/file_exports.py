"""Report files as they leave the portal: the export policy, the watermark, row
counts and the multi-file ZIP with its manifest.

Every download of a run's file (the run page, the API, a delivery's signed link)
goes through :func:`report_file_download`:

* the **export policy** (``portal.export_policy``) is asked with the file's
  format and the run's block kinds; a refusal writes one ``DOWNLOAD_REFUSED``
  audit event (who, which run and file, the reason, the IP) and raises
  :class:`ExportRefused` (a ``PermissionDenied``: the portal's 403 page, or the
  API's 403 JSON with the sentence as ``detail``);
* a PDF gets the **watermark** (``reports.watermark``: the downloading user's
  name and the time on every page) when ``settings.REPORTS_PDF_WATERMARK`` is on
  or the download asks for it (``?watermark=1``); the audit event's SHA-256 and
  the checksum headers are of the stamped bytes actually sent, and
  ``stored_sha256`` keeps the digest of the stored file;
* the audit event carries ``rows`` where the file's row count is known
  (:func:`report_file_rows`).

:func:`report_run_zip_download` sends all of a run's files the user may export
as one ZIP with a ``manifest.json`` (:func:`report_run_manifest`), audited once
with the ZIP's SHA-256 and each file's entry.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBase
from django.utils import timezone

from portal.export_policy import export_refusal
from portal.exports import bytes_sha256, download_response_audited
from portal.models import AuditAction, User
from portal.origins import RequestOrigin
from portal.services import audit_record
from reports.models import ReportFile, ReportRun
from reports.renderers.base import CONTENT_TYPES
from reports.storage import report_file_content
from reports.watermark import pdf_watermark, watermark_text

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA = "portfolio-portal.export-manifest"
MANIFEST_VERSION = 1


class ExportRefused(PermissionDenied):
    """The export policy forbids this user this file; the message says why."""


def run_report_kinds(run: ReportRun) -> list[str]:
    """The block kinds of what ``run`` rendered (its version's, or its ad hoc
    definition's), each once, in report order: what the export policy's
    ``report_kind`` rules match."""
    blocks = run.version.blocks if run.version is not None else run.definition.get("blocks")
    kinds: list[str] = []
    for block in blocks or []:
        kind = block.get("kind") if isinstance(block, dict) else None
        if isinstance(kind, str) and kind not in kinds:
            kinds.append(kind)
    return kinds


def export_refused_record(
    *,
    actor: User | None,
    reason: str,
    why: str,
    target: Any = None,
    origin: RequestOrigin | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One ``DOWNLOAD_REFUSED`` audit event: ``reason`` is the kind of refusal
    (``policy``, ``expired``, ``tampered``, ``withdrawn``), ``why`` the sentence
    the person was shown."""
    audit_record(
        actor=actor,
        action=AuditAction.DOWNLOAD_REFUSED,
        target=target,
        origin=origin,
        details={**(details or {}), "reason": reason, "message": why},
    )


def report_file_refusal(*, user: Any, file: ReportFile) -> str | None:
    """The export policy's refusal of ``file`` to ``user`` (None: allowed)."""
    return export_refusal(
        user=user, file_format=file.format, report_kinds=run_report_kinds(file.run)
    )


def watermark_wanted(asked: bool = False) -> bool:
    """Whether a PDF download is stamped: always with ``REPORTS_PDF_WATERMARK``,
    else when the download asked (``?watermark=1``)."""
    return bool(settings.REPORTS_PDF_WATERMARK) or asked


def watermark_asked(query: Any) -> bool:
    """A request's ``watermark`` parameter (``1``, ``true``, ``yes``, ``on``)."""
    return str(query.get("watermark", "")).strip().lower() in ("1", "true", "yes", "on")


def downloader_name(user: Any, *, fallback: str = "") -> str:
    """How the watermark names the person: full name and username, or
    ``fallback`` (a delivery's address) for someone without an account."""
    if user is not None and user.is_authenticated:
        full = user.get_full_name()
        return f"{full} ({user.get_username()})" if full else user.get_username()
    return fallback or "an anonymous recipient"


def _stored_bytes(file: ReportFile) -> bytes:
    content = report_file_content(file)
    return content.read_bytes() if isinstance(content, Path) else content


def report_file_rows(file: ReportFile) -> int | None:
    """The number of data rows in ``file`` when its format tells: CSV (header
    rows not counted, every table of a zipped CSV summed) and JSON (every table's
    rows); None for PDF, XLSX and HTML."""
    if file.format not in ("csv", "json"):
        return None
    content = _stored_bytes(file)
    if file.format == "json":
        try:
            document = json.loads(content)
        except ValueError:
            return None
        return sum(
            len(table.get("rows") or [])
            for section in document.get("sections") or []
            for table in section.get("tables") or []
        )
    if file.name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return sum(_csv_rows(archive.read(member)) for member in archive.namelist())
    return _csv_rows(content)


def _csv_rows(content: bytes) -> int:
    records = sum(1 for _ in csv.reader(io.StringIO(content.decode("utf-8", errors="replace"))))
    return max(records - 1, 0)


def _refuse(
    *, user: Any, file: ReportFile, why: str, origin: RequestOrigin | None, extra: dict[str, Any]
) -> None:
    export_refused_record(
        actor=user,
        reason="policy",
        why=why,
        target=file.run,
        origin=origin,
        details={"run": file.run_id, "file": file.name, "format": file.format, **extra},
    )


def report_file_download(
    *,
    file: ReportFile,
    user: Any,
    origin: RequestOrigin | None,
    watermark: bool = False,
    watermark_name: str = "",
    details: dict[str, Any] | None = None,
) -> HttpResponseBase:
    """The audited download of one authorised run file, as the module describes.
    ``user`` is who downloads (None or anonymous for a signed link to an outside
    address, named by ``watermark_name`` on the stamp); ``details`` are added to
    the audit event. Raises :class:`ExportRefused` (audited) when the policy
    forbids it."""
    extra = details or {}
    why = report_file_refusal(user=user, file=file)
    if why is not None:
        _refuse(user=user, file=file, why=why, origin=origin, extra=extra)
        raise ExportRefused(why)
    content: bytes | Path = report_file_content(file)
    audited: dict[str, Any] = {"run": file.run_id, "file": file.name, **extra}
    rows = report_file_rows(file)
    if rows is not None:
        audited["rows"] = rows
    if file.format == "pdf" and watermark_wanted(watermark):
        stored = content.read_bytes() if isinstance(content, Path) else content
        content = pdf_watermark(
            stored,
            text=watermark_text(
                name=downloader_name(user, fallback=watermark_name), at=timezone.now()
            ),
        )
        audited.update(watermarked=True, stored_sha256=file.sha256)
    return download_response_audited(
        content=content,
        file_name=file.name,
        content_type=file.content_type,
        file_format=file.format,
        actor=user,
        origin=origin,
        target=file.run,
        details=audited,
    )


def _period(run: ReportRun) -> dict[str, Any]:
    data = [value for value in (run.data or {}).values() if isinstance(value, dict)]
    starts = [d["period_start"] for d in data if d.get("period_start")]
    ends = [d["period_end"] for d in data if d.get("period_end")]
    return {
        "key": run.parameters.get("period"),
        "start": min(starts) if starts else run.parameters.get("start"),
        "end": max(ends) if ends else run.parameters.get("end"),
    }


def report_run_manifest(
    *,
    run: ReportRun,
    entries: list[dict[str, Any]],
    withheld: list[dict[str, str]],
    user: Any,
    at: Any,
) -> dict[str, Any]:
    """The ``manifest.json`` of a run's ZIP: each file's ``name``, ``format``,
    ``size`` (bytes), ``sha256`` (hex, of the bytes in the ZIP), ``rows`` (None
    when unknown), ``pages`` and ``sheets``; the run, its template and version,
    portfolios, period, when it was generated, who downloaded it and when, and
    the files ``withheld`` by the export policy with the reason."""
    return {
        "format": MANIFEST_SCHEMA,
        "version": MANIFEST_VERSION,
        "run": {"id": run.pk, "title": run.title, "parameters": run.parameters},
        "template": {
            "slug": run.template.slug if run.template else None,
            "name": run.version.name if run.version else run.title,
            "version": run.version.number if run.version else None,
        },
        "portfolios": list((run.data or {}).keys()),
        "period": _period(run),
        "data_as_of": run.data_as_of.isoformat() if run.data_as_of else None,
        "generated_at": run.finished_at.isoformat() if run.finished_at else None,
        "downloaded_by": downloader_name(user),
        "downloaded_at": at.isoformat(),
        "files": entries,
        "withheld": withheld,
    }


def _zip_entries(
    files: list[ReportFile], *, user: Any, watermark: bool, at: Any
) -> Iterator[tuple[ReportFile, bytes, dict[str, Any]]]:
    for file in files:
        content = _stored_bytes(file)
        if file.format == "pdf" and watermark_wanted(watermark):
            content = pdf_watermark(content, text=watermark_text(name=downloader_name(user), at=at))
        yield (
            file,
            content,
            {
                "name": file.name,
                "format": file.format,
                "size": len(content),
                "sha256": bytes_sha256(content),
                "rows": report_file_rows(file),
                "pages": file.pages,
                "sheets": file.sheets,
            },
        )


def report_run_zip_download(
    *, run: ReportRun, user: Any, origin: RequestOrigin | None, watermark: bool = False
) -> HttpResponseBase:
    """All the files of an authorised run that ``user`` may export, as one ZIP
    (``report-<run id>.zip``) with ``manifest.json`` first; one ``EXPORT`` audit
    event for the ZIP (its size and SHA-256, and each file's entry). Files the
    export policy forbids are left out and named in the manifest's ``withheld``;
    when it forbids them all the download is refused (audited, ExportRefused).
    The ZIP is built in memory: a run's files are a report's, megabytes at most."""
    files = list(run.files.select_related("run").order_by("id"))
    allowed: list[ReportFile] = []
    withheld: list[dict[str, str]] = []
    for file in files:
        why = report_file_refusal(user=user, file=file)
        if why is None:
            allowed.append(file)
        else:
            withheld.append({"name": file.name, "format": file.format, "reason": why})
    zip_name = f"report-{run.pk}.zip"
    if not allowed:
        why = withheld[0]["reason"] if withheld else "This report run has no files to download."
        export_refused_record(
            actor=user,
            reason="policy" if withheld else "empty",
            why=why,
            target=run,
            origin=origin,
            details={"run": run.pk, "file": zip_name, "format": "zip", "withheld": withheld},
        )
        raise ExportRefused(why)
    at = timezone.now()
    buffer = io.BytesIO()
    entries: list[dict[str, Any]] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        contents = list(_zip_entries(allowed, user=user, watermark=watermark, at=at))
        entries = [entry for _, _, entry in contents]
        manifest = report_run_manifest(
            run=run, entries=entries, withheld=withheld, user=user, at=at
        )
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))
        for file, content, _ in contents:
            archive.writestr(file.name, content)
    return download_response_audited(
        content=buffer.getvalue(),
        file_name=zip_name,
        content_type=CONTENT_TYPES["zip"],
        file_format="zip",
        actor=user,
        origin=origin,
        target=run,
        details={
            "run": run.pk,
            "file": zip_name,
            "files": entries,
            "withheld": [entry["name"] for entry in withheld],
        },
    )
