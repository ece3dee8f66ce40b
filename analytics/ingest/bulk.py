"""The fast path: each chunk of validated rows is appended to a temporary
staging table as it comes, then one set-based ``INSERT ... SELECT`` moves the
staged rows into the model's table.

* Staging goes through the one bulk writer, ``analytics.ingest.bulk_insert``:
  on PostgreSQL ``COPY ... FROM STDIN (FORMAT csv)`` of the frame as CSV text
  (Arrow writes it in C++), on SQLite an ``executemany`` of one prepared INSERT,
  elsewhere multi-row INSERTs.
* Staging takes no lock: it writes only the transaction's own temporary table.
  The per-table import lock (``staging_lock``) is taken for the store alone,
  once every row is parsed, validated and staged, so a slow or hostile file
  never makes another client wait for its parse.
* The staged rows are first inserted plainly, in a savepoint: when none of their
  natural keys is in the table yet (a new file), that is all. If a key is there
  (a re-import, an amendment), the savepoint is rolled back and the rows go
  through ``INSERT ... ON CONFLICT (natural key) DO UPDATE``, whose ``WHERE``
  only rewrites rows whose values differ, so a re-import of the same data
  changes nothing; ``created``/``updated``/``unchanged`` then come from one
  grouped join of the staged rows to the table and the statement's row count,
  all under the lock.
* The staging table's columns copy the model's column types, so a value the
  validation let through but the database would refuse fails in staging, inside
  the import's transaction, before anything reaches the real table.
* Foreign keys are the database's to check: PostgreSQL's per-row triggers run
  at commit (Django declares them ``DEFERRABLE INITIALLY DEFERRED``). The path
  never switches them off: ``session_replication_role = replica`` would need a
  privilege that the app's role must not have (README, production), since it
  silences every ordinary trigger of the session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import IntegrityError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from analytics.ingest.bulk_insert import concrete_field, field_column, rows_insert
from analytics.ingest.parsers import ROW


@dataclass(frozen=True)
class Staging:
    """A temporary table shaped like ``model``'s ``fields`` plus the row number;
    ``natural_key`` names the fields that identify a row of the model."""

    connection: BaseDatabaseWrapper
    model: type[models.Model]
    fields: tuple[models.Field, ...]
    natural_key: tuple[str, ...]
    table: str

    @property
    def columns(self) -> list[str]:
        return [field_column(f) for f in self.fields]

    def q(self, name: str) -> str:
        return self.connection.ops.quote_name(name)


def staging_create(
    *, connection: BaseDatabaseWrapper, model: type[models.Model], field_names, natural_key
) -> Staging:
    fields = tuple(concrete_field(model, name) for name in field_names)
    table = f"ingest_stage_{model._meta.model_name}"
    staging = Staging(
        connection=connection,
        model=model,
        fields=fields,
        natural_key=tuple(natural_key),
        table=table,
    )
    q = staging.q
    definitions = [f"{q('line')} integer NOT NULL"] + [
        f"{q(field_column(f))} {f.db_type(connection)}" for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {q(table)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {q(table)} ({', '.join(definitions)})")
    return staging


def staging_lock(*, connection: BaseDatabaseWrapper, model: type[models.Model]) -> None:
    """Serialise imports into one table until the transaction ends, so the key
    check and the insert of one import see no other import's rows appear in
    between (SQLite's write transaction already serialises writers). Taken just
    before ``staging_store``, never while an input is still being read."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", staging_lock_key(model))


def staging_lock_key(model: type[models.Model]) -> tuple[int, int]:
    """The two keys of ``model``'s PostgreSQL advisory lock (``staging_lock``): the
    ingest namespace, and 31 bits of the SHA-256 of the table's name."""
    table = hashlib.sha256(model._meta.db_table.encode()).digest()[:4]
    return 0x1E57, int.from_bytes(table, "big") & 0x7FFFFFFF


def staging_drop(staging: Staging) -> None:
    with staging.connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging.q(staging.table)}")


def staging_write(staging: Staging, frame: pd.DataFrame) -> int:
    """Append a validated frame (db columns + ``ROW``) to the staging table."""
    if frame.empty:
        return 0
    return rows_insert(
        connection=staging.connection,
        table=staging.table,
        columns=["line", *staging.columns],
        rows=frame[[ROW, *staging.columns]],
    )


def _key_join(staging: Staging, natural_key) -> str:
    q = staging.q
    columns = key_columns_in_order(staging, natural_key)
    return " AND ".join(f"s.{q(c)} = t.{q(c)}" for c in columns)


def _differs(staging: Staging, left: str, right: str, natural_key) -> str:
    q = staging.q
    key_columns = set(key_columns_in_order(staging, natural_key))
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
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    portfolio_ids: frozenset[int] = frozenset()
    instrument_ids: frozenset[int] = frozenset()

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            created=self.created + other.created,
            updated=self.updated + other.updated,
            unchanged=self.unchanged + other.unchanged,
            portfolio_ids=self.portfolio_ids | other.portfolio_ids,
            instrument_ids=self.instrument_ids | other.instrument_ids,
        )


def staging_store(
    staging: Staging,
    *,
    extra_insert: dict[str, Any] | None = None,
    portfolio_column: str | None = None,
    instrument_column: str | None = None,
) -> UpsertCounts:
    """Store every staged row (``staging_write``) in the model's table by natural
    key; return the counts and the portfolios and instruments whose rows were
    created or changed (for an update, the portfolio the row belonged to before
    as well).

    ``extra_insert`` gives values for NOT NULL columns that only a new row takes
    (``created_at``); an update leaves them alone. The caller holds
    ``staging_lock``, so no other import adds keys meanwhile.
    """
    connection = staging.connection
    extra = extra_insert or {}
    q = staging.q
    target = q(staging.model._meta.db_table)
    insert = (
        f"INSERT INTO {target} ({', '.join(q(c) for c in [*staging.columns, *extra])}) "  # noqa: S608
        f"SELECT {', '.join([f's.{q(c)}' for c in staging.columns] + ['%s'] * len(extra))} "
        f"FROM {q(staging.table)} s"
    )
    try:
        # A savepoint: a plain INSERT, without the speculative insertion of
        # ON CONFLICT (about twice as fast on PostgreSQL), for the usual chunk
        # of new rows; a key already in the table raises and undoes it.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(insert, list(extra.values()))
            created = cursor.rowcount
    except IntegrityError:
        return _merge(staging, insert, extra, portfolio_column, instrument_column)
    return UpsertCounts(
        created=created,
        portfolio_ids=_staged_ids(staging, portfolio_column),
        instrument_ids=_staged_ids(staging, instrument_column),
    )


def _staged_ids(staging: Staging, column: str | None) -> frozenset[int]:
    """The distinct non-null values of ``column`` among the staged rows."""
    if column is None:
        return frozenset()
    q = staging.q
    with staging.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {q(column)} FROM {q(staging.table)} "  # noqa: S608
            f"WHERE {q(column)} IS NOT NULL"
        )
        return frozenset(value for (value,) in cursor.fetchall())


def _merge(
    staging: Staging,
    insert: str,
    extra: dict[str, Any],
    portfolio_column: str | None,
    instrument_column: str | None,
) -> UpsertCounts:
    """The staged rows into the table with ``ON CONFLICT (natural key) DO UPDATE``
    of the rows whose values differ (some of its keys are already there)."""
    natural_key = staging.natural_key
    q = staging.q
    target = q(staging.model._meta.db_table)
    stage = q(staging.table)
    join = _key_join(staging, natural_key)
    differs = _differs(staging, "s", "t", natural_key)
    tracked = [column for column in (portfolio_column, instrument_column) if column]
    pk = q(field_column(staging.model._meta.pk))
    # One pass over the staged rows joined to the table gives every count and id: rows
    # grouped by their tracked ids before (t) and after (s), new or not, changed or not.
    outputs = [f"{side}.{q(column)}" for column in tracked for side in ("s", "t")] + [
        f"CASE WHEN t.{pk} IS NULL THEN 1 ELSE 0 END",
        f"CASE WHEN {differs} THEN 1 ELSE 0 END",
    ]
    groups = ", ".join(str(position) for position in range(1, len(outputs) + 1))
    total = existing = 0
    ids: dict[str, set[int]] = {column: set() for column in tracked}
    with staging.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(outputs)}, COUNT(*) FROM {stage} s "  # noqa: S608
            f"LEFT JOIN {target} t ON {join} GROUP BY {groups}"
        )
        for *values, new, changed, count in cursor.fetchall():
            total += count
            existing += 0 if new else count
            for position, column in enumerate(tracked):
                after, before = values[2 * position], values[2 * position + 1]
                if (new or changed) and after is not None:
                    ids[column].add(after)
                if changed and not new and before is not None:
                    ids[column].add(before)
        key_columns = set(key_columns_in_order(staging, natural_key))
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
        # "WHERE true" lets SQLite tell the SELECT's end from the upsert clause.
        cursor.execute(
            f"{insert} WHERE true ORDER BY s.{q('line')} ON CONFLICT ({conflict}) {on_conflict}",
            list(extra.values()),
        )
        written = cursor.rowcount
    created = total - existing
    updated = max(written - created, 0)
    return UpsertCounts(
        created=created,
        updated=updated,
        unchanged=existing - updated,
        portfolio_ids=frozenset(ids[portfolio_column]) if portfolio_column else frozenset(),
        instrument_ids=frozenset(ids[instrument_column]) if instrument_column else frozenset(),
    )


def key_columns_in_order(staging: Staging, natural_key: tuple[str, ...]) -> list[str]:
    """The columns of the natural key's fields, in the key's order."""
    return [field_column(concrete_field(staging.model, name)) for name in natural_key]
