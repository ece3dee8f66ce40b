"""The per-table import lock is held for the store alone: while an import is still
reading its file (however slowly), another client can take the lock, and only once
every row is read and staged does the import take it, to merge the staged rows."""

import io

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from analytics.ingest import bulk
from analytics.models import ImportStatus, Trade
from analytics.services.imports.runs import data_import

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the import lock is a PostgreSQL advisory lock"
)

TRADES = (
    b"portfolio,instrument,trade_date,side,quantity,price,external_id\n"
    b"GROWTH,AAA,2024-01-02,buy,100,10.50,T-1\n"
    b"GROWTH,AAA,2024-01-03,buy,20,11,T-2\n"
    b"GROWTH,AAA,2024-01-04,sell,40,11,T-3\n"
)


def another_client_takes_the_lock() -> bool:
    """Whether a second session gets the trade table's import lock at once (it is
    released again at the end of its one-statement transaction)."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", bulk.staging_lock_key(Trade))
            return cursor.fetchone()[0]
    finally:
        other.close()


@postgresql_only
def test_a_slow_parse_leaves_the_lock_free_and_the_store_takes_it(world, monkeypatch):
    seen = {"while reading": [], "while storing": []}
    write, store = bulk.staging_write, bulk.staging_store

    def staged(staging, frame):
        # Called for each chunk while the file is still being read and validated.
        seen["while reading"].append(another_client_takes_the_lock())
        return write(staging, frame)

    def stored(staging, **options):
        seen["while storing"].append(another_client_takes_the_lock())
        return store(staging, **options)

    monkeypatch.setattr(bulk, "staging_write", staged)
    monkeypatch.setattr(bulk, "staging_store", stored)

    run = data_import(
        kind="trades", stream=io.BytesIO(TRADES), file_name="t.csv", source="oms", chunk_rows=1
    )

    assert run.status == ImportStatus.COMMITTED
    assert seen == {"while reading": [True, True, True], "while storing": [False]}
    assert (run.rows_created, run.rows_updated, run.rows_unchanged) == (3, 0, 0)


@postgresql_only
def test_an_input_with_bad_rows_never_takes_the_lock(world, monkeypatch):
    taken = []
    monkeypatch.setattr(bulk, "staging_lock", lambda **kwargs: taken.append(kwargs["model"]))
    bad = TRADES + b"GROWTH,ZZZ,2024-01-05,buy,1,1,T-4\n"
    run = data_import(kind="trades", stream=io.BytesIO(bad), file_name="t.csv", source="oms")
    assert run.status == ImportStatus.REJECTED
    assert taken == []
    assert another_client_takes_the_lock()


def test_counts_are_still_right_when_the_store_merges(world):
    first = data_import(kind="trades", stream=io.BytesIO(TRADES), file_name="t.csv", source="oms")
    assert (first.rows_created, first.rows_updated, first.rows_unchanged) == (3, 0, 0)
    amended = TRADES.replace(b"20,11,T-2", b"25,11,T-2")
    again = data_import(
        kind="trades",
        stream=io.BytesIO(amended + b"GROWTH,AAA,2024-01-05,buy,5,12,T-4\n"),
        file_name="t.csv",
        source="oms",
        chunk_rows=2,
    )
    assert again.status == ImportStatus.COMMITTED
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (1, 1, 2)
    assert Trade.objects.get(external_id="T-2", source="oms").quantity == 25
