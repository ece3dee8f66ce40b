"""What an uploaded import file may be, checked before a byte of it is parsed or
kept (``upload_check``).

* Size: a file over ``INGEST_UPLOAD_MAX_BYTES`` is refused (HTTP 413) whatever
  its content; workbooks are further capped part by part as they are read
  (``analytics.ingest.xlsx``: defusedxml and uncompressed-size caps).
* Name: it must end ``.csv``, ``.xlsx`` (``.xlsm``) or ``.json``, the formats the
  importer reads, and agree with the ``format`` field when one is given.
* Content type: the one the client declared must be generic (none,
  ``application/octet-stream``, ``text/plain``: what clients send when they do
  not know) or one of the format's own (``FORMAT_CONTENT_TYPES``); an HTML page,
  an image or a program is refused whatever its name says.
* First bytes: a workbook is a zip file (``PK\\x03\\x04``), and a CSV or JSON file
  is not one (a workbook renamed ``.csv``).

Every refusal is an ``UploadRefused`` whose message names the problem and what
would be accepted.

The admin's import (django-import-export) reads files through ``ADMIN_IMPORT_FORMATS``:
CSV, XLSX and JSON only, each refused over ``INGEST_UPLOAD_MAX_BYTES``, and a
workbook read by the same bounded reader as every other import (openpyxl alone
would expand a shared-strings bomb in memory).
"""

from __future__ import annotations

import io
from http import HTTPStatus

import tablib
from django.conf import settings
from import_export.formats import base_formats

from analytics.ingest.limits import ReadLimits, megabytes
from analytics.ingest.xlsx import xlsx_rows

FORMAT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "xlsx": (".xlsx", ".xlsm"),
    "json": (".json",),
}
FORMAT_CONTENT_TYPES: dict[str, frozenset[str]] = {
    "csv": frozenset(
        {"text/csv", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel"}
    ),
    "xlsx": frozenset(
        {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-excel.sheet.macroenabled.12",
            "application/zip",
            "application/x-zip-compressed",
        }
    ),
    "json": frozenset({"application/json", "text/json"}),
}
GENERIC_CONTENT_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "text/plain"}
)
ZIP_MAGIC = b"PK\x03\x04"
ACCEPTED_NAMES = ", ".join(ext for exts in FORMAT_EXTENSIONS.values() for ext in exts)


class UploadRefused(Exception):
    """An upload refused before it was read; ``status`` is 413 for a file too
    large, else 400. The message is for the user."""

    def __init__(self, message: str, *, status: int = HTTPStatus.BAD_REQUEST):
        super().__init__(message)
        self.status = status


def too_large_message(size: int, limit: int) -> str:
    """Why a file of ``size`` bytes is refused under ``limit`` bytes."""
    return (
        f"The file is {size:,} bytes, over the limit of {limit:,} bytes "
        f"({megabytes(limit)}, INGEST_UPLOAD_MAX_BYTES); split it into smaller files."
    )


def upload_check(
    *,
    name: str,
    content_type: str,
    size: int,
    head: bytes,
    declared_format: str | None,
    max_bytes: int,
) -> str:
    """The upload's format (``csv``/``xlsx``/``json``), or ``UploadRefused`` (see the
    module docstring). ``head`` is the file's first bytes (four are enough)."""
    if size > max_bytes:
        raise UploadRefused(
            too_large_message(size, max_bytes), status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        )
    lowered = name.lower()
    by_name = next((fmt for fmt, exts in FORMAT_EXTENSIONS.items() if lowered.endswith(exts)), None)
    if by_name is None:
        raise UploadRefused(
            f"{name!r} is not a file the importer reads: its name must end with {ACCEPTED_NAMES}."
        )
    if declared_format and declared_format != by_name:
        raise UploadRefused(
            f"{name!r} is named as {by_name.upper()} but the format field says "
            f"{declared_format.upper()}; rename the file or correct the format."
        )
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in GENERIC_CONTENT_TYPES | FORMAT_CONTENT_TYPES[by_name]:
        accepted = ", ".join(sorted(FORMAT_CONTENT_TYPES[by_name]))
        raise UploadRefused(
            f"The content type {media_type!r} is not accepted for a {by_name.upper()} "
            f"file; send {accepted} (or application/octet-stream)."
        )
    if by_name == "xlsx" and not head.startswith(ZIP_MAGIC):
        raise UploadRefused(f"{name!r} is not an XLSX workbook (an XLSX file is a zip archive).")
    if by_name != "xlsx" and head.startswith(ZIP_MAGIC):
        raise UploadRefused(
            f"{name!r} is a zip archive (an XLSX workbook?), not {by_name.upper()} text; "
            "name it .xlsx to import it as a workbook."
        )
    return by_name


def _admin_size_check(data: bytes | str) -> None:
    size = len(data.encode() if isinstance(data, str) else data)
    limit = settings.INGEST_UPLOAD_MAX_BYTES
    if size > limit:
        raise UploadRefused(
            too_large_message(size, limit), status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        )


class AdminCSV(base_formats.CSV):
    """CSV for the admin's import, refused over ``INGEST_UPLOAD_MAX_BYTES``."""

    def create_dataset(self, in_stream: bytes | str, **kwargs: object) -> tablib.Dataset:
        _admin_size_check(in_stream)
        return super().create_dataset(in_stream, **kwargs)


class AdminJSON(base_formats.JSON):
    """JSON for the admin's import, refused over ``INGEST_UPLOAD_MAX_BYTES``."""

    def create_dataset(self, in_stream: bytes | str, **kwargs: object) -> tablib.Dataset:
        _admin_size_check(in_stream)
        return super().create_dataset(in_stream, **kwargs)


class AdminXLSX(base_formats.XLSX):
    """XLSX for the admin's import: the first sheet read by ``xlsx_rows`` within
    the ``INGEST_*`` caps; row 1 is the header, shorter rows are padded with None
    and cells right of the header are dropped."""

    def create_dataset(self, in_stream: bytes, **kwargs: object) -> tablib.Dataset:
        _admin_size_check(in_stream)
        limits = ReadLimits(
            max_rows=settings.INGEST_MAX_ROWS,
            xlsx_part_bytes=settings.INGEST_XLSX_MAX_PART_BYTES,
            xlsx_sheet_bytes=settings.INGEST_XLSX_MAX_SHEET_BYTES,
        )
        dataset = tablib.Dataset()
        rows = xlsx_rows(io.BytesIO(in_stream), limits=limits)
        first = next(rows, None)
        if first is None:
            return dataset
        headers = list(first[1])
        dataset.headers = headers
        width = len(headers)
        for _number, values in rows:
            dataset.append((list(values) + [None] * width)[:width])
        return dataset


ADMIN_IMPORT_FORMATS = [AdminCSV, AdminXLSX, AdminJSON]
