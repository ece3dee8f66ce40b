"""Performance summary of the TRIO book (+1 %, −2 %, +3 %; benchmark +0.5 %, −1 %, +2 %)."""

import datetime as dt
import math
import statistics

import pytest

from reports.blocks.base import ReportPeriod
from reports.blocks.performance_summary import BLOCK
from tests.reports.blocks.conftest import (
    FEBRUARY_TO_MARCH,
    MAR,
    SINCE_INCEPTION,
    context_for,
    table,
)

RETURNS = (0.01, -0.02, 0.03)
BENCHMARK = (0.005, -0.01, 0.02)


def _kpis(section):
    return {kpi.label: kpi.value for kpi in section.kpis}


def test_since_inception_figures_follow_the_worked_example(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    assert section.key == "performance_summary-TRIO"
    assert section.unavailable is None
    kpis = _kpis(section)
    assert kpis["Return over the period"] == pytest.approx(1.01 * 0.98 * 1.03 - 1)
    assert kpis["Volatility (annualised)"] == pytest.approx(
        statistics.stdev(RETURNS) * math.sqrt(252)
    )
    assert kpis["Sharpe ratio"] == pytest.approx(
        statistics.mean(RETURNS) / statistics.stdev(RETURNS) * math.sqrt(252)
    )
    assert kpis["Maximum drawdown"] == pytest.approx(-0.02)

    periods = {row["period"]: row for row in table(section, "period_returns")}
    assert periods["Day"]["portfolio"] == pytest.approx(0.03)
    assert periods["Day"]["benchmark"] == pytest.approx(0.02)
    assert periods["Year to date"]["portfolio"] == pytest.approx(1.01 * 0.98 * 1.03 - 1)
    assert periods["Year to date"]["benchmark"] == pytest.approx(1.005 * 0.99 * 1.02 - 1)
    assert periods["Year to date"]["active_arithmetic"] == pytest.approx(
        (1.01 * 0.98 * 1.03) - (1.005 * 0.99 * 1.02)
    )
    assert periods["1 year"]["portfolio"] is None  # the history is three months long
    # Three returns are far less than a year: since inception stays cumulative (GIPS).
    since_inception = periods["Since inception, cumulative, under a year"]
    assert since_inception["portfolio"] == pytest.approx(1.01 * 0.98 * 1.03 - 1)


def test_metrics_tables_show_portfolio_beside_benchmark(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    metrics = {row["metric"]: row for row in table(section, "metrics_returns_and_risk")}
    assert metrics["Cumulative return"]["benchmark"] == pytest.approx(1.005 * 0.99 * 1.02 - 1)
    assert metrics["Maximum drawdown"]["benchmark"] == pytest.approx(-0.01)
    sample = {row["metric"]: row for row in table(section, "metrics_sample")}
    assert sample["Daily returns used"]["portfolio"] == 3
    assert any("base currency (USD)" in note for note in section.notes)
    assert any("risk-free rate of 0.00%" in note for note in section.notes)


def test_a_period_slice_is_honoured(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, FEBRUARY_TO_MARCH))

    kpis = _kpis(section)
    assert kpis["Return over the period"] == pytest.approx(0.98 * 1.03 - 1)
    assert kpis["Volatility (annualised)"] == pytest.approx(
        statistics.stdev(RETURNS[1:]) * math.sqrt(252)
    )
    # The drawdown of the period is measured from its start: −2 % on its first return.
    assert kpis["Maximum drawdown"] == pytest.approx(-0.02)
    assert any("2 daily returns dated 2024-02-29 to 2024-03-28" in n for n in section.notes)


def test_no_snapshot_gives_a_reason_not_an_empty_table(alice, trio, empty_view):
    [section] = BLOCK.build(context_for(alice, trio, empty_view, SINCE_INCEPTION))

    assert section.unavailable == "No analytics snapshot has been computed for this portfolio yet."
    assert section.tables == []


def test_a_period_longer_than_the_history_says_so(alice, trio, trio_view):
    one_year = ReportPeriod("1y", "1 year", dt.date(2023, 3, 29), MAR)
    [section] = BLOCK.build(context_for(alice, trio, trio_view, one_year))

    assert {kpi.label: kpi.value for kpi in section.kpis}["Return over the period"] == (
        pytest.approx(1.01 * 0.98 * 1.03 - 1)
    )
    assert any("history begins after the period's start (2023-03-29)" in n for n in section.notes)
