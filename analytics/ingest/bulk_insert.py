"""The one bulk writer: rows into a table the fastest way each database offers.

Used by the import fast path (each validated chunk into its staging table,
``analytics.ingest.bulk``) and by the large derived or generated series
(position snapshots, demo and benchmark prices) through ``bulk_insert_values``.

* PostgreSQL gets ``COPY ... FROM STDIN``: a frame is sent as CSV text written
  by Arrow in C++ (every string quoted, so ``''`` stays an empty string; a
  missing value is an unquoted empty field, which COPY reads as NULL); plain
  tuples are sent with psycopg 3's ``Copy.write_row`` (a few µs a row).
* SQLite gets ``executemany`` of one prepared single-row INSERT (about 5 µs a
  row, all in C); any other database multi-row ``INSERT ... VALUES`` statements
  of ``ROWS_PER_STATEMENT`` rows.
* Values go in as given: no defaults, no signals, no primary keys returned, so
  every NOT NULL column must be passed. Typed tuples carry ``Decimal`` for
  decimal columns and ``date`` for dates; a frame's missing values (NaN, None)
  become NULL.

Why not ``bulk_create``: on SQLite it costs about 45 µs a row (model instances,
per-field preparation, statements capped at 999 parameters), on PostgreSQL about
35 µs (psycopg parses every large multi-row statement again in Python).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

# Rows adapted and sent per round outside PostgreSQL: bounds the memory of one batch.
BATCH_ROWS = 10_000
# Multi-row INSERTs (neither PostgreSQL nor SQLite): 1,000 rows of at most 16
# columns stay well below PostgreSQL's and MySQL's 65,535 parameters per statement.
ROWS_PER_STATEMENT = 1000


def rows_insert(
    *,
    connection: BaseDatabaseWrapper,
    table: str,
    columns: Sequence[str],
    rows: pd.DataFrame | Iterable[tuple],
    date_positions: Sequence[int] = (),
    batch_rows: int = BATCH_ROWS,
) -> int:
    """Insert ``rows`` (a frame whose columns are ``columns``, in that order, or
    value tuples in ``columns`` order) into ``table``; return the count.

    ``date_positions`` are the tuple positions that hold ``date`` values, which
    databases other than PostgreSQL receive through the backend's own adaptation
    (SQLite's default date adapter is deprecated).
    """
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    if connection.vendor == "postgresql":
        copy = f"COPY {quote(table)} ({names}) FROM STDIN"
        if isinstance(rows, pd.DataFrame):
            return _copy_csv(connection, f"{copy} (FORMAT csv)", rows)
        return _copy_rows(connection, copy, rows)
    if isinstance(rows, pd.DataFrame):
        rows = rows.astype(object).where(rows.notna(), None).itertuples(index=False, name=None)
    head = f"INSERT INTO {quote(table)} ({names}) VALUES "  # noqa: S608 - names from metadata
    placeholders = "({})".format(", ".join(["%s"] * len(columns)))
    written = 0
    with connection.cursor() as cursor:
        for batch in _batches(rows, batch_rows, _date_adapter(connection, date_positions)):
            if connection.vendor == "sqlite":
                cursor.executemany(head + placeholders, batch)
            else:
                for first in range(0, len(batch), ROWS_PER_STATEMENT):
                    chunk = batch[first : first + ROWS_PER_STATEMENT]
                    cursor.execute(
                        head + ", ".join([placeholders] * len(chunk)),
                        [value for row in chunk for value in row],
                    )
            written += len(batch)
    return written


def bulk_insert_values(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[tuple],
    *,
    batch_rows: int = BATCH_ROWS,
) -> int:
    """Insert value tuples (in ``fields`` order, already validated and typed)
    into ``model``'s own table on its write database; return the count. This is
    ``bulk_create`` without model instances (see the module docstring)."""
    model_fields = [concrete_field(model, name) for name in fields]
    return rows_insert(
        connection=connections[router.db_for_write(model)],
        table=model._meta.db_table,
        columns=[field_column(field) for field in model_fields],
        rows=rows,
        date_positions=[
            position
            for position, field in enumerate(model_fields)
            if field.get_internal_type() == "DateField"
        ],
        batch_rows=batch_rows,
    )


def concrete_field(model: type[models.Model], name: str) -> models.Field:
    """The field ``name`` of ``model`` that has a column (not a reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{model._meta.label}.{name} has no column of its own")
    return field


def field_column(field: models.Field) -> str:
    """The database column of a concrete ``field``."""
    if not field.column:
        raise TypeError(f"{field} has no column of its own")
    return field.column


def _copy_csv(connection: BaseDatabaseWrapper, sql: str, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    # Arrow writes the CSV in C++, several times faster than pandas' to_csv.
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(memoryview(sink.getvalue()))
    return len(frame)


def _copy_rows(connection: BaseDatabaseWrapper, sql: str, rows: Iterable[tuple]) -> int:
    written = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _date_adapter(
    connection: BaseDatabaseWrapper, positions: Sequence[int]
) -> Callable[[tuple], tuple] | None:
    """A function that adapts the dates at ``positions`` of a row (each distinct
    day once), or None when there are none."""
    if not positions:
        return None
    adapted: dict[dt.date, object] = {}

    def adapt(row: tuple) -> tuple:
        values = list(row)
        for position in positions:
            day = values[position]
            if day not in adapted:
                adapted[day] = connection.ops.adapt_datefield_value(day)
            values[position] = adapted[day]
        return tuple(values)

    return adapt


def _batches(
    rows: Iterable[tuple], size: int, adapt: Callable[[tuple], tuple] | None
) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield [adapt(row) for row in batch] if adapt is not None else batch
