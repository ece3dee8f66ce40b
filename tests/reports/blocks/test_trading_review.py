"""The trading-review block on the hand-computed book of ``desk_book``."""

import pytest

from reports.blocks import trading_review
from tests.reports.blocks.desk_book import AVERAGE_NET_ASSETS, context_of, desk_book, rows_of


@pytest.fixture
def desk(alice, bob, django_capture_on_commit_callbacks):
    return desk_book(owner=alice, trader=bob, capture=django_capture_on_commit_callbacks)


def test_the_review_per_strategy_and_trader(alice, desk, empty_view):
    [section] = trading_review.BLOCK.build(context_of(alice, desk, empty_view))

    assert section.unavailable is None
    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert kpis["Total P&L"] == pytest.approx(630.0)
    assert kpis["Realised P&L"] == pytest.approx(350.0)
    assert kpis["Contribution to return"] == pytest.approx(630.0 / AVERAGE_NET_ASSETS)
    assert kpis["Hit rate"] == 1.0
    # Bought 1,000 + 4,020 + 1,200 = 6,220; sold 1,950.
    assert kpis["Turnover"] == pytest.approx(1950.0 / AVERAGE_NET_ASSETS)
    assert kpis["Slippage"] == pytest.approx(20.0 / 8150.0 * 10_000)

    strategies = {row["strategy"]: row for row in rows_of(section.tables[0])}
    assert list(strategies) == ["momentum", "value", "rebalance"]  # by total P&L
    momentum = strategies["momentum"]
    assert (momentum["realised_pnl"], momentum["unrealised_pnl_change"]) == pytest.approx(
        (350.0, 100.0)
    )
    assert (momentum["round_trips"], momentum["hit_rate"]) == (2, 1.0)
    assert momentum["win_loss_ratio"] is None  # no losing round trip
    assert momentum["average_holding_days"] == pytest.approx((100 * 13 + 50 * 7) / 150)
    value = strategies["value"]
    assert value["total_pnl"] == pytest.approx(180.0)
    assert value["slippage_bps"] == pytest.approx(50.0)
    assert value["round_trips"] == 0 and value["hit_rate"] is None
    assert strategies["rebalance"]["total_pnl"] == 0.0

    traders = {row["trader"]: row for row in rows_of(section.tables[1])}
    assert traders["bob"]["total_pnl"] == pytest.approx(450.0)
    assert traders["alice"]["total_pnl"] == pytest.approx(180.0)

    [figure] = section.figures
    bars = figure.figure["data"]
    assert list(bars[0]["x"]) == ["momentum", "value", "rebalance"]
    assert list(bars[0]["y"]) == pytest.approx([350.0, 0.0, 0.0])


def test_average_cost_is_an_option(alice, desk, empty_view):
    [section] = trading_review.BLOCK.build(context_of(alice, desk, empty_view, method="average"))
    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    # Average cost 11: 150 × (13 − 11) = 300 realised; the total is the same 630.
    assert kpis["Realised P&L"] == pytest.approx(300.0)
    assert kpis["Total P&L"] == pytest.approx(630.0)
    assert "average cost" in " ".join(section.notes)


def test_a_portfolio_without_trades_is_unavailable(alice, empty_view):
    from tests.factories import PortfolioFactory

    quiet = PortfolioFactory(code="QUIET", owner=alice)
    [section] = trading_review.BLOCK.build(context_of(alice, quiet, empty_view))
    assert section.unavailable and "No trades" in section.unavailable
