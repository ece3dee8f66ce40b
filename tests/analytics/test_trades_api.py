"""``GET /api/portfolios/{id}/trades/``: the portfolio's trades oldest first,
filtered by trade dates and instrument, paged as JSON or sent whole as a file;
bob sees GROWTH through his desk, mallory gets 404."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from portal.models import AuditAction, AuditEvent
from tests.analytics.factories import TradeFactory
from tests.factories import InstrumentFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(portfolio):
    return f"/api/portfolios/{portfolio.pk}/trades/"


@pytest.fixture
def trades(growth, bob):
    acme = InstrumentFactory(identifier="ACME", name="Acme Corp")
    beta = InstrumentFactory(identifier="BETA", name="=1+2")
    return [
        # Created out of date order: the answer sorts by trade date.
        TradeFactory(
            portfolio=growth,
            instrument=acme,
            trade_date=dt.date(2024, 1, 5),
            quantity=Decimal("3"),
            price=Decimal("20.5"),
            fees=Decimal("1.25"),
            external_id="T-3",
        ),
        TradeFactory(
            portfolio=growth,
            instrument=acme,
            trade_date=dt.date(2024, 1, 2),
            quantity=Decimal("10"),
            price=Decimal("20"),
            external_id="T-1",
            trader=bob,
        ),
        TradeFactory(
            portfolio=growth,
            instrument=beta,
            trade_date=dt.date(2024, 1, 3),
            side="sell",
            quantity=Decimal("4"),
            price=Decimal("7.5"),
            external_id="T-2",
        ),
    ]


def test_trades_come_oldest_first_with_their_gross_value_and_paged(bob, growth, trades):
    response = api(bob).get(url(growth), {"limit": 2})
    assert response.status_code == 200
    payload = response.json()
    assert payload["count"] == 3
    assert payload["next"] is not None
    first, second = payload["results"]
    assert (first["external_id"], first["trade_date"], first["settle_date"]) == (
        "T-1",
        "2024-01-02",
        "2024-01-04",
    )
    assert (first["instrument"], first["side"], first["trader"]) == ("ACME", "buy", "Bob")
    assert first["gross_value"] == "200.000000"  # 10 × 20
    assert (second["external_id"], second["side"], second["gross_value"]) == (
        "T-2",
        "sell",
        "30.000000",  # 4 × 7.5
    )
    (event,) = AuditEvent.objects.filter(action=AuditAction.API_READ)
    assert event.portfolio_id == growth.pk
    assert event.details == {"data": "trades"}


def test_trades_filter_by_dates_and_instrument(bob, growth, trades):
    client = api(bob)
    dated = client.get(url(growth), {"date_from": "2024-01-03", "date_to": "2024-01-05"}).json()
    assert [t["external_id"] for t in dated["results"]] == ["T-2", "T-3"]
    acme = client.get(url(growth), {"instrument": "acme"}).json()
    assert [t["external_id"] for t in acme["results"]] == ["T-1", "T-3"]


def test_a_backwards_date_range_is_a_400_naming_date_to(bob, growth, trades):
    response = api(bob).get(url(growth), {"date_from": "2024-01-05", "date_to": "2024-01-02"})
    assert response.status_code == 400
    assert response.json() == {"date_to": ["date_to must not be before date_from"]}


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_an_outsider_gets_404(mallory, growth, trades, file_format):
    assert api(mallory).get(url(growth), {"format": file_format}).status_code == 404


def test_trades_as_csv_are_every_filtered_trade_with_text_neutralised(bob, growth, trades):
    response = api(bob).get(url(growth), {"format": "csv", "date_from": "2024-01-03"})
    assert response["Content-Disposition"] == 'attachment; filename="GROWTH-trades.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [
        (r["trade_date"], r["instrument"], r["instrument_name"], r["side"], r["gross_value"])
        for r in rows
    ] == [
        ("2024-01-03", "BETA", "'=1+2", "sell", "30.000000"),
        ("2024-01-05", "ACME", "Acme Corp", "buy", "61.500000"),  # 3 × 20.5, fees apart
    ]
    assert rows[1]["fees"] == "1.250000"
    assert rows[0]["trader"] == ""
    (event,) = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert event.details["rows"] == 2
    assert event.details["date_from"] == "2024-01-03"
    assert event.details["data"] == "trades"
