"""Tabular API endpoints: one answer in JSON, CSV, XLSX or Parquet.

An endpoint whose answer is a table (holdings, values, trades, analytics series,
alerts, data-quality findings, audit events) mixes in ``TabularApiMixin`` and,
when ``wants_file(request)``, returns ``tabular_file_response(...)`` instead of
its JSON. The format is chosen by DRF's content negotiation: the ``Accept``
header (``text/csv``, the XLSX and Parquet media types, ``application/json``) or
the ``?format=`` parameter (``json``, ``csv``, ``xlsx``, ``parquet``; it wins
over ``Accept``). An unknown ``format`` is a 400 naming the field. JSON keeps
the endpoint's own shape and paging; a file holds every row the filters select.

A file (``portal.api_renderers``):

* is refused first when the export policy says so
  (``portal.export_policy.export_refusal``): 403 ``{"detail": <why>}`` and an
  ``export.refused`` (``DOWNLOAD_REFUSED``) audit event;
* is sent as the attachment ``<stem>.<ext>``; XLSX and Parquet are built in a
  temporary file (constant memory) and sent from it; CSV is built in memory up to
  ``settings.API_STREAM_ROWS`` rows (default 10,000) and streamed beyond;
* writes one ``export.downloaded`` (``AuditAction.EXPORT``) audit event, the
  same action as every other file download, with ``data`` (what was read),
  ``format``, ``size`` (bytes), ``sha256`` (hex), ``rows``, ``streamed`` and the
  filters, about the portfolio when there is one. JSON pulls keep their
  ``api.read`` event;
* carries ``X-Content-SHA256`` and ``Repr-Digest`` when not streamed. A streamed
  CSV's checksum is known only once its last byte has gone: it is recorded in the
  audit event written when the stream ends (``completed`` false, with the bytes
  sent so far, when the client went away first), never in a header.

Errors of a tabular endpoint (400, 403, 404) always answer JSON, whatever format
was asked for.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.http import FileResponse, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api_renderers import (
    FILE_FORMATS,
    XLSX_MAX_ROWS,
    Column,
    CSVRenderer,
    ParquetRenderer,
    Table,
    TabularRenderer,
    XLSXRenderer,
)
from portal.authenticated import AuthenticatedRequest
from portal.export_policy import export_refusal
from portal.exports import SHA256_HEADER, bytes_sha256, file_sha256
from portal.models import AuditAction
from portal.origins import RequestOrigin
from portal.services import audit_record

__all__ = [
    "FORMAT_PARAMETER",
    "Column",
    "Table",
    "TabularApiMixin",
    "tabular_file_response",
    "tabular_responses",
    "wants_file",
]

TABULAR_RENDERERS = (JSONRenderer, BrowsableAPIRenderer, CSVRenderer, XLSXRenderer, ParquetRenderer)
FORMATS = ("json", *FILE_FORMATS)
DEFAULT_STREAM_ROWS = 10_000

FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    enum=list(FORMATS),
    description=(
        "json (default; paged), or a file of every row: csv, xlsx or parquet. "
        "The Accept header chooses the same way; this parameter wins."
    ),
)


def tabular_responses(json_response: Any) -> dict[Any, Any]:
    """drf-spectacular ``responses`` of a tabular endpoint: ``json_response`` as
    JSON, the files as binary strings, and the export policy's 403."""
    return {
        (200, JSONRenderer.media_type): json_response,
        **{(200, renderer.media_type): OpenApiTypes.BINARY for renderer in TABULAR_RENDERERS[2:]},
        (403, JSONRenderer.media_type): OpenApiTypes.OBJECT,
    }


class TabularContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation by ``Accept``, except that ``?format=`` wins whatever
    ``Accept`` says, and an unknown one is a 400 naming ``format`` (not DRF's 404)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        requested = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if not requested:
            return super().select_renderer(request, renderers, format_suffix)
        for renderer in renderers:
            if renderer.format == requested:
                # The parameter wins over Accept (DRF would answer 406 to a
                # client that sends Accept: text/csv with ?format=json).
                return renderer, renderer.media_type
        raise ValidationError({"format": f"must be one of {', '.join(FORMATS)}; got {requested!r}"})


class TabularApiMixin:
    """Put first in a tabular API view's bases: JSON, the browsable API and the
    file renderers; errors answered JSON whatever format was asked for."""

    renderer_classes: Sequence[type[BaseRenderer]] = TABULAR_RENDERERS
    content_negotiation_class: type[BaseContentNegotiation] = TabularContentNegotiation

    def finalize_response(self, request, response, *args, **kwargs):
        if (
            isinstance(response, Response)
            and response.status_code >= 400
            and isinstance(getattr(request, "accepted_renderer", None), TabularRenderer)
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def wants_file(request: Request) -> bool:
    """Whether the negotiated format is a file (csv, xlsx, parquet)."""
    return isinstance(getattr(request, "accepted_renderer", None), TabularRenderer)


def _stream_rows() -> int:
    return int(getattr(settings, "API_STREAM_ROWS", DEFAULT_STREAM_ROWS))


def _row_count(rows: Iterable[Any]) -> int:
    if isinstance(rows, models.QuerySet):
        return rows.count()
    return len(rows)  # type: ignore[arg-type]


def _rows_once(rows: Iterable[Any]) -> Iterable[Any]:
    # A queryset is read in chunks, not cached whole: constant memory.
    if isinstance(rows, models.QuerySet):
        return rows.iterator(chunk_size=2000)
    return rows


def _checksum_headers(response: HttpResponseBase, sha256: str) -> None:
    response[SHA256_HEADER] = sha256
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:"


def tabular_file_response(
    *,
    request: AuthenticatedRequest,
    table: Table,
    data: str,
    file_stem: str,
    target: models.Model | None = None,
    portfolio: models.Model | int | None = None,
    details: dict[str, Any] | None = None,
    action: AuditAction = AuditAction.EXPORT,
) -> HttpResponseBase:
    """The file of ``table`` in the negotiated format (see the module docstring):
    refused by the export policy, or sent and audited (``action``) as ``data`` of
    ``target`` / ``portfolio`` with ``details`` (the filters that shaped it)."""
    renderer = request.accepted_renderer
    if not isinstance(renderer, TabularRenderer):
        raise TypeError("tabular_file_response needs a file format: check wants_file first")
    file_format = renderer.file_format
    origin = RequestOrigin.of(request)
    context = {**(details or {}), "data": data, "format": file_format}

    def audited(event_action: AuditAction, event: dict[str, Any]) -> None:
        audit_record(
            actor=request.user,
            action=event_action,
            target=target,
            portfolio=portfolio,
            origin=origin,
            details=event,
        )

    refusal = export_refusal(user=request.user, file_format=file_format)
    if refusal is not None:
        audited(AuditAction.DOWNLOAD_REFUSED, {**context, "reason": refusal})
        return Response({"detail": refusal}, status=403)
    rows = _row_count(table.rows)
    if file_format == "xlsx" and rows > XLSX_MAX_ROWS:
        raise ValidationError(
            {"format": f"{rows:,} rows do not fit in one Excel sheet; ask for csv or parquet."}
        )
    table = Table(columns=table.columns, rows=_rows_once(table.rows), sheet=table.sheet)
    file_name = f"{file_stem}.{renderer.extension}"
    content_type = (
        f"{renderer.media_type}; charset={renderer.charset}"
        if renderer.charset
        else renderer.media_type
    )

    def record(*, size: int, sha256: str, streamed: bool = False, completed: bool = True) -> None:
        event = {**context, "size": size, "sha256": sha256, "rows": rows, "streamed": streamed}
        if not completed:
            event["completed"] = False
        audited(action, event)

    response: HttpResponseBase
    if isinstance(renderer, CSVRenderer) and rows > _stream_rows():
        response = StreamingHttpResponse(
            _hashed(renderer.chunks(table), record), content_type=content_type
        )
    elif isinstance(renderer, CSVRenderer):
        content = b"".join(renderer.chunks(table))
        sha256 = bytes_sha256(content)
        record(size=len(content), sha256=sha256)
        response = HttpResponse(content, content_type=content_type)
        _checksum_headers(response, sha256)
    else:
        response = _from_temporary_file(renderer, table, content_type, record)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=file_name
    )
    return response


Recorder = Callable[..., None]


def _hashed(chunks: Iterator[bytes], record: Recorder) -> Iterator[bytes]:
    """``chunks`` passed on while hashed; ``record`` called once at the end with
    the size and SHA-256 of what was sent (``completed`` false when cut short)."""
    digest, size, completed = hashlib.sha256(), 0, False
    try:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        completed = True
    finally:
        record(size=size, sha256=digest.hexdigest(), streamed=True, completed=completed)


def _from_temporary_file(
    renderer: TabularRenderer, table: Table, content_type: str, record: Recorder
) -> HttpResponseBase:
    handle, name = tempfile.mkstemp(suffix=f".{renderer.extension}")
    os.close(handle)
    path = Path(name)
    try:
        renderer.write(table, path)
        sha256 = file_sha256(path)
        size = path.stat().st_size
        record(size=size, sha256=sha256)
        # The open handle keeps the data readable after the name is removed.
        response = FileResponse(path.open("rb"), content_type=content_type)
    finally:
        path.unlink()
    _checksum_headers(response, sha256)
    return response
