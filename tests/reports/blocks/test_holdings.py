"""The holdings block: the positions at the end of the period, valued and
weighed by hand (the book of ``desk_book``: on 31 January 50 ALP at 14 = 700,
200 BET at 21 = 4,200 and 5,730 USD of cash; net assets 10,630)."""

import datetime as dt

import pytest

from reports.blocks import holdings
from reports.blocks.base import ReportPeriod
from tests.factories import PortfolioFactory
from tests.reports.blocks.desk_book import context_of, desk_book, rows_of


@pytest.fixture
def desk(alice, bob, django_capture_on_commit_callbacks):
    return desk_book(owner=alice, trader=bob, capture=django_capture_on_commit_callbacks)


def test_holdings_at_the_end_of_the_period_sorted_by_weight(alice, desk, empty_view):
    [section] = holdings.BLOCK.build(context_of(alice, desk, empty_view))
    [table] = section.tables
    rows = rows_of(table)

    assert [row["identifier"] for row in rows] == ["CASH-USD", "BET", "ALP"]
    bet, alp = rows[1], rows[2]
    assert (bet["instrument"], bet["sector"], bet["country"]) == ("Beta", "Technology", "GB")
    assert (bet["quantity"], bet["price"], bet["market_value"]) == (200.0, 21.0, 4200.0)
    assert bet["weight"] == pytest.approx(4200 / 10_630)
    assert (alp["quantity"], alp["market_value"]) == (50.0, 700.0)
    assert alp["weight"] == pytest.approx(700 / 10_630)
    assert rows[0]["market_value"] == pytest.approx(5730.0)
    assert sum(row["weight"] for row in rows) == pytest.approx(1.0)
    assert table.title == "Holdings on 2024-01-31"
    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert kpis["Net assets"] == pytest.approx(10_630.0)
    assert kpis["Holdings"] == 3


def test_an_earlier_period_end_shows_the_holdings_of_then(alice, desk, empty_view):
    period = ReportPeriod("custom", "Custom range", dt.date(2024, 1, 1), dt.date(2024, 1, 9))
    [section] = holdings.BLOCK.build(context_of(alice, desk, empty_view, period=period))
    rows = {row["identifier"]: row for row in rows_of(section.tables[0])}
    # At the close of 8 January: 200 ALP at 12, 200 BET at 20, 3,780 USD.
    assert rows["ALP"]["market_value"] == 2400.0
    assert section.kpis[0].value == pytest.approx(2400 + 4000 + 3780)


def test_a_portfolio_without_positions_is_unavailable(alice, empty_view):
    empty = PortfolioFactory(code="EMPTY", owner=alice)
    [section] = holdings.BLOCK.build(context_of(alice, empty, empty_view))
    assert section.unavailable and not section.tables
