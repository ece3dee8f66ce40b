"""The fast path's PostgreSQL shortcut: with every referenced portfolio and
instrument verified and locked ``FOR KEY SHARE``, the trade INSERT runs with
``session_replication_role = replica`` (no per-row foreign-key triggers); the
setting is restored right after, and a role that may not set it, or a staged
reference that does not exist, takes the ordinary path."""

import uuid

import pandas as pd
import pytest
from django.db import connection

from analytics.ingest import bulk
from analytics.ingest.parsers import ROW
from analytics.models import ImportStatus, Trade
from analytics.services.imports.runs import data_import

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="session_replication_role is PostgreSQL's"
)

TRADES = (
    b"portfolio,instrument,trade_date,side,quantity,price,fees,currency,external_id\n"
    b"GROWTH,AAA,2024-01-02,buy,100,10.50,1,USD,T-1\n"
    b"GROWTH,SAP.DE,2024-01-03,buy,20,150.25,0,,T-2\n"
    b"GROWTH,AAA,2024-01-04,sell,40,11,1,USD,T-3\n"
)


def _role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


@pytest.fixture
def shortcut(monkeypatch):
    """Record what ``_triggers_off`` returned for each import."""
    results = []
    original = bulk._triggers_off

    def spy(staging, frame):
        result = original(staging, frame)
        results.append(result)
        return result

    monkeypatch.setattr(bulk, "_triggers_off", spy)
    return results


def _import(source="broker-a", body=TRADES):
    import io

    return data_import(kind="trades", stream=io.BytesIO(body), file_name="t.csv", source=source)


def _superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return cursor.fetchone()[0]


def test_the_shortcut_imports_everything_and_restores_the_role(world, aaa, sap, shortcut):
    if not _superuser():
        pytest.skip("needs a role that may set session_replication_role")
    run = _import()
    assert run.status == ImportStatus.COMMITTED
    assert shortcut == ["origin"]  # taken, and the previous value kept to restore
    assert _role() == "origin"
    assert Trade.objects.filter(source="broker-a").count() == 3
    trade = Trade.objects.get(external_id="T-2")
    assert (trade.portfolio, trade.instrument, trade.currency) == (world, sap, "EUR")
    # The referenced rows are locked FOR KEY SHARE until the transaction ends.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'relation' "
            "AND relation = 'analytics_portfolio'::regclass AND pid = pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1

    again = _import()
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    assert _role() == "origin"


def test_a_role_that_may_not_set_it_takes_the_ordinary_path(world, aaa, sap, shortcut):
    role = f"ingest_plain_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER')
        cursor.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        cursor.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
        cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        cursor.execute(f'SET LOCAL ROLE "{role}"')
    try:
        run = _import()
        assert _role() == "origin"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert run.status == ImportStatus.COMMITTED, run.message
    assert shortcut == [None]
    assert Trade.objects.filter(source="broker-a").count() == 3


def test_a_reference_that_does_not_exist_keeps_the_triggers(world, aaa):
    staging = bulk.staging_create(
        connection=connection,
        model=Trade,
        field_names=("portfolio", "instrument", "trade_date", "settle_date", "side",
                     "quantity", "price", "fees", "currency", "external_id", "source"),
        natural_key=("source", "external_id"),
    )  # fmt: skip
    frame = pd.DataFrame(
        {
            ROW: [2],
            "portfolio_id": [world.pk + 10_000],  # no such portfolio
            "instrument_id": [aaa.pk],
            "trade_date": ["2024-01-02"],
            "settle_date": ["2024-01-02"],
            "side": ["buy"],
            "quantity": ["1"],
            "price": ["1"],
            "fees": ["0"],
            "currency": ["USD"],
            "external_id": ["X-1"],
            "source": ["broker-a"],
        }
    )
    assert bulk._triggers_off(staging, frame) is None
    assert _role() == "origin"
    bulk.staging_drop(staging)
