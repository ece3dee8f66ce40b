"""Risk of the TRIO book: returns +1 %, −2 %, +3 % against its benchmark's +0.5 %,
−1 %, +2 %; beta is cov(r, b) / var(b) and the active returns are +0.5 %, −1 %, +1 %."""

import math
import statistics

import pytest

from reports.blocks.risk import BLOCK
from tests.reports.blocks.conftest import FEBRUARY_TO_MARCH, SINCE_INCEPTION, context_for, table

RETURNS = (0.01, -0.02, 0.03)
BENCHMARK = (0.005, -0.01, 0.02)


def test_relative_risk_follows_the_worked_example(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert kpis["Volatility (annualised)"] == pytest.approx(
        statistics.stdev(RETURNS) * math.sqrt(252)
    )
    assert kpis["Beta"] == pytest.approx(
        statistics.covariance(RETURNS, BENCHMARK) / statistics.variance(BENCHMARK)
    )
    active = [r - b for r, b in zip(RETURNS, BENCHMARK, strict=True)]
    assert kpis["Tracking error (annualised)"] == pytest.approx(
        statistics.stdev(active) * math.sqrt(252)
    )
    assert kpis["Information ratio"] == pytest.approx(
        statistics.mean(active) / statistics.stdev(active) * math.sqrt(252)
    )


def test_var_rows_are_labelled_with_method_confidence_and_window(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    rows = table(section, "value_at_risk")
    historical = next(
        row
        for row in rows
        if (row["method"], row["confidence"], row["horizon"]) == ("Historical", 0.95, 1)
    )
    # Sorted returns −2 %, +1 %, +3 %: the 5th percentile (linear) is −2 % + 0.1 × 3 %.
    assert historical["var"] == pytest.approx(0.017)
    assert historical["cvar"] == pytest.approx(0.02)  # the worst single return
    assert {row["method"] for row in rows} >= {"Historical", "Normal", "Cornish-Fisher"}
    title = next(t.title for t in section.tables if t.name == "value_at_risk")
    assert "3 daily returns, 2024-01-31 to 2024-03-28" in title
    assert any("VaR backtest: not enough history" in note for note in section.notes)


def test_the_backtest_shows_kupiec_and_the_basel_zone(alice, trio, trio_view):
    dates = ["2024-01-31", "2024-02-29", "2024-03-28"]
    trio_view.snapshot.result["var"]["backtest"] = {
        "window": 250,
        "result": {
            "observations": 250,
            "exceptions": 6,
            "expected_exceptions": 2.5,
            "exception_rate": 0.024,
            "confidence": 0.99,
            "kupiec": {"statistic": 3.5536, "p_value": 0.0594, "reject": False, "level": 0.05},
            "zone": "yellow",
            "cumulative_probability": 0.9863,
        },
        "dates": dates,
        "returns": [0.01, -0.02, 0.03],
        "forecasts": [0.015, 0.015, 0.02],
        "exception_dates": ["2024-02-29"],
    }
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    [row] = table(section, "var_backtest")
    assert (row["observations"], row["exceptions"], row["zone"]) == (250, 6, "Yellow")
    assert row["kupiec_result"] == "does not reject the model"
    assert row["kupiec_p_value"] == pytest.approx(0.0594)
    [figure] = section.figures
    assert figure.name == "var_backtest"


def test_a_period_slice_is_honoured(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, FEBRUARY_TO_MARCH))

    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert kpis["Volatility (annualised)"] == pytest.approx(
        statistics.stdev(RETURNS[1:]) * math.sqrt(252)
    )
    # Two points: beta is the slope between them, (3 % − −2 %) / (2 % − −1 %).
    assert kpis["Beta"] == pytest.approx(0.05 / 0.03)


def test_no_snapshot_gives_a_reason(alice, trio, empty_view):
    [section] = BLOCK.build(context_for(alice, trio, empty_view, SINCE_INCEPTION))

    assert section.unavailable and section.tables == []
