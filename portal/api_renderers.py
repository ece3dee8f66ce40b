"""DRF renderers of tabular API answers as files: CSV, XLSX and Parquet.

A tabular endpoint describes its answer as a ``Table``: ``Column``s (``key``,
``label``, ``type``) and rows (mappings or objects; a column reads its ``source``,
a dotted path, from each row). The renderers write it in constant memory:

* CSV (``text/csv; charset=utf-8``): a header of the column keys (the JSON field
  names), then one line per row, written in chunks (``CSVRenderer.chunks``) so
  that a large answer can be streamed. Numbers as numbers (a ``Decimal`` exactly
  as stored), dates and date-times in ISO 8601 (date-times in the portal's time
  zone, with their offset), booleans ``true``/``false``, empty cells for nulls.
* XLSX: one sheet written by XlsxWriter in ``constant_memory`` mode to a file; the
  header row shows the column labels; numbers are numbers, dates real dates and
  date-times the portal's local wall-clock time (Excel has no time zones).
* Parquet (``application/vnd.apache.parquet``): one file written by pyarrow in
  row groups of ``PARQUET_BATCH_ROWS``; columns named by key; text as string,
  numbers float64, integers int64, dates date32, date-times UTC timestamps.

Every text cell of CSV and XLSX goes through ``portal.exports.cell_neutralise``
(``text=True``), the one function that keeps a spreadsheet from running a cell
as a formula; ``json`` columns (nested details) are written as JSON text, and are
neutralised the same way. Parquet is not opened by spreadsheets and keeps text as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter
from django.utils import timezone
from rest_framework.renderers import BaseRenderer

from portal.exports import cell_neutralise

ColumnType = Literal["text", "number", "integer", "date", "datetime", "boolean", "json"]

CSV_CHUNK_ROWS = 500
"""Rows per chunk of a CSV stream: small enough to start sending at once, large
enough that the per-chunk overhead does not matter."""
PARQUET_BATCH_ROWS = 10_000
"""Rows per Parquet row group, the most rows held in memory at once."""
XLSX_MAX_ROWS = 1_048_575
"""Excel's sheet limit (1,048,576 rows) less the header row."""


@dataclass(frozen=True)
class Column:
    """One column of a table: ``key`` (the JSON field name; CSV and Parquet name
    the column so), ``label`` (the XLSX header), ``type`` and ``source`` (a dotted
    path of attributes or keys read from a row, or a function of the row; default ``key``)."""

    key: str
    label: str
    type: ColumnType = "text"
    source: str | Callable[[Any], Any] | None = None

    def value(self, row: Any) -> Any:
        """This column's value in ``row`` (None when a step of the path is None)."""
        if callable(self.source):
            return self.source(row)
        value = row
        for step in (self.source or self.key).split("."):
            if value is None:
                return None
            value = value[step] if isinstance(value, Mapping) else getattr(value, step)
        return value


@dataclass(frozen=True)
class Table:
    """``columns`` and ``rows`` (read once, in order); ``sheet`` names the XLSX sheet."""

    columns: Sequence[Column]
    rows: Iterable[Any]
    sheet: str = "Data"


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def csv_cell(column: Column, value: Any) -> str:
    """How ``value`` of ``column`` is written in a CSV cell."""
    if value is None:
        return ""
    if column.type == "text":
        return cell_neutralise(str(value), text=True)
    if column.type == "json":
        return cell_neutralise(json.dumps(value, sort_keys=True, default=str), text=True)
    if column.type == "boolean":
        return "true" if value else "false"
    if column.type == "datetime":
        return _local(value).isoformat()
    if column.type == "date":
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class TabularRenderer(BaseRenderer):
    """A file format of tabular answers; ``write`` puts a ``Table`` into a file.
    ``render`` (DRF's entry point) returns the bytes of a ``Table``."""

    file_format: ClassVar[str]
    extension: ClassVar[str]

    def write(self, table: Table, path: Path) -> None:
        """Write ``table`` to the file at ``path``."""
        raise NotImplementedError

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        if not isinstance(data, Table):
            raise TypeError(f"{type(self).__name__} renders a Table, not {type(data).__name__}")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"table.{self.extension}"
            self.write(data, path)
            return path.read_bytes()


class CSVRenderer(TabularRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    file_format = "csv"
    extension = "csv"

    def chunks(self, table: Table) -> Iterator[bytes]:
        """The file in UTF-8 chunks of ``CSV_CHUNK_ROWS`` rows, header first."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([column.key for column in table.columns])
        rows = iter(table.rows)
        while True:
            batch = list(islice(rows, CSV_CHUNK_ROWS))
            for row in batch:
                writer.writerow([csv_cell(column, column.value(row)) for column in table.columns])
            if buffer.tell():
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
            if len(batch) < CSV_CHUNK_ROWS:
                return

    def write(self, table: Table, path: Path) -> None:
        with path.open("wb") as handle:
            for chunk in self.chunks(table):
                handle.write(chunk)


class XLSXRenderer(TabularRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"
    file_format = "xlsx"
    extension = "xlsx"

    def write(self, table: Table, path: Path) -> None:
        # Never turn a string into a formula or a URL: text stays text.
        workbook = xlsxwriter.Workbook(
            str(path),
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
        )
        sheet = workbook.add_worksheet(table.sheet[:31])
        bold = workbook.add_format({"bold": True})
        formats = {
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }
        for index, column in enumerate(table.columns):
            sheet.write_string(0, index, cell_neutralise(column.label, text=True), bold)
        for number, row in enumerate(table.rows, start=1):
            for index, column in enumerate(table.columns):
                self._cell(sheet, number, index, column, column.value(row), formats)
        workbook.close()

    @staticmethod
    def _cell(sheet, row: int, index: int, column: Column, value: Any, formats: dict) -> None:
        if value is None:
            sheet.write_blank(row, index, None)
        elif column.type in ("number", "integer") and math.isfinite(value):
            sheet.write_number(row, index, float(value))
        elif column.type in ("number", "integer"):
            # An infinite utilisation (a zero limit used): Excel has no infinity.
            sheet.write_string(row, index, str(float(value)))
        elif column.type == "boolean":
            sheet.write_boolean(row, index, bool(value))
        elif column.type == "datetime":
            sheet.write_datetime(
                row, index, _local(value).replace(tzinfo=None), formats["datetime"]
            )
        elif column.type == "date":
            sheet.write_datetime(row, index, value, formats["date"])
        else:
            sheet.write_string(row, index, csv_cell(column, value))


_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "json": pa.string(),
    "number": pa.float64(),
    "integer": pa.int64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "boolean": pa.bool_(),
}


def _arrow_value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.type == "json":
        return json.dumps(value, sort_keys=True, default=str)
    if column.type == "text":
        return str(value)
    if column.type == "number":
        return float(value)
    return value


class ParquetRenderer(TabularRenderer):
    media_type = "application/vnd.apache.parquet"
    format = "parquet"
    charset = None
    render_style = "binary"
    file_format = "parquet"
    extension = "parquet"

    def write(self, table: Table, path: Path) -> None:
        schema = pa.schema([(column.key, _ARROW_TYPES[column.type]) for column in table.columns])
        rows = iter(table.rows)
        with pq.ParquetWriter(str(path), schema) as writer:
            while batch := list(islice(rows, PARQUET_BATCH_ROWS)):
                arrays = [
                    pa.array(
                        [_arrow_value(column, column.value(row)) for row in batch],
                        type=_ARROW_TYPES[column.type],
                    )
                    for column in table.columns
                ]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))


FILE_RENDERERS: tuple[type[TabularRenderer], ...] = (CSVRenderer, XLSXRenderer, ParquetRenderer)
FILE_FORMATS = tuple(renderer.format for renderer in FILE_RENDERERS)
