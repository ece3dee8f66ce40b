"""The currency filter converts every amount a widget shows — the KPI net assets,
the holdings' market values, the exposure treemap's amounts and the overview's
net assets — at the latest rate on or before the amount's date (the rule the
portfolio overview converts AUM with), and labels each with its currency code.

Worked by hand. GROWTH is in USD, its snapshot (as of 28 March 2024) has net
assets of 121 and it holds OIL 500, GAS 300 (Energy) and PWR 200 (Utilities) on
28 March. Rates: USD→EUR 0.9 on 27 March (and 0.5 on 29 March, after the as-of
date, never used); GBP→USD 1.25 on 28 March, so USD→GBP is 1 / 1.25 = 0.8; no
rate to JPY at all.

* EUR: net assets 121 × 0.9 = 108.9; holdings 450, 270, 180; Energy's gross
  exposure 450 + 270 = 720, Utilities' 180.
* GBP (the inverse pair): net assets 121 × 0.8 = 96.8; OIL 500 × 0.8 = 400.
* JPY: no rate, so amounts stay in USD, labelled USD, with a note.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import FxRate
from dashboards import services
from tests.dashboards.conftest import hold, snapshot_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(alice):
    return services.dashboard_create(
        owner=alice,
        name="Money",
        widgets=[
            {"kind": "kpis", "x": 0, "y": 0},
            {"kind": "holdings", "x": 0, "y": 2},
            {"kind": "exposure", "x": 6, "y": 2},
            {"kind": "overview", "x": 0, "y": 7},
        ],
    )


@pytest.fixture
def rates(db):
    for day, base, quote, rate in [
        (dt.date(2024, 3, 27), "USD", "EUR", "0.9"),
        (dt.date(2024, 3, 29), "USD", "EUR", "0.5"),
        (dt.date(2024, 3, 28), "GBP", "USD", "1.25"),
    ]:
        FxRate.objects.create(
            date=day, base_currency=base, quote_currency=quote, rate=Decimal(rate)
        )


@pytest.fixture
def growth_held(growth):
    snapshot_for(growth)
    hold(growth, "OIL", 500, sector="Energy")
    hold(growth, "GAS", 300, sector="Energy")
    hold(growth, "PWR", 200, sector="Utilities")
    return growth


def widget_data(client, board, kind, **query):
    widget = board.widgets.get(kind=kind)
    url = reverse("dashboard-api-widget-data", args=[board.pk, widget.pk])
    response = client.get(url, query)
    assert response.status_code == 200, response.content
    return response.json()


def net_assets_tile(payload):
    return next(t for t in payload["tiles"] if t["key"] == "net_assets")


def test_kpi_net_assets_in_the_chosen_currency_at_the_latest_rate_up_to_the_as_of_date(
    client, alice, board, growth_held, rates
):
    client.force_login(alice)
    base = net_assets_tile(widget_data(client, board, "kpis", portfolio=growth_held.pk))
    assert (base["value"], base["unit"]) == (pytest.approx(121.0), "USD")
    eur = widget_data(client, board, "kpis", portfolio=growth_held.pk, currency="EUR")
    assert (net_assets_tile(eur)["value"], net_assets_tile(eur)["unit"]) == (
        pytest.approx(108.9),
        "EUR",
    )
    assert eur["currency"] == "EUR"
    gbp = net_assets_tile(
        widget_data(client, board, "kpis", portfolio=growth_held.pk, currency="GBP")
    )
    assert (gbp["value"], gbp["unit"]) == (pytest.approx(96.8), "GBP")


def test_without_a_rate_amounts_stay_in_base_currency_labelled_so_with_a_note(
    client, alice, board, growth_held, rates
):
    client.force_login(alice)
    jpy = widget_data(client, board, "kpis", portfolio=growth_held.pk, currency="JPY")
    assert (net_assets_tile(jpy)["value"], net_assets_tile(jpy)["unit"]) == (
        pytest.approx(121.0),
        "USD",
    )
    assert "No USD→JPY rate" in jpy["currency_note"]
    table = widget_data(client, board, "holdings", portfolio=growth_held.pk, currency="JPY")
    assert table["table"]["currency"] == "USD"
    assert [r["market_value"] for r in table["table"]["rows"]] == pytest.approx([500, 300, 200])


def test_holdings_market_values_are_converted_and_the_column_names_the_currency(
    client, alice, board, growth_held, rates
):
    client.force_login(alice)
    payload = widget_data(client, board, "holdings", portfolio=growth_held.pk, currency="EUR")
    table = payload["table"]
    assert [(r["identifier"], r["market_value"]) for r in table["rows"]] == [
        ("OIL", pytest.approx(450.0)),
        ("GAS", pytest.approx(270.0)),
        ("PWR", pytest.approx(180.0)),
    ]
    value_column = next(c for c in table["columns"] if c["key"] == "market_value")
    assert value_column["label"] == "Value (EUR)"
    assert table["currency"] == "EUR"
    # Weights are fractions of net assets: the same in any currency.
    assert table["rows"][0]["weight"] == pytest.approx(0.5)
    in_gbp = widget_data(
        client, board, "holdings", portfolio=growth_held.pk, currency="GBP", sort="market_value"
    )["table"]
    assert [r["market_value"] for r in in_gbp["rows"]] == pytest.approx([160.0, 240.0, 400.0])


def test_the_exposure_treemap_shows_each_box_in_money_in_the_chosen_currency(
    client, alice, board, growth_held, rates
):
    client.force_login(alice)
    payload = widget_data(client, board, "exposure", portfolio=growth_held.pk, currency="EUR")
    trace = payload["figure"]["data"][0]
    amounts = dict(zip(trace["ids"], trace["customdata"], strict=True))
    assert amounts["sector:Energy"] == pytest.approx(720.0)
    assert amounts["sector:Utilities"] == pytest.approx(180.0)
    oil = next(node for node in amounts if node.startswith("instrument:") and node.endswith("/OIL"))
    assert amounts[oil] == pytest.approx(450.0)
    assert "EUR" in trace["hovertemplate"]
    assert payload["currency"] == "EUR"


def test_the_overview_converts_each_portfolio_and_keeps_one_without_a_rate_in_its_own(
    client, alice, board, growth_held, income, rates
):
    income.base_currency = "EUR"
    income.save(update_fields=["base_currency"])
    snapshot_for(income)  # net assets 121 EUR
    client.force_login(alice)
    eur = widget_data(client, board, "overview", currency="EUR")["table"]
    rows = {r["code"]: (r["net_assets"], r["currency"]) for r in eur["rows"]}
    assert rows == {
        "GROWTH": (pytest.approx(108.9), "EUR"),
        "INCOME": (pytest.approx(121.0), "EUR"),
    }
    assert next(c for c in eur["columns"] if c["key"] == "net_assets")["label"] == (
        "Net assets (EUR)"
    )
    gbp = widget_data(client, board, "overview", currency="GBP")
    rows = {r["code"]: (r["net_assets"], r["currency"]) for r in gbp["table"]["rows"]}
    # No EUR↔GBP rate: INCOME stays in EUR, and the note names it.
    assert rows == {
        "GROWTH": (pytest.approx(96.8), "GBP"),
        "INCOME": (pytest.approx(121.0), "EUR"),
    }
    assert gbp["currency_note"].startswith("INCOME: No EUR→GBP rate")
