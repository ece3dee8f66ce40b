"""Returns with external cash flows, checked against hand-worked and published examples."""

import math

import numpy as np
import pandas as pd
import pytest

from analytics.engine.flows import (
    MoneyWeightedStatus,
    daily_time_weighted_returns,
    modified_dietz,
    money_weighted_return,
    money_weighted_returns,
    time_weighted_return,
)
from analytics.engine.returns import cumulative_return

DATES = pd.to_datetime(["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"])


def _book() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alice's portfolio gets +50 on 5 March; Bob's valuation of 5 March is missing.

    Alice: 100 -> 110 -> 170 (after the +50) -> 153.
    Bob:   100 -> 102 -> (missing) -> 105.
    """
    values = pd.DataFrame(
        {"alice": [100.0, 110.0, 170.0, 153.0], "bob": [100.0, 102.0, np.nan, 105.0]},
        index=DATES,
    )
    flows = pd.DataFrame({"alice": [50.0]}, index=DATES[[2]])
    return values, flows


def test_flow_at_end_of_day_does_not_earn_that_days_return():
    values, flows = _book()
    daily = daily_time_weighted_returns(values, flows)  # default timing: end of day
    # 110/100 - 1 = 0.10; (170 - 50)/110 - 1 = 1/11; 153/170 - 1 = -0.10
    assert math.isnan(daily.loc[DATES[0], "alice"])
    assert daily["alice"].iloc[1:].tolist() == pytest.approx([0.10, 1 / 11, -0.10], abs=1e-15)
    # linked: 1.1 * (120/110) * 0.9 - 1 = 1.2 * 0.9 - 1 = 0.08
    assert time_weighted_return(values, flows)["alice"] == pytest.approx(0.08, abs=1e-15)


def test_flow_at_start_of_day_earns_that_days_return():
    values, flows = _book()
    daily = daily_time_weighted_returns(values, flows, flow_timing="start")
    # 5 March: 170 / (110 + 50) - 1 = 0.0625
    assert daily.loc[DATES[2], "alice"] == pytest.approx(0.0625, abs=1e-15)
    # linked: 1.1 * 1.0625 * 0.9 - 1 = 0.051875
    twr = time_weighted_return(values, flows, flow_timing="start")
    assert twr["alice"] == pytest.approx(0.051875, abs=1e-15)


def test_missing_valuation_gives_nan_not_a_zero_return():
    values, flows = _book()
    daily = daily_time_weighted_returns(values, flows)
    assert daily.loc[DATES[1], "bob"] == pytest.approx(0.02, abs=1e-15)
    # neither the day of the gap nor the day after may be computed
    assert daily["bob"].iloc[2:].isna().all()
    assert math.isnan(time_weighted_return(values, flows)["bob"])


def test_inception_day_needs_start_timing():
    values = pd.DataFrame({"carol": [0.0, 105.0]}, index=DATES[:2])
    flows = pd.DataFrame({"carol": [100.0]}, index=DATES[[1]])
    # at the open: 105 / (0 + 100) - 1 = 5 %; at the close there was no capital at work
    start = daily_time_weighted_returns(values, flows, flow_timing="start")
    end = daily_time_weighted_returns(values, flows, flow_timing="end")
    assert start.loc[DATES[1], "carol"] == pytest.approx(0.05, abs=1e-15)
    assert math.isnan(end.loc[DATES[1], "carol"])


def test_flow_on_a_date_without_valuation_row_is_rejected():
    values, _ = _book()
    stray = pd.DataFrame({"alice": [10.0]}, index=pd.to_datetime(["2024-03-02"]))
    with pytest.raises(ValueError, match="without a valuation row"):
        daily_time_weighted_returns(values, stray)


def test_unknown_flow_timing_is_rejected():
    values, flows = _book()
    with pytest.raises(ValueError, match="flow_timing"):
        daily_time_weighted_returns(values, flows, flow_timing="noon")


def test_linking_compounds_and_propagates_gaps():
    returns = pd.DataFrame({"a": [0.10, -0.05, 0.02], "b": [0.01, np.nan, 0.01]})
    linked = cumulative_return(returns)
    # 1.10 * 0.95 * 1.02 - 1 = 1.0659 - 1
    assert linked["a"] == pytest.approx(0.0659, abs=1e-15)
    assert math.isnan(linked["b"])


# Modified Dietz: April 2024 has 30 days, so start 1 April, end 1 May, and day 10 is 11 April.
APRIL_START, APRIL_END = pd.Timestamp("2024-04-01"), pd.Timestamp("2024-05-01")


def test_modified_dietz_classic_example_and_several_portfolios():
    start_value = pd.Series({"alice": 100.0, "bob": 200.0, "carol": 50.0})
    end_value = pd.Series({"alice": 125.0, "bob": 180.0, "carol": np.nan})
    flows = pd.DataFrame(
        {"alice": [20.0, np.nan], "bob": [np.nan, -30.0]},
        index=pd.to_datetime(["2024-04-11", "2024-04-21"]),
    )
    result = modified_dietz(
        start_value=start_value,
        end_value=end_value,
        flows=flows,
        start_date=APRIL_START,
        end_date=APRIL_END,
    )
    # alice: flow +20 at the end of day 10 of 30, weight (30 - 10)/30
    #   (125 - 100 - 20) / (100 + 20 * 20/30) = 5 / 113.33 = 3/68
    assert result["alice"] == pytest.approx(3 / 68, abs=1e-15)
    # bob: -30 at the end of day 20, weight 10/30
    #   (180 - 200 + 30) / (200 - 30 * 10/30) = 10 / 190
    assert result["bob"] == pytest.approx(10 / 190, abs=1e-15)
    assert math.isnan(result["carol"])


def test_modified_dietz_start_of_day_flow_gets_one_more_day():
    result = modified_dietz(
        start_value=pd.Series({"alice": 100.0}),
        end_value=pd.Series({"alice": 125.0}),
        flows=pd.DataFrame({"alice": [20.0]}, index=pd.to_datetime(["2024-04-11"])),
        start_date=APRIL_START,
        end_date=APRIL_END,
        flow_timing="start",
    )
    # weight (30 - 10 + 1)/30 = 0.7: 5 / (100 + 14)
    assert result["alice"] == pytest.approx(5 / 114, abs=1e-15)


def test_modified_dietz_rejects_flows_outside_the_period():
    with pytest.raises(ValueError, match="flow dates"):
        modified_dietz(
            start_value=pd.Series({"alice": 100.0}),
            end_value=pd.Series({"alice": 125.0}),
            flows=pd.DataFrame({"alice": [20.0]}, index=[APRIL_START]),
            start_date=APRIL_START,
            end_date=APRIL_END,
        )


def test_xirr_one_year_ten_percent():
    # 2023 has 365 days: -1000 then +1100 exactly one year later is 10 %
    result = money_weighted_return(["2023-01-01", "2024-01-01"], [-1000.0, 1100.0])
    assert result.solved
    assert result.rate == pytest.approx(0.10, abs=1e-12)


def test_xirr_two_contributions_over_two_years():
    # -1000, -1000 a year later, +2310 two years in: 1000 x^2 + 1000 x = 2310 at x = 1.1
    result = money_weighted_return(
        ["2021-01-01", "2022-01-01", "2023-01-01"], [-1000.0, -1000.0, 2310.0]
    )
    assert result.rate == pytest.approx(0.10, abs=1e-12)


def test_xirr_matches_the_excel_documentation_example():
    # Microsoft's XIRR help page: these flows give 0.373362535 (37.34 %). Excel stops
    # iterating at a tolerance near 1e-8, so its figure is only that precise.
    result = money_weighted_return(
        ["2008-01-01", "2008-03-01", "2008-10-30", "2009-02-15", "2009-04-01"],
        [-10000.0, 2750.0, 4250.0, 3250.0, 2750.0],
    )
    assert result.rate == pytest.approx(0.373362535, abs=1e-8)


def test_xirr_all_positive_flows_has_no_solution():
    result = money_weighted_return(["2023-01-01", "2024-01-01"], [1000.0, 1100.0])
    assert result.status is MoneyWeightedStatus.NO_SIGN_CHANGE
    assert result.rate is None
    assert not result.solved


def test_xirr_with_two_roots_reports_both_and_no_rate():
    # -100, +230, -132 a year apart: -100 x^2 + 230 x - 132 = 0 at x = 1.1 and x = 1.2
    result = money_weighted_return(
        ["2021-01-01", "2022-01-01", "2023-01-01"], [-100.0, 230.0, -132.0]
    )
    assert result.status is MoneyWeightedStatus.MULTIPLE_ROOTS
    assert result.rate is None
    assert result.roots == pytest.approx((0.10, 0.20), abs=1e-10)


def test_xirr_outside_the_search_range_is_reported_not_guessed():
    # a thousand-fold gain in one day would be (1e6)^365 a year
    result = money_weighted_return(["2023-01-01", "2023-01-02"], [-1.0, 1e6])
    assert result.status is MoneyWeightedStatus.NO_ROOT_IN_RANGE
    assert result.rate is None


def test_xirr_rejects_malformed_input():
    with pytest.raises(ValueError, match="at least two"):
        money_weighted_return(["2023-01-01"], [-1.0])
    with pytest.raises(ValueError, match="finite"):
        money_weighted_return(["2023-01-01", "2024-01-01"], [-1.0, np.nan])


def test_money_weighted_returns_from_valuations():
    # alice: 1000 at the start, +1000 contributed a year in, 2310 two years in -> 10 %
    results = money_weighted_returns(
        start_value=pd.Series({"alice": 1000.0, "bob": np.nan}),
        end_value=pd.Series({"alice": 2310.0, "bob": 10.0}),
        flows=pd.DataFrame({"alice": [1000.0]}, index=pd.to_datetime(["2022-01-01"])),
        start_date=pd.Timestamp("2021-01-01"),
        end_date=pd.Timestamp("2023-01-01"),
    )
    assert results["alice"].rate == pytest.approx(0.10, abs=1e-12)
    assert results["bob"].status is MoneyWeightedStatus.MISSING_VALUATION
