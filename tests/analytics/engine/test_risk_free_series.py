"""Ratios over a risk-free series: periodic excess returns r_t − rf_t, worked by hand.

Four daily returns r = 1 %, 2 %, −1 %, 0 % over risk-free returns rf = 0.1 %, 0.2 %,
0.1 %, 0 % give the excess returns e = 0.9 %, 1.8 %, −1.1 %, 0 %:

* mean(e) = 1.6 % / 4 = 0.4 %; deviations 0.5, 1.4, −1.5, −0.4 (%), whose squares
  sum to 0.000462, so std(e) = √(0.000462 / 3) (ddof 1);
  Sharpe = 0.004 / √(0.000462 / 3) × √252.
* Shortfalls min(e, 0) = 0, 0, −1.1 %, 0: downside deviation √(0.000121 / 4) × √252,
  Sortino = 0.004 × 252 / that.
* Omega = gains / losses of e = (0.009 + 0.018) / 0.011.
* The benchmark b = r / 2 has beta 2, so the daily alpha is
  mean(r) − mean(rf) − 2 (mean(b) − mean(rf)) = 0.005 − 0.001 − 2 × (0.0025 − 0.001)
  = 0.001, annualised (1.001)^252 − 1.
"""

import math

import pandas as pd
import pytest

from analytics.engine.metrics import ReturnsDataError, metric_table
from analytics.engine.returns import daily_rates_from_monthly

DATES = pd.bdate_range("2024-01-02", periods=4)
RETURNS = pd.DataFrame({"fund": [0.01, 0.02, -0.01, 0.0]}, index=DATES)
BENCHMARK = pd.Series([0.005, 0.01, -0.005, 0.0], index=DATES, name="index")
RISK_FREE = pd.Series([0.001, 0.002, 0.001, 0.0], index=DATES)


@pytest.fixture
def table() -> pd.Series:
    return metric_table(RETURNS, BENCHMARK, risk_free_returns=RISK_FREE).loc["fund"]


def test_sharpe_over_a_risk_free_series_matches_the_hand_computation(table):
    assert table["sharpe"] == pytest.approx(0.004 / math.sqrt(0.000462 / 3) * math.sqrt(252))


def test_sortino_downside_and_omega_use_the_excess_returns(table):
    downside = math.sqrt(0.000121 / 4) * math.sqrt(252)
    assert table["downside_deviation"] == pytest.approx(downside)
    assert table["sortino"] == pytest.approx(0.004 * 252 / downside)
    assert table["omega"] == pytest.approx(0.027 / 0.011)


def test_alpha_subtracts_the_mean_risk_free_return(table):
    assert table["beta"] == pytest.approx(2.0)
    assert table["alpha"] == pytest.approx(1.001**252 - 1)


def test_a_series_differs_from_a_zero_rate():
    zero = metric_table(RETURNS, BENCHMARK).loc["fund"]
    # mean 0.5 %, std √(Σ(r − 0.5 %)² / 3) = √(0.0005 / 3)
    assert zero["sharpe"] == pytest.approx(0.005 / math.sqrt(0.0005 / 3) * math.sqrt(252))


def test_a_risk_free_series_on_other_dates_is_refused():
    with pytest.raises(ReturnsDataError, match="risk-free dates"):
        metric_table(RETURNS, BENCHMARK, risk_free_returns=RISK_FREE.iloc[1:])


def test_monthly_rates_spread_over_the_weekdays_and_carry_forward():
    monthly = pd.Series([0.01, 0.02], index=pd.PeriodIndex(["2024-01", "2024-02"], freq="M"))
    dates = pd.DatetimeIndex(["2023-12-29", "2024-01-02", "2024-02-29", "2024-03-01"])

    daily = daily_rates_from_monthly(monthly, dates)

    # January 2024 has 23 weekdays and February 21; March carries February forward.
    assert math.isnan(daily.iloc[0])
    assert daily.iloc[1] == pytest.approx(1.01 ** (1 / 23) - 1)
    assert daily.iloc[2] == pytest.approx(1.02 ** (1 / 21) - 1)
    assert daily.iloc[3] == pytest.approx(1.02 ** (1 / 21) - 1)
    january = daily_rates_from_monthly(monthly, pd.bdate_range("2024-01-01", "2024-01-31"))
    assert (1 + january).prod() - 1 == pytest.approx(0.01)
