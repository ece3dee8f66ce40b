"""The caps on what one input may make a reader do (``ReadLimits``)."""

from __future__ import annotations

from dataclasses import dataclass

MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """Caps on one input. ``max_rows`` counts data rows (after the header, blank
    ones included) of any file; a workbook's parts are capped in bytes
    uncompressed: ``xlsx_part_bytes`` for each part whose content is kept in
    memory (shared strings, styles, the workbook and its relationships),
    ``xlsx_sheet_bytes`` for the sheet, which is only streamed. An input past one
    is refused as the reader reaches the cap."""

    max_rows: int = 2_000_000
    xlsx_part_bytes: int = 50 * MEGABYTE
    xlsx_sheet_bytes: int = 1024 * MEGABYTE


def megabytes(size: int) -> str:
    """``size`` bytes as a user reads it: ``50 MB``, ``1,000.5 MB``."""
    return f"{size / MEGABYTE:,.1f}".removesuffix(".0") + " MB"


DEFAULT_LIMITS = ReadLimits()
