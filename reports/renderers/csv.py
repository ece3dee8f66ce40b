"""The report's tables as CSV: one file per table, zipped when there are several.

Each file is UTF-8 (no byte-order mark) with a header row of the columns' keys
(the stable identifiers, as in the JSON), RFC 4180 quoting and ``\\r\\n`` line
ends. Values are raw (``reports.renderers.formats.csv_value``): numbers as
written by Python, **percentages as fractions** (0.0123 is 1.23 %), basis points
and amounts as plain numbers, dates ISO 8601, missing values empty. Every text
cell goes through ``portal.exports.cell_neutralise``; numbers are never quoted
or prefixed, so ``-12.5`` stays a number.

A file is named ``<section key>-<table name>.csv`` (slugified, made unique). A
document without any table gets one ``summary.csv`` of its KPIs (section,
portfolio, KPI, value, format) so the download is never empty.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from django.utils.text import slugify

from portal.exports import cell_neutralise
from reports.document import Column, Document, Table
from reports.renderers import formats
from reports.renderers.base import CONTENT_TYPES, RenderedFile
from reports.renderers.html import file_stem

Converter = Callable[[Any], Any]


def _text_cell(value: Any) -> str:
    if type(value) is str:
        return cell_neutralise(value, text=True)
    return cell_neutralise(formats.csv_value(value), text=True)


def _number_cell(value: Any) -> Any:
    # Finite ints and floats go to the csv module as they are (it writes repr());
    # ``value - value`` is 0 only for finite numbers, so NaN and inf take the slow path.
    kind = type(value)
    if (kind is float or kind is int) and value - value == 0:
        return value
    if formats.is_number(value) and not formats.is_missing(value):
        return str(value)
    return "" if formats.is_missing(value) else _text_cell(value)


def _date_cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _text_cell(value)


def _converter(column: Column) -> Converter:
    if column.format == "date":
        return _date_cell
    return _number_cell if formats.is_numeric(column.format) else _text_cell


def write_table(table: Table, handle: TextIO) -> int:
    """Write ``table`` to ``handle`` as CSV; the number of data rows."""
    converters = [_converter(column) for column in table.columns]
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow([cell_neutralise(column.key) for column in table.columns])
    count = 0
    for row in table.rows:
        writer.writerow([convert(value) for convert, value in zip(converters, row, strict=False)])
        count += 1
    return count


def _summary_table(document: Document) -> Table:
    columns = [Column(key, key) for key in ("section", "portfolio", "kpi", "value", "format")]
    rows: Iterator[Sequence[Any]] = (
        (section.title, section.portfolio or "", kpi.label, kpi.value, kpi.format)
        for section in document.sections
        for kpi in section.kpis
    )
    return Table(name="summary", title="Summary", columns=columns, rows=rows)


def named_tables(document: Document) -> list[tuple[str, Table]]:
    """Every table of ``document`` with its unique CSV file name."""
    taken: set[str] = set()
    named: list[tuple[str, Table]] = []
    tables: Iterable[tuple[str, Table]] = (
        (f"{section.key}-{table.name}", table)
        for section in document.sections
        for table in section.tables
    )
    for wanted, table in tables:
        base = slugify(wanted)[:120] or "table"
        name, number = base, 1
        while name in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name)
        named.append((f"{name}.csv", table))
    return named or [("summary.csv", _summary_table(document))]


def render(document: Document, *, directory: Path) -> RenderedFile:
    """One CSV file when the document has one table, else a zip of one per table."""
    tables = named_tables(document)
    stem = file_stem(document)
    if len(tables) == 1:
        path = Path(directory) / f"{stem}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            write_table(tables[0][1], handle)
        return RenderedFile(format="csv", path=path, content_type=CONTENT_TYPES["csv"])
    path = Path(directory) / f"{stem}-csv.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, table in tables:
            with (
                archive.open(name, "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
            ):
                write_table(table, handle)
    return RenderedFile(format="csv", path=path, content_type=CONTENT_TYPES["zip"])
