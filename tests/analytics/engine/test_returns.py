"""Return arithmetic against hand-computed examples."""

import math

import numpy as np
import pandas as pd
import pytest

from analytics.engine.returns import (
    annualise,
    annualised_return,
    arithmetic_active_return,
    calendar_table,
    compound_annual_growth_rate,
    cumulative_return,
    geometric_active_return,
    link_returns,
    period_returns,
    periodic_rate,
)


def test_linking_compounds_the_period_returns():
    # 1.10 × 0.95 × 1.02 = 1.0659, so the three periods link to +6.59 %.
    path = link_returns(np.array([0.10, -0.05, 0.02]))
    # After two periods 1.10 × 0.95 = 1.045.
    np.testing.assert_allclose(path, [0.10, 0.045, 0.0659], rtol=0, atol=1e-15)
    assert cumulative_return(np.array([0.10, -0.05, 0.02])) == pytest.approx(0.0659, abs=1e-15)


def test_linking_is_not_the_sum_of_returns():
    # +50 % then −50 %: 1.5 × 0.5 = 0.75, a 25 % loss, although the returns sum to zero.
    assert cumulative_return(np.array([0.5, -0.5])) == pytest.approx(-0.25, abs=1e-15)


def test_a_period_shorter_than_a_year_is_not_annualised():
    # Six months of +1 %: 1.01⁶ − 1 = 0.0615201506; half a year must not be annualised (GIPS).
    result = annualised_return(np.full(6, 0.01), periods_per_year=12)
    assert not result.annualised
    assert result.years == 0.5
    assert result.value == pytest.approx(0.0615201506010, abs=1e-12)
    assert result.value == result.cumulative


def test_a_period_of_two_years_is_annualised_geometrically():
    # 24 months of +1 %: cumulative 1.01²⁴ − 1 = 0.2697346485; per year (1.01²⁴)^(1/2) − 1
    # = 1.01¹² − 1 = 0.1268250301.
    result = annualised_return(np.full(24, 0.01), periods_per_year=12)
    assert result.annualised
    assert result.cumulative == pytest.approx(0.2697346485, abs=1e-10)
    assert result.value == pytest.approx(0.1268250301, abs=1e-10)


def test_exactly_one_year_is_annualised_and_equals_the_cumulative():
    # 1.21 over one year: (1.21)^(1/1) − 1 = 0.21.
    result = annualise(0.21, 1.0)
    assert result.annualised
    assert result.value == pytest.approx(0.21, abs=1e-15)


def test_compound_annual_growth_rate_annualises_even_short_histories():
    # The empyrical-style statistic: 126 days of +0.1 %: 1.001^252 − 1 = 0.2864...
    growth = compound_annual_growth_rate(np.full(126, 0.001), periods_per_year=252)
    assert growth == pytest.approx(1.001**252 - 1, abs=1e-12)


def test_periodic_rate_compounds_back_to_the_annual_rate():
    # (1 + 0.05)^(1/252) − 1 per day; 252 days of it compound to 5 %.
    daily = periodic_rate(0.05, 252)
    assert daily == pytest.approx(1.05 ** (1 / 252) - 1, abs=1e-16)
    assert (1 + daily) ** 252 - 1 == pytest.approx(0.05, abs=1e-12)


def test_a_missing_return_makes_the_cumulative_return_missing():
    assert math.isnan(cumulative_return(np.array([0.01, np.nan, 0.02])))


@pytest.fixture
def daily_returns_around_year_end():
    dates = pd.to_datetime(
        ["2023-12-28", "2023-12-29", "2024-01-02", "2024-03-28", "2024-04-01", "2024-04-02"]
    )
    return pd.Series([0.01, 0.02, -0.01, 0.03, 0.01, 0.02], index=dates)


def test_to_date_periods_link_the_returns_of_the_current_month_quarter_and_year(
    daily_returns_around_year_end,
):
    result = period_returns(daily_returns_around_year_end)
    assert result.day == 0.02
    # April so far: 1.01 × 1.02 − 1 = 0.0302; the second quarter began in April too.
    assert result.month_to_date == pytest.approx(0.0302, abs=1e-15)
    assert result.quarter_to_date == pytest.approx(0.0302, abs=1e-15)
    # 2024 so far: 0.99 × 1.03 × 1.01 × 1.02 = 1.05049494.
    assert result.year_to_date == pytest.approx(0.05049494, abs=1e-14)
    # Since inception: 1.01 × 1.02 × 1.05049494 = 1.082219887188, six days: not annualised.
    assert result.since_inception.value == pytest.approx(0.082219887188, abs=1e-12)
    assert not result.since_inception.annualised


def test_trailing_periods_longer_than_the_history_are_missing(daily_returns_around_year_end):
    result = period_returns(daily_returns_around_year_end)
    assert math.isnan(result.one_year)
    assert math.isnan(result.three_years)
    assert math.isnan(result.five_years)


def test_as_of_moves_the_window_back(daily_returns_around_year_end):
    # On 2024-03-28: March so far is +3 %; the first quarter 0.99 × 1.03 − 1 = 0.0197.
    result = period_returns(daily_returns_around_year_end, as_of=pd.Timestamp("2024-03-28"))
    assert result.month_to_date == pytest.approx(0.03, abs=1e-15)
    assert result.quarter_to_date == pytest.approx(0.0197, abs=1e-15)


def test_trailing_years_exclude_the_return_dated_on_the_window_start():
    # Month ends 2021-12-31 … 2024-12-31, +1 % a month, except −50 % on 2021-12-31 (inception)
    # and +50 % on 2023-12-31, exactly one year before the last date.
    dates = pd.date_range("2021-12-31", "2024-12-31", freq="ME")
    returns = pd.Series(0.01, index=dates)
    returns[pd.Timestamp("2021-12-31")] = -0.5
    returns[pd.Timestamp("2023-12-31")] = 0.5
    result = period_returns(returns, periods_per_year=12)
    # One year: January–December 2024 only, 1.01¹² − 1 = 0.1268250301.
    assert result.one_year == pytest.approx(1.01**12 - 1, abs=1e-12)
    # Three years: the 36 months after 2021-12-31, which include the +50 %:
    # (1.01³⁵ × 1.5)^(1/3) − 1.
    assert result.three_years == pytest.approx((1.01**35 * 1.5) ** (1 / 3) - 1, abs=1e-12)
    assert math.isnan(result.five_years)
    # Three months of the fourth quarter: 1.01³ − 1 = 0.030301.
    assert result.quarter_to_date == pytest.approx(0.030301, abs=1e-12)
    # Since inception: 37 months, annualised over 37/12 years.
    total = 0.5 * 1.01**35 * 1.5
    assert result.since_inception.value == pytest.approx(total ** (12 / 37) - 1, abs=1e-12)


def test_calendar_table_links_months_and_years():
    dates = pd.to_datetime(["2023-11-15", "2023-11-30", "2023-12-29", "2024-01-31"])
    table = calendar_table(pd.Series([0.10, -0.10, 0.05, 0.02], index=dates))
    # November 2023: 1.10 × 0.90 − 1 = −0.01; 2023: 0.99 × 1.05 − 1 = 0.0395.
    assert table.loc[2023, 11] == pytest.approx(-0.01, abs=1e-15)
    assert table.loc[2023, 12] == pytest.approx(0.05, abs=1e-15)
    assert table.loc[2023, "year"] == pytest.approx(0.0395, abs=1e-15)
    assert table.loc[2024, 1] == pytest.approx(0.02, abs=1e-15)
    assert table.loc[2024, "year"] == pytest.approx(0.02, abs=1e-15)
    # Months without an observation are missing, not zero.
    assert math.isnan(table.loc[2023, 1])
    assert list(table.columns) == [*range(1, 13), "year"]


def test_a_missing_return_makes_its_month_and_year_missing():
    dates = pd.to_datetime(["2024-01-10", "2024-01-31", "2024-02-29"])
    table = calendar_table(pd.Series([0.01, np.nan, 0.02], index=dates))
    assert math.isnan(table.loc[2024, 1])
    assert math.isnan(table.loc[2024, "year"])
    assert table.loc[2024, 2] == pytest.approx(0.02)


def test_active_returns_arithmetic_and_geometric():
    # 5 % against 3 %: arithmetic 0.02; geometric 1.05 / 1.03 − 1 = 0.0194174757.
    assert arithmetic_active_return(0.05, 0.03) == pytest.approx(0.02, abs=1e-15)
    assert geometric_active_return(0.05, 0.03) == pytest.approx(0.0194174757, abs=1e-10)


def test_geometric_active_returns_link_over_time():
    portfolio = np.array([0.05, -0.02])
    benchmark = np.array([0.03, 0.01])
    linked_active = cumulative_return(geometric_active_return(portfolio, benchmark))
    # (1.05 × 0.98) / (1.03 × 1.01) − 1: the active return of the whole period.
    assert linked_active == pytest.approx(1.05 * 0.98 / (1.03 * 1.01) - 1, abs=1e-15)
