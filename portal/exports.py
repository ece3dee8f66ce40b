"""Files that leave the system, written once for every export and download.

* ``cell_neutralise``: a CSV or XLSX cell that a spreadsheet would run as a
  formula (OWASP "CSV injection": it starts with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return) gets a leading apostrophe, so it shows as text.
  Numbers such as ``-12.5`` or ``+3`` are left alone: they are data, not formulas
  (unless the caller says the cell is text: then ``+3`` is a name, neutralised too).
* ``file_sha256`` / ``bytes_sha256``: the hex SHA-256 of a file or of bytes, as
  the audit trail and the checksum header record it.
* ``download_response_audited``: the response that sends a file (from disk or
  from memory) as an attachment, after writing one audit event with its format,
  size (bytes) and SHA-256, and with the checksum in two headers:
  ``X-Content-SHA256`` (hex, as in the audit event) and ``Repr-Digest``
  (RFC 9530, ``sha-256=:<base64>:``; a digest of the representation, so it
  stays true when the server compresses the transfer).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from django.db import models
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.utils.http import content_disposition_header

from portal.models import AuditAction, User
from portal.origins import RequestOrigin
from portal.services import audit_record

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SHA256_HEADER = "X-Content-SHA256"
HASH_BLOCK_BYTES = 1024 * 1024


def cell_neutralise(cell: str, *, text: bool = False) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would run it as a formula
    (see the module docstring); any other cell, numbers included, unchanged.

    ``text``: the cell belongs to a text column (an instrument's name, say), so a
    number-looking value such as ``+1`` is text too and gets the apostrophe: a
    spreadsheet would otherwise read it as the number 1 (or evaluate ``+1``). Leave
    it false where numbers arrive as strings (the admin's exports)."""
    if cell[:1] in FORMULA_PREFIXES and (text or not _is_number(cell)):
        return "'" + cell
    return cell


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def bytes_sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of the file at ``path``, read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def download_response_audited(
    *,
    content: bytes | Path,
    file_name: str,
    content_type: str,
    file_format: str,
    actor: User | None,
    origin: RequestOrigin | None = None,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
    action: AuditAction = AuditAction.EXPORT,
) -> HttpResponseBase:
    """Send ``content`` (bytes, or the file at a path, streamed) as the attachment
    ``file_name``; write one audit event (``action``: ``export.downloaded`` unless
    the file is a more specific kind, such as the audit log's own export) by
    ``actor`` about ``target`` whose details are ``details`` plus ``format``
    (``file_format``), ``size`` (bytes) and ``sha256`` (hex); set the checksum headers."""
    if isinstance(content, Path):
        size, sha256 = content.stat().st_size, file_sha256(content)
    else:
        size, sha256 = len(content), bytes_sha256(content)
    audit_record(
        actor=actor,
        action=action,
        target=target,
        origin=origin,
        details={**(details or {}), "format": file_format, "size": size, "sha256": sha256},
    )
    response: HttpResponseBase
    if isinstance(content, Path):
        response = FileResponse(
            content.open("rb"), as_attachment=True, filename=file_name, content_type=content_type
        )
    else:
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=file_name
        )
    response[SHA256_HEADER] = sha256
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:"
    return response
