"""The trades block: each fill of the period with what it realised (FIFO), its
slippage against the close, trader and strategy (the book of ``desk_book``)."""

import datetime as dt
from collections.abc import Iterator

import pytest

from reports.blocks import trades
from reports.blocks.base import ReportPeriod
from tests.reports.blocks.desk_book import JAN_31, context_of, desk_book, rows_of


@pytest.fixture
def desk(alice, bob, django_capture_on_commit_callbacks):
    return desk_book(owner=alice, trader=bob, capture=django_capture_on_commit_callbacks)


def test_each_trade_with_its_realised_pnl_slippage_trader_and_strategy(alice, desk, empty_view):
    [section] = trades.BLOCK.build(context_of(alice, desk, empty_view))
    [table] = section.tables
    assert isinstance(table.rows, Iterator)  # streamed, not built in memory first
    rows = rows_of(table)

    assert [(r["trade_date"], r["instrument"], r["side"], r["quantity"]) for r in rows] == [
        (dt.date(2024, 1, 2), "ALP", "Buy", 100.0),
        (dt.date(2024, 1, 2), "BET", "Buy", 200.0),
        (dt.date(2024, 1, 8), "ALP", "Buy", 100.0),
        (dt.date(2024, 1, 15), "ALP", "Sell", 150.0),
    ]
    assert [r["realised_pnl"] for r in rows[:3]] == [None, None, None]
    assert rows[3]["realised_pnl"] == pytest.approx(350.0)  # 100 × 3 + 50 × 1
    assert [r["slippage_bps"] for r in rows] == pytest.approx([0.0, 50.0, 0.0, 0.0])
    assert [(r["trader"], r["strategy"]) for r in rows] == [
        ("bob", "momentum"),
        ("alice", "value"),
        ("bob", "momentum"),
        ("bob", "rebalance"),
    ]
    assert rows[1]["price"] == pytest.approx(20.10) and rows[1]["currency"] == "USD"
    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert kpis["Trades"] == 4
    assert kpis["Realised P&L"] == pytest.approx(350.0)
    assert kpis["Bought"] == pytest.approx(1000 + 4020 + 1200)
    assert kpis["Sold"] == pytest.approx(1950)


def test_only_the_period_is_listed_but_earlier_lots_are_matched(alice, desk, empty_view):
    after_the_buys = ReportPeriod("custom", "Custom range", dt.date(2024, 1, 10), JAN_31)
    [section] = trades.BLOCK.build(context_of(alice, desk, empty_view, period=after_the_buys))
    [row] = rows_of(section.tables[0])
    assert (row["side"], row["realised_pnl"]) == ("Sell", pytest.approx(350.0))


def test_a_period_without_trades_is_unavailable(alice, desk, empty_view):
    february = ReportPeriod("custom", "Custom range", dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    [section] = trades.BLOCK.build(context_of(alice, desk, empty_view, period=february))
    assert section.unavailable == "No trades in the period (custom range)."
