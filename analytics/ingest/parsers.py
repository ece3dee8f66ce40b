"""Streaming readers: a CSV, XLSX or JSON input becomes a sequence of pandas
frames of at most ``chunk_rows`` rows, every cell a stripped string ('' when
empty), plus the column ``ROW`` with the row number a user sees:

* CSV and XLSX: the spreadsheet row, the header being row 1 (so the first data
  row is row 2). Blank rows are skipped but still counted.
* JSON: the 1-based position of the object in the list.

Column names are lower-cased and stripped, then renamed through
``column_mapping`` (``{"Ticker": "instrument"}``, matched case-insensitively).
A file is never read whole: CSV goes through pandas' C parser in chunks, XLSX
through the bounded streaming reader of ``analytics.ingest.xlsx``. An input past
its ``ReadLimits`` (data rows; a workbook's parts, uncompressed) is refused with
a ``FileError`` as the reader reaches the cap, before memory grows.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO

import pandas as pd

from analytics.ingest.limits import DEFAULT_LIMITS, ReadLimits
from analytics.ingest.text import text_marked, text_printable
from analytics.ingest.xlsx import WorkbookError, xlsx_rows

ROW = "__row__"
CHUNK_ROWS = 50_000  # ~10 string columns × 50k rows: some tens of MB per chunk and its copies


class FileError(Exception):
    """The file as a whole cannot be read (not a CSV/XLSX, bad encoding, a row
    with the wrong number of fields...). ``row`` is set when one row is to blame."""

    def __init__(self, message: str, *, row: int | None = None):
        super().__init__(text_printable(message))  # it may quote a header's cells
        self.row = row


def _normalise_columns(columns: Iterable, mapping: dict[str, str] | None) -> list[str]:
    lowered = {str(k).strip().lower(): str(v).strip().lower() for k, v in (mapping or {}).items()}
    names = []
    for column in columns:
        name = "" if column is None else text_marked(str(column)).strip().lower()
        names.append(lowered.get(name, name))
    return names


def _check_header(columns: list[str]) -> None:
    named = [c for c in columns if c]
    duplicates = sorted({c for c in named if named.count(c) > 1})
    if duplicates:
        raise FileError(f"the header repeats the column(s) {', '.join(duplicates)}", row=1)
    if not named:
        raise FileError("the file has no header row", row=1)


def _too_many_rows(max_rows: int) -> str:
    return f"the file has more than {max_rows:,} rows; the limit is {max_rows:,}"


def read_csv_chunks(
    stream: IO[bytes],
    *,
    column_mapping=None,
    chunk_rows: int = CHUNK_ROWS,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Iterator[pd.DataFrame]:
    try:
        reader = pd.read_csv(
            stream,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            chunksize=chunk_rows,
            encoding="utf-8-sig",
            engine="c",
        )
        first_row = 2
        for chunk in reader:
            if first_row == 2:
                columns = _normalise_columns(chunk.columns, column_mapping)
                _check_header(columns)
            chunk.columns = columns
            if first_row - 2 + len(chunk) > limits.max_rows:
                raise FileError(_too_many_rows(limits.max_rows), row=limits.max_rows + 2)
            chunk[ROW] = range(first_row, first_row + len(chunk))
            first_row += len(chunk)
            yield _clean(chunk)
    except pd.errors.EmptyDataError:
        raise FileError("the file is empty") from None
    except pd.errors.ParserError as error:
        raise FileError(f"not a well-formed CSV file: {error}") from None
    except UnicodeDecodeError as error:
        raise FileError(
            f"the file is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None


def cell_text(value: object) -> str:
    """A workbook or JSON cell as text: dates ISO, decimals and floats as the
    shortest decimal that round-trips, booleans ``true``/``false``, empty for None."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # The shortest decimal that round-trips: what the spreadsheet displays.
        return format(Decimal(repr(value)), "f")
    return text_marked(str(value))  # a lone surrogate becomes NUL, a row error


def read_xlsx_chunks(
    stream: IO[bytes],
    *,
    column_mapping=None,
    chunk_rows: int = CHUNK_ROWS,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Iterator[pd.DataFrame]:
    """The first sheet of a workbook (``stream`` seekable), within ``limits``."""
    try:
        yield from _xlsx_frames(
            xlsx_rows(stream, limits=limits), column_mapping=column_mapping, chunk_rows=chunk_rows
        )
    except WorkbookError as error:
        raise FileError(str(error), row=error.row) from None


def _xlsx_frames(
    rows: Iterator[tuple[int, list]], *, column_mapping, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Frames of the workbook ``rows`` (``xlsx_rows``), the first being the header."""
    first = next(rows, None)
    if first is None:
        raise FileError("the workbook's first sheet is empty")
    number, header = first
    columns = _normalise_columns(header if number == 1 else [], column_mapping)
    _check_header(columns)  # a sheet whose row 1 is blank has no header
    width = len(columns)
    buffer: list[list[str]] = []
    numbers: list[int] = []
    for number, values in rows:
        cells = [cell_text(v) for v in values[:width]]
        if any(v not in (None, "") for v in values[width:]):
            raise FileError(f"row {number} has values beyond the header's columns", row=number)
        cells += [""] * (width - len(cells))
        buffer.append(cells)
        numbers.append(number)
        if len(buffer) >= chunk_rows:
            yield _frame(buffer, columns, numbers)
            buffer, numbers = [], []
    if buffer:
        yield _frame(buffer, columns, numbers)


def read_json_rows(
    rows: list,
    *,
    column_mapping=None,
    chunk_rows: int = CHUNK_ROWS,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Iterator[pd.DataFrame]:
    """A list of JSON objects (already parsed). Numbers become their shortest
    decimal text; nested values are refused."""
    if not isinstance(rows, list):
        raise FileError('expected a list of objects (or {"rows": [...]})')
    if len(rows) > limits.max_rows:
        raise FileError(_too_many_rows(limits.max_rows), row=limits.max_rows + 1)
    columns: list[str] = []
    for position, item in enumerate(rows, start=1):
        if not isinstance(item, dict):
            raise FileError(f"row {position} is not an object", row=position)
        for key in item:
            if key not in columns:
                columns.append(key)
    names = _normalise_columns(columns, column_mapping)
    if rows:
        _check_header(names)
    for first in range(0, len(rows), chunk_rows):
        part = rows[first : first + chunk_rows]
        cells = []
        for position, item in enumerate(part, start=first + 1):
            line = []
            for key in columns:
                value = item.get(key)
                if isinstance(value, dict | list):
                    raise FileError(f"row {position}, field {key!r}: nested values", row=position)
                line.append(cell_text(value))
            cells.append(line)
        yield _frame(cells, names, list(range(first + 1, first + 1 + len(part))))


def _frame(cells: list[list[str]], columns: list[str], numbers: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame(cells, columns=columns, dtype=object)
    frame[ROW] = numbers
    return _clean(frame)


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip every cell and drop rows with no value at all."""
    data_columns = [c for c in frame.columns if c != ROW and c]
    frame = frame[[*data_columns, ROW]]
    for column in data_columns:
        frame[column] = frame[column].astype(str).str.strip()
    if data_columns:
        empty = (frame[data_columns] == "").all(axis=1)
        if empty.any():
            frame = frame[~empty]
    return frame


def read_chunks(
    stream: IO[bytes],
    *,
    file_format: str,
    column_mapping=None,
    chunk_rows: int = CHUNK_ROWS,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Iterator[pd.DataFrame]:
    """The frames of a CSV, XLSX or JSON byte stream (see the module docstring)."""
    sizes = {"column_mapping": column_mapping, "chunk_rows": chunk_rows, "limits": limits}
    if file_format == "csv":
        return read_csv_chunks(stream, **sizes)
    if file_format == "xlsx":
        return read_xlsx_chunks(stream, **sizes)
    if file_format == "json":
        import json

        try:
            data = json.load(io.TextIOWrapper(stream, encoding="utf-8"), parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as error:
            raise FileError(f"not valid JSON: {error}") from None
        if isinstance(data, dict) and "rows" in data:
            data = data["rows"]
        return read_json_rows(data, **sizes)
    raise FileError(f"unknown file format {file_format!r}; use csv, xlsx or json")


def format_from_name(name: str) -> str:
    """``csv``/``xlsx``/``json`` from a file name's extension (CSV by default)."""
    lowered = name.lower()
    if lowered.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if lowered.endswith(".json"):
        return "json"
    return "csv"
