"""The fast path: each chunk of validated rows goes into a temporary staging
table, then one set-based ``INSERT ... SELECT`` moves it into the model's table.

* Staging goes through the one bulk writer, ``analytics.ingest.bulk_insert``:
  on PostgreSQL ``COPY ... FROM STDIN (FORMAT csv)`` of the frame as CSV text
  (Arrow writes it in C++), on SQLite an ``executemany`` of one prepared INSERT,
  elsewhere multi-row INSERTs.
* A chunk is first inserted plainly, in a savepoint: when none of its natural
  keys is in the table yet (a new file), that is all. If a key is there (a
  re-import, an amendment), the savepoint is rolled back and the chunk goes
  through ``INSERT ... ON CONFLICT (natural key) DO UPDATE``, whose ``WHERE``
  only rewrites rows whose values differ, so a re-import of the same data
  changes nothing; ``created``/``updated``/``unchanged`` then come from one
  grouped join of the chunk to the table and the statement's row count.
* The staging table's columns copy the model's column types, so a value the
  validation let through but the database would refuse fails in staging, inside
  the import's transaction, before anything reaches the real table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import DatabaseError, IntegrityError, models, transaction
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


def staging_clear(staging: Staging) -> None:
    """Empty the staging table for the next chunk."""
    statement = "TRUNCATE" if staging.connection.vendor == "postgresql" else "DELETE FROM"
    with staging.connection.cursor() as cursor:
        cursor.execute(f"{statement} {staging.q(staging.table)}")


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


def _references_locked(staging: Staging, frame: pd.DataFrame) -> bool:
    """Lock every row the chunk's foreign keys point to ``FOR KEY SHARE`` until the
    transaction ends, and tell whether all of them exist.

    This is what PostgreSQL's RI trigger does for each inserted row (``SELECT 1
    FROM referenced WHERE pk = $1 FOR KEY SHARE``), done once per distinct value:
    when it holds, no concurrent transaction can delete a referenced row or
    change its key before this one commits, so the per-row trigger adds nothing.
    """
    q = staging.q
    with staging.connection.cursor() as cursor:
        for field in staging.fields:
            if not isinstance(field, models.ForeignKey):
                continue
            wanted = frame[field.column].dropna().unique().tolist()
            if not wanted:
                continue
            target = field.target_field
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {q(target.model._meta.db_table)} r "  # noqa: S608
                f"WHERE r.{q(field_column(target))} = ANY(%s) FOR KEY SHARE OF r) locked",
                [wanted],
            )
            if cursor.fetchone()[0] != len(wanted):
                return False
    return True


def _triggers_off(staging: Staging, frame: pd.DataFrame) -> str | None:
    """Switch this transaction's ``session_replication_role`` to ``replica`` (so the
    model table's foreign-key triggers do not fire) and return the previous value
    to restore, or ``None`` when that is not possible or not safe: not
    PostgreSQL, a role that may not set the parameter (superuser, or ``GRANT SET``
    on PostgreSQL 15+), a user trigger on the table (``replica`` silences those
    too), or a reference in the chunk ``frame`` that does not exist (the triggers
    then raise at commit, as without this path).

    Why it is safe: the validation maps every portfolio and instrument to an id
    it read, and ``_references_locked`` re-checks that each still exists and
    holds it ``FOR KEY SHARE`` to the end of the transaction — the exact
    guarantee the RI triggers would give row by row (at commit, since Django's
    foreign keys are ``DEFERRABLE INITIALLY DEFERRED``; for a million rows that
    is two million index look-ups after the insert). Check, unique and NOT NULL
    constraints are not triggers and still apply. Only the chunk's INSERT runs
    with the setting; it is restored right after (and by ``SET LOCAL`` at the
    transaction's end in any case), so the audit row and everything else keep
    their triggers.
    """
    connection = staging.connection
    if connection.vendor != "postgresql":
        return None
    if not any(isinstance(f, models.ForeignKey) for f in staging.fields):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [staging.model._meta.db_table],
        )
        if cursor.fetchone()[0]:
            return None
        cursor.execute("SHOW session_replication_role")
        previous = cursor.fetchone()[0]
    if previous == "replica":
        return None
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        return None  # not allowed for this role: the savepoint undid it
    if not _references_locked(staging, frame):
        _triggers_restore(staging, previous)
        return None
    return previous


def _triggers_restore(staging: Staging, previous: str | None) -> None:
    if previous is None:
        return
    with staging.connection.cursor() as cursor:
        cursor.execute("SELECT set_config('session_replication_role', %s, true)", [previous])


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


def chunk_store(
    staging: Staging,
    frame: pd.DataFrame,
    *,
    extra_insert: dict[str, Any] | None = None,
    portfolio_column: str | None = None,
    instrument_column: str | None = None,
) -> UpsertCounts:
    """Store one validated chunk (db columns + ``ROW``) in the model's table by
    natural key; return the counts and the portfolios and instruments whose rows
    were created or changed (for an update, the portfolio the row belonged to
    before as well).

    ``extra_insert`` gives values for NOT NULL columns that only a new row takes
    (``created_at``); an update leaves them alone. Imports of one table are
    serialised (``staging_lock``), so no other import adds keys meanwhile.
    """
    staging_clear(staging)
    staging_write(staging, frame)
    connection = staging.connection
    extra = extra_insert or {}
    q = staging.q
    target = q(staging.model._meta.db_table)
    insert = (
        f"INSERT INTO {target} ({', '.join(q(c) for c in [*staging.columns, *extra])}) "  # noqa: S608
        f"SELECT {', '.join([f's.{q(c)}' for c in staging.columns] + ['%s'] * len(extra))} "
        f"FROM {q(staging.table)} s"
    )
    previous_role = _triggers_off(staging, frame)
    try:
        try:
            # A savepoint: a plain INSERT, without the speculative insertion of
            # ON CONFLICT (about twice as fast on PostgreSQL), for the usual chunk
            # of new rows; a key already in the table raises and undoes it.
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(insert, list(extra.values()))
        except IntegrityError:
            return _merge(staging, insert, extra, portfolio_column, instrument_column)
    finally:
        _triggers_restore(staging, previous_role)
    return UpsertCounts(
        created=len(frame),
        portfolio_ids=_ids(frame, portfolio_column),
        instrument_ids=_ids(frame, instrument_column),
    )


def _ids(frame: pd.DataFrame, column: str | None) -> frozenset[int]:
    if column is None:
        return frozenset()
    return frozenset(frame[column].dropna().unique().tolist())


def _merge(
    staging: Staging,
    insert: str,
    extra: dict[str, Any],
    portfolio_column: str | None,
    instrument_column: str | None,
) -> UpsertCounts:
    """The staged chunk into the table with ``ON CONFLICT (natural key) DO UPDATE``
    of the rows whose values differ (some of its keys are already there)."""
    natural_key = staging.natural_key
    q = staging.q
    target = q(staging.model._meta.db_table)
    stage = q(staging.table)
    join = _key_join(staging, natural_key)
    differs = _differs(staging, "s", "t", natural_key)
    tracked = [column for column in (portfolio_column, instrument_column) if column]
    pk = q(field_column(staging.model._meta.pk))
    # One pass over the chunk joined to the table gives every count and id: rows
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
