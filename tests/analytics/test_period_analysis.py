"""Analytics of a stored snapshot over a report period, on hand-made snapshot results.

The history: returns +10 % (31 Jan 2024), −5 % (29 Feb), +2 % (28 Mar), +4 % (30 Apr);
wealth 1.1, 1.045, 1.0659, 1.108536. The benchmark returns +1 %, is not covered on
29 Feb, then +2 % and −1 %.
"""

import datetime as dt
import math
import statistics

import pytest

from analytics.services.period_analysis import (
    benchmark_from_cumulative,
    period_attribution,
    period_calendar,
    period_cumulative,
    period_drawdowns,
    period_metrics,
    period_returns_to_end,
    period_rolling,
    period_slice,
)
from tests.analytics.factories import allocation_months

DATES = ["2024-01-31", "2024-02-29", "2024-03-28", "2024-04-30"]
RETURNS = [0.10, -0.05, 0.02, 0.04]
# Stored as the snapshot does: the level carries over the uncovered date.
BENCHMARK_CUMULATIVE = [0.01, None, 1.01 * 1.02 - 1, 1.01 * 1.02 * 0.99 - 1]


def _result(**sections):
    return {
        "data": {"risk_free_rate": 0.0, "periods_per_year": 252, "benchmark": "BMK"},
        "series": {
            "net_assets": {
                "dates": ["2023-12-29", *DATES],
                "values": [1.0, 1.1, 1.045, 1.0659, 1.108536],
            },
            "returns": {"dates": DATES, "values": RETURNS},
            "benchmark_cumulative": {"dates": DATES, "values": BENCHMARK_CUMULATIVE},
        },
        **sections,
    }


MARCH_TO_APRIL = {"start": dt.date(2024, 3, 1), "end": dt.date(2024, 4, 30)}


def test_benchmark_returns_are_recovered_from_the_stored_cumulative_series():
    returns = benchmark_from_cumulative({"dates": DATES, "values": BENCHMARK_CUMULATIVE})

    assert returns.iloc[0] == pytest.approx(0.01)
    assert math.isnan(returns.iloc[1])  # not covered: not a zero
    assert returns.iloc[2:].tolist() == pytest.approx([0.02, -0.01])


def test_the_slice_holds_the_returns_dated_in_the_period_inclusive():
    period = period_slice(_result(), start=dt.date(2024, 2, 29), end=dt.date(2024, 3, 28))

    assert (period.first, period.last) == ("2024-02-29", "2024-03-28")
    assert period.returns.tolist() == [-0.05, 0.02]
    assert not period.whole_history and not period.reaches_as_of
    assert period_slice(_result(), start=None, end=dt.date(2024, 4, 30)).whole_history


def test_metrics_are_computed_on_the_period():
    result = _result()
    period = period_slice(result, **MARCH_TO_APRIL)

    metrics = period_metrics(result, period)

    assert metrics["source"] == "period"
    assert metrics["portfolio"]["cumulative_return"] == pytest.approx(1.02 * 1.04 - 1)
    assert metrics["portfolio"]["annual_volatility"] == pytest.approx(
        statistics.stdev([0.02, 0.04]) * math.sqrt(252)
    )
    assert metrics["benchmark"]["cumulative_return"] == pytest.approx(1.02 * 0.99 - 1)
    assert (metrics["start"], metrics["end"]) == ("2024-03-28", "2024-04-30")


def test_a_period_matching_a_stored_window_reuses_it():
    stored = {"start": "2024-03-28", "end": "2024-04-30", "portfolio": {"sharpe": 9.9}}
    result = _result(metrics={"definitions": {}, "windows": {"SI": {}, "1Y": stored}})

    metrics = period_metrics(result, period_slice(result, **MARCH_TO_APRIL))

    assert metrics["source"] == "1Y"
    assert metrics["portfolio"] == {"sharpe": 9.9}


def test_a_benchmark_gap_in_the_period_leaves_relative_metrics_out():
    result = _result()
    period = period_slice(result, start=None, end=None)

    metrics = period_metrics(result, period)

    assert metrics["benchmark"] is None
    assert metrics["portfolio"]["beta"] is None
    assert "does not cover 1 of the window's dates" in metrics["notes"][0]


def test_one_return_is_too_few_for_metrics():
    result = _result()
    period = period_slice(result, start=dt.date(2024, 4, 1), end=None)

    assert period_metrics(result, period)["available"] is False


def test_drawdowns_of_a_period_start_from_its_opening_wealth():
    result = _result(drawdowns={"stored": True})

    # Since inception the book is under water from February to April (1.1 → 1.045 → ...);
    # from the start of March it only rises.
    march_to_april = period_drawdowns(result, period_slice(result, **MARCH_TO_APRIL))
    assert march_to_april["max_drawdown"] == 0.0
    assert march_to_april["episodes"] == []
    february_to_april = period_drawdowns(
        result, period_slice(result, start=dt.date(2024, 2, 1), end=None)
    )
    [episode] = february_to_april["episodes"]
    assert episode["depth"] == pytest.approx(-0.05)
    assert episode["peak_date"] is None  # the value before the period's first return
    assert episode["recovery_date"] == "2024-04-30"  # 0.95 × 1.02 × 1.04 = 1.00776
    assert period_drawdowns(result, period_slice(result, start=None, end=None)) == {"stored": True}


def test_cumulative_series_starts_at_the_period():
    period = period_slice(_result(), start=dt.date(2024, 2, 1), end=None)

    series = period_cumulative(period)

    assert series["cumulative"]["values"] == pytest.approx(
        [-0.05, 0.95 * 1.02 - 1, 0.95 * 1.02 * 1.04 - 1]
    )
    assert series["benchmark_cumulative"]["values"][0] is None
    assert series["benchmark_cumulative"]["values"][1:] == pytest.approx([0.02, 1.02 * 0.99 - 1])


def test_calendar_of_a_period():
    result = _result(calendar={"stored": True})
    calendar = period_calendar(result, period_slice(result, **MARCH_TO_APRIL))

    row = calendar["portfolio"]["2024"]
    assert row[:2] == [None, None]  # before the period: not measured, not a zero
    assert row[2:4] == pytest.approx([0.02, 0.04])
    assert row[12] == pytest.approx(1.02 * 1.04 - 1)
    assert calendar["benchmark"]["2024"][2:4] == pytest.approx([0.02, -0.01])


def test_period_returns_end_on_the_period_end():
    result = _result(period_returns={"stored": True})
    march = period_returns_to_end(
        result, period_slice(result, start=None, end=dt.date(2024, 3, 31))
    )

    assert march["portfolio"]["day"] == pytest.approx(0.02)
    assert march["portfolio"]["mtd"] == pytest.approx(0.02)
    assert march["portfolio"]["ytd"] == pytest.approx(1.10 * 0.95 * 1.02 - 1)
    assert march["portfolio"]["since_inception_annualised"] is False  # GIPS: under a year
    assert period_returns_to_end(result, period_slice(result, start=None, end=None)) == {
        "stored": True
    }


def test_rolling_ratios_keep_the_periods_dates():
    rolling = {"dates": DATES, "windows": {"63": {"volatility": [None, 0.1, 0.2, 0.3]}}}
    result = _result(rolling=rolling)

    sliced = period_rolling(result, period_slice(result, **MARCH_TO_APRIL))

    assert sliced == {"dates": DATES[2:], "windows": {"63": {"volatility": [0.2, 0.3]}}}


def test_attribution_links_the_whole_months_of_the_period():
    monthly = allocation_months(DATES, RETURNS, [0.01, 0.0, 0.02, -0.01])
    window = {"start": DATES[0], "end": DATES[-1], "months": 4, "monthly": monthly, "groups": []}
    section = {"groupings": {"sector": {"SI": window}}}
    # 15 March to 30 April: March is cut, so only April counts.
    period = period_slice(_result(), start=dt.date(2024, 3, 15), end=None)

    linked = period_attribution(section, period, by="sector")

    assert linked["months"] == 1
    assert linked["active_return"] == pytest.approx(0.04 - -0.01)
    assert linked["totals"]["allocation"] == pytest.approx(0.05)  # one month: unscaled
    assert linked["portfolio_time_weighted_return"] == pytest.approx(0.04)
    assert (
        period_attribution(section, period_slice(_result(), start=None, end=None), by="sector")[
            "source"
        ]
        == "SI"
    )
    assert period_attribution(section, period, by="country")["available"] is False


def test_ratios_over_a_risk_free_series_are_left_empty_outside_the_stored_windows():
    result = _result()
    result["data"]["risk_free"] = {"kind": "series", "factor": "RF", "annual_rate": 0.04}

    metrics = period_metrics(result, period_slice(result, **MARCH_TO_APRIL))

    assert metrics["portfolio"]["sharpe"] is None  # never over a wrong rate
    assert metrics["portfolio"]["annual_volatility"] == pytest.approx(
        statistics.stdev([0.02, 0.04]) * math.sqrt(252)
    )
    assert "risk-free series RF" in metrics["notes"][-1]
