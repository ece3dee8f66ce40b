"""The fast path: validated frames go into a temporary staging table, then one
set-based ``INSERT ... SELECT ... ON CONFLICT (natural key) DO UPDATE`` moves
them into the model's table.

* Staging on PostgreSQL is ``COPY ... FROM STDIN (FORMAT csv)`` of the frame as
  CSV text (Arrow writes it in C++; psycopg streams it), on SQLite an
  ``executemany`` of one prepared INSERT, elsewhere multi-row INSERTs. This is
  the frame-of-text counterpart of ``analytics.services.positions.
  bulk_insert_values`` (which takes typed tuples for derived series).
* The upsert's ``WHERE`` only rewrites rows whose values differ, so a re-import
  of the same data changes nothing, and ``created``/``updated``/``unchanged``
  come from one join count and the statement's row count.
* The staging table's columns copy the model's column types, so a value the
  validation let through but the database would refuse fails in staging, inside
  the import's transaction, before anything reaches the real table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from analytics.ingest.parsers import ROW

ROWS_PER_STATEMENT = 500


@dataclass(frozen=True)
class Staging:
    """A temporary table shaped like ``model``'s ``fields`` plus the row number."""

    connection: BaseDatabaseWrapper
    model: type[models.Model]
    fields: tuple[models.Field, ...]
    table: str

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]

    def q(self, name: str) -> str:
        return self.connection.ops.quote_name(name)


def staging_create(
    *, connection: BaseDatabaseWrapper, model: type[models.Model], field_names
) -> Staging:
    fields = tuple(model._meta.get_field(name) for name in field_names)
    table = f"ingest_stage_{model._meta.model_name}"
    staging = Staging(connection=connection, model=model, fields=fields, table=table)
    q = staging.q
    definitions = [f"{q('line')} integer NOT NULL"] + [
        f"{q(f.column)} {f.db_type(connection)}" for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {q(table)}")  # noqa: S608 - names from model metadata
        cursor.execute(f"CREATE TEMPORARY TABLE {q(table)} ({', '.join(definitions)})")
    return staging


def staging_lock(*, connection: BaseDatabaseWrapper, model: type[models.Model]) -> None:
    """Serialise imports into one table until the transaction ends, so the key
    check and the insert of one import see no other import's rows appear in
    between (SQLite's write transaction already serialises writers)."""
    if connection.vendor == "postgresql":
        key = (
            int.from_bytes(hashlib.sha256(model._meta.db_table.encode()).digest()[:4], "big")
            & 0x7FFFFFFF
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x1E57, key])


def staging_drop(staging: Staging) -> None:
    with staging.connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging.q(staging.table)}")


def staging_write(staging: Staging, frame: pd.DataFrame) -> int:
    """Append a validated frame (db columns + ``ROW``) to the staging table."""
    if frame.empty:
        return 0
    columns = ["line", *staging.columns]
    frame = frame[[ROW, *staging.columns]]
    connection = staging.connection
    q = staging.q
    if connection.vendor == "postgresql":
        # Arrow writes the CSV in C++ (several times faster than pandas' to_csv):
        # every string quoted, so '' stays an empty string, and a missing value
        # is an unquoted empty field, which COPY reads as NULL.
        table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
        sql = (
            f"COPY {q(staging.table)} ({', '.join(q(c) for c in columns)}) FROM STDIN (FORMAT csv)"
        )
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            copy.write(memoryview(sink.getvalue()))
        return len(frame)
    frame = frame.astype(object).where(frame.notna(), None)
    rows = list(frame.itertuples(index=False, name=None))
    head = f"INSERT INTO {q(staging.table)} ({', '.join(q(c) for c in columns)}) VALUES "  # noqa: S608
    one = "({})".format(", ".join(["%s"] * len(columns)))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.executemany(head + one, rows)
        else:
            for first in range(0, len(rows), ROWS_PER_STATEMENT):
                chunk = rows[first : first + ROWS_PER_STATEMENT]
                cursor.execute(
                    head + ", ".join([one] * len(chunk)), [v for row in chunk for v in row]
                )
    return len(frame)


def _key_join(staging: Staging, natural_key) -> str:
    q = staging.q
    columns = [staging.model._meta.get_field(name).column for name in natural_key]
    return " AND ".join(f"s.{q(c)} = t.{q(c)}" for c in columns)


def _differs(staging: Staging, left: str, right: str, natural_key) -> str:
    q = staging.q
    key_columns = {staging.model._meta.get_field(name).column for name in natural_key}
    return (
        " OR ".join(
            f"{left}.{q(c)} IS DISTINCT FROM {right}.{q(c)}"
            for c in staging.columns
            if c not in key_columns
        )
        or "FALSE"
    )


@dataclass(frozen=True)
class UpsertCounts:
    created: int
    updated: int
    unchanged: int
    portfolio_ids: frozenset[int]
    instrument_ids: frozenset[int]


def staging_upsert(
    staging: Staging,
    *,
    natural_key,
    extra_insert: dict[str, object] | None = None,
    portfolio_column: str | None = None,
    instrument_column: str | None = None,
) -> UpsertCounts:
    """Move the staged rows into the model's table by natural key; return the
    counts and the portfolios and instruments whose rows were created or changed
    (for an update, the portfolio the row belonged to before as well).

    ``extra_insert`` gives values for NOT NULL columns that only a new row takes
    (``created_at``); an update leaves them alone.
    """
    connection = staging.connection
    q = staging.q
    target = q(staging.model._meta.db_table)
    stage = q(staging.table)
    join = _key_join(staging, natural_key)
    differs = _differs(staging, "s", "t", natural_key)
    portfolio_ids: set[int] = set()
    instrument_ids: set[int] = set()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {stage}")  # noqa: S608
        total = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM {stage} s JOIN {target} t ON {join}")  # noqa: S608
        existing = cursor.fetchone()[0]
        for column, ids in ((portfolio_column, portfolio_ids), (instrument_column, instrument_ids)):
            if column is None:
                continue
            c = q(column)
            if existing == 0:
                cursor.execute(f"SELECT DISTINCT {c} FROM {stage}")  # noqa: S608
            else:
                cursor.execute(
                    f"SELECT DISTINCT s.{c} FROM {stage} s LEFT JOIN {target} t ON {join} "  # noqa: S608
                    f"WHERE t.{q(staging.model._meta.pk.column)} IS NULL OR {differs} "
                    f"UNION SELECT DISTINCT t.{c} FROM {stage} s JOIN {target} t ON {join} "
                    f"WHERE {differs}"
                )
            ids.update(row[0] for row in cursor.fetchall() if row[0] is not None)

        key_columns = {staging.model._meta.get_field(name).column for name in natural_key}
        insert_columns = staging.columns + list((extra_insert or {}).keys())
        select = [f"s.{q(c)}" for c in staging.columns] + ["%s"] * len(extra_insert or {})
        updates = [f"{q(c)} = excluded.{q(c)}" for c in staging.columns if c not in key_columns]
        update_where = " OR ".join(
            f"{target}.{q(c)} IS DISTINCT FROM excluded.{q(c)}"
            for c in staging.columns
            if c not in key_columns
        )
        conflict = ", ".join(q(c) for c in key_columns_in_order(staging, natural_key))
        on_conflict = (
            f"DO UPDATE SET {', '.join(updates)} WHERE {update_where}" if updates else "DO NOTHING"
        )
        if existing == 0:
            # No staged key is in the table (imports of one kind are serialised,
            # see ``staging_lock``): a plain INSERT, without the speculative
            # insertion of ON CONFLICT (about twice as fast on PostgreSQL).
            cursor.execute(
                f"INSERT INTO {target} ({', '.join(q(c) for c in insert_columns)}) "  # noqa: S608
                f"SELECT {', '.join(select)} FROM {stage} s",
                list((extra_insert or {}).values()),
            )
            return UpsertCounts(
                created=total,
                updated=0,
                unchanged=0,
                portfolio_ids=frozenset(portfolio_ids),
                instrument_ids=frozenset(instrument_ids),
            )
        # "WHERE true" lets SQLite tell the SELECT's end from the upsert clause.
        cursor.execute(
            f"INSERT INTO {target} ({', '.join(q(c) for c in insert_columns)}) "  # noqa: S608
            f"SELECT {', '.join(select)} FROM {stage} s WHERE true ORDER BY s.{q('line')} "
            f"ON CONFLICT ({conflict}) {on_conflict}",
            list((extra_insert or {}).values()),
        )
        written = cursor.rowcount
    created = total - existing
    updated = max(written - created, 0)
    return UpsertCounts(
        created=created,
        updated=updated,
        unchanged=existing - updated,
        portfolio_ids=frozenset(portfolio_ids),
        instrument_ids=frozenset(instrument_ids),
    )


def key_columns_in_order(staging: Staging, natural_key) -> list[str]:
    return [staging.model._meta.get_field(name).column for name in natural_key]
