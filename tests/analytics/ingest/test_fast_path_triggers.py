"""The fast path keeps every trigger on: it never touches
``session_replication_role``, imports as the production app's role (which may not
set it), and leaves the foreign keys to the database, which refuses a staged
reference that does not exist."""

import io

import pandas as pd
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from analytics.ingest import bulk
from analytics.ingest.parsers import ROW
from analytics.models import ImportStatus, Trade
from analytics.services.imports.runs import data_import
from tests.database_roles import app_role_create

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the foreign-key triggers are PostgreSQL's"
)

TRADES = (
    b"portfolio,instrument,trade_date,side,quantity,price,fees,currency,external_id\n"
    b"GROWTH,AAA,2024-01-02,buy,100,10.50,1,USD,T-1\n"
    b"GROWTH,SAP.DE,2024-01-03,buy,20,150.25,0,,T-2\n"
    b"GROWTH,AAA,2024-01-04,sell,40,11,1,USD,T-3\n"
)


def _import():
    return data_import(
        kind="trades", stream=io.BytesIO(TRADES), file_name="t.csv", source="broker-a"
    )


def test_an_import_never_touches_the_replication_role(world, aaa, sap):
    with CaptureQueriesContext(connection) as queries:
        run = _import()
        again = _import()
    assert run.status == ImportStatus.COMMITTED, run.message
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    assert not [q["sql"] for q in queries if "replication_role" in q["sql"]]
    trade = Trade.objects.get(external_id="T-2")
    assert (trade.portfolio, trade.instrument, trade.currency) == (world, sap, "EUR")


def test_the_app_role_imports_through_the_fast_path(world, aaa, sap):
    role = app_role_create()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        run = _import()
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == role
        cursor.execute("RESET ROLE")
    assert run.status == ImportStatus.COMMITTED, run.message
    assert Trade.objects.filter(source="broker-a").count() == 3


def test_the_database_refuses_a_reference_that_does_not_exist(world, aaa):
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
    # The foreign keys are checked at commit; IMMEDIATE brings the check forward
    # to the end of this savepoint's statements, where the test can see it.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        bulk.staging_write(staging, frame)
        bulk.staging_store(staging)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not Trade.objects.filter(external_id="X-1").exists()
    bulk.staging_drop(staging)
