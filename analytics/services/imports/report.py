"""The report of an import's rejected rows: a CSV under ``MEDIA_ROOT/imports/``
with the row number, its errors, then the row's own columns as the input had
them (so it can be fixed and imported again). Every cell, the header row's
included, is written as ``report_cell`` shows it: a character text storage refuses
shows as U+FFFD (``analytics.ingest.text.text_printable``, the file is UTF-8),
and a cell a spreadsheet would run as a formula is neutralised
(``portal.exports.cell_neutralise``). The API serves it through
``ImportReportApi``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

import pandas as pd
from django.conf import settings

from analytics.ingest.kinds import RowError
from analytics.ingest.parsers import ROW
from analytics.ingest.text import text_printable
from analytics.models import ImportRun
from portal.exports import cell_neutralise


def imports_folder() -> Path:
    """``MEDIA_ROOT/imports/``, where reports and queued uploads are kept (created
    on first use)."""
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class RejectedRowsReport:
    """The rejected rows of ``run``, written chunk by chunk; the file is created
    with the first rejected row, so a clean import leaves none."""

    def __init__(self, run: ImportRun):
        self.run = run
        self.path: Path | None = None
        self.handle: IO[str] | None = None
        self.writer: Any = None  # a csv writer (its type is private to the csv module)
        self.columns: list[str] = []

    def write(self, raw: pd.DataFrame, errors: list[RowError]) -> None:
        """Add the rows of ``raw`` (a parsed chunk) that ``errors`` name."""
        if not errors:
            return
        if self.writer is None:
            self.path = imports_folder() / f"import-{self.run.pk}-rejected.csv"
            self.handle = self.path.open("w", newline="", encoding="utf-8")
            self.writer = csv.writer(self.handle)
            self.columns = [c for c in raw.columns if c != ROW]
            self.writer.writerow(["row", "errors", *(report_cell(c) for c in self.columns)])
        by_row: dict[int, list[str]] = {}
        for error in errors:
            by_row.setdefault(error.row, []).append(
                f"{error.field}: {error.message}" if error.field else error.message
            )
        rows = raw.set_index(ROW, drop=False)
        for row, messages in sorted(by_row.items()):
            values = rows.loc[row, self.columns] if row in rows.index else []
            if isinstance(values, pd.DataFrame):
                values = values.iloc[0]
            cells = [report_cell(v) for v in list(values)]
            self.writer.writerow([row, report_cell("; ".join(messages)), *cells])

    def close(self) -> str:
        """Close the file; return its path relative to ``MEDIA_ROOT`` ("" when no
        row was rejected)."""
        if self.handle is None or self.path is None:
            return ""
        self.handle.close()
        return str(self.path.relative_to(settings.MEDIA_ROOT))


def report_cell(value: object) -> str:
    """``value`` as the report writes it (see the module docstring)."""
    return cell_neutralise(text_printable(str(value)))
