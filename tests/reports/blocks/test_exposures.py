"""Exposures of the DUO book: 1,500 USD arrive at the end of December 2023 and 10 AAA
(Energy, GB) are bought at 100; at the end of March AAA closes 101.9494, so the
portfolio holds 1,019.494 USD of AAA and 500 USD of cash (1,519.494 in all)."""

from decimal import Decimal

import pytest

from reports.blocks.exposures import BLOCK
from tests.analytics.factories import CashFlowFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory
from tests.reports.blocks.conftest import (
    DEC,
    FEBRUARY_TO_MARCH,
    SINCE_INCEPTION,
    context_for,
    stored_snapshot,
    table,
)

NET_ASSETS = 1019.494 + 500


@pytest.fixture
def duo(trio, alice):
    portfolio = PortfolioFactory(code="DUO", base_currency="USD", inception_date=DEC, owner=alice)
    aaa = InstrumentFactory(identifier="AAA")
    CashFlowFactory(portfolio=portfolio, date=DEC, amount=Decimal("1500"))
    TradeFactory(portfolio=portfolio, instrument=aaa, trade_date=DEC, quantity=10, price=100)
    return portfolio


@pytest.fixture
def duo_view(duo, django_capture_on_commit_callbacks):
    return stored_snapshot(duo, django_capture_on_commit_callbacks)


def test_exposure_by_sector_in_fractions_of_net_assets(alice, duo, duo_view):
    [section] = BLOCK.build(context_for(alice, duo, duo_view, SINCE_INCEPTION))

    assert (section.title, section.portfolio) == ("Exposures by sector", "DUO")
    rows = {row["sector"]: row for row in table(section, "exposure_by_sector")}
    assert rows["Energy"]["net"] == pytest.approx(1019.494 / NET_ASSETS)
    assert rows["Energy"]["short"] == 0
    assert rows["(none)"]["gross"] == pytest.approx(500 / NET_ASSETS)  # cash has no sector
    assert list(rows) == ["Energy", "(none)"]  # largest gross first
    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert kpis["Gross exposure"] == pytest.approx(1019.494 / NET_ASSETS)  # cash left out
    assert section.figures[0].figure["data"][0]["orientation"] == "h"


def test_exposure_by_another_attribute(alice, duo, duo_view):
    [section] = BLOCK.build(
        context_for(
            alice, duo, duo_view, SINCE_INCEPTION, **BLOCK.options_merged({"by": "asset_class"})
        )
    )

    rows = {row["asset_class"]: row["net"] for row in table(section, "exposure_by_asset_class")}
    assert rows == pytest.approx({"Equity": 1019.494 / NET_ASSETS, "Cash": 500 / NET_ASSETS})


def test_an_unknown_attribute_is_refused_with_a_message():
    with pytest.raises(ValueError, match="must be one of"):
        BLOCK.options_merged({"by": "colour"})


def test_exposures_before_the_period_end_say_they_are_as_of_the_latest_data(alice, duo, duo_view):
    period = FEBRUARY_TO_MARCH.__class__(
        "previous_month", "Previous month", None, FEBRUARY_TO_MARCH.start
    )
    [section] = BLOCK.build(context_for(alice, duo, duo_view, period))

    assert any("not the period's end 2024-02-01" in note for note in section.notes)


def test_unavailable_exposures_give_their_reason(alice, duo, duo_view):
    duo_view.snapshot.result["exposures"] = {"available": False, "reason": "No holdings."}
    [section] = BLOCK.build(context_for(alice, duo, duo_view, SINCE_INCEPTION))

    assert section.unavailable == "No holdings."
