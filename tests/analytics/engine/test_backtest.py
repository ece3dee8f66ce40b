"""VaR backtests: exceptions, Kupiec's test by hand and the Basel zones at their boundaries."""

import math

import numpy as np
import pytest

from analytics.engine.backtest import (
    Zone,
    backtest_var,
    binomial_cdf,
    kupiec_test,
    rolling_var_backtest,
    traffic_light,
    var_exceptions,
)
from tests import backtest_history

CHI2_1_CRITICAL_5_PERCENT = 3.841458820694124  # χ²(1) 95 % quantile, from the table


def test_an_exception_is_the_next_days_loss_strictly_above_todays_var():
    returns = np.array([0.0, -0.02, -0.03, 0.01, -0.021])
    forecasts = np.array([0.02, 0.02, 0.02, 0.02, 0.02])
    # Day 1 loses exactly the VaR (not an exception), day 2 loses more (exception),
    # day 3 gains, day 4 loses 2.1 % > 2 % (exception). The last forecast is not tested yet.
    np.testing.assert_array_equal(var_exceptions(returns, forecasts), [False, True, False, True])


def test_the_forecast_of_today_is_compared_with_tomorrow_not_today():
    returns = np.array([-0.05, 0.0])
    forecasts = np.array([0.01, 0.01])
    # The 5 % loss happened on the day of the first forecast, not the day after it.
    np.testing.assert_array_equal(var_exceptions(returns, forecasts), [False])


def test_missing_values_are_rejected():
    with pytest.raises(ValueError, match="missing"):
        var_exceptions(np.array([0.01, np.nan]), np.array([0.02, 0.02]))


def test_kupiec_statistic_for_five_exceptions_in_250_days_at_99_percent():
    # LR = −2 ln[0.99²⁴⁵ 0.01⁵] + 2 ln[0.98²⁴⁵ 0.02⁵] = 2 [245 ln(0.98/0.99) + 5 ln 2]
    #    = 2 [245 × (−0.0101523715) + 3.4657359] = 1.9568077.
    expected = 2 * (245 * math.log(0.98 / 0.99) + 5 * math.log(2))
    result = kupiec_test(5, 250, 0.99)
    assert result.statistic == pytest.approx(expected, abs=1e-12)
    assert result.statistic == pytest.approx(1.95681, abs=1e-5)
    assert result.statistic < CHI2_1_CRITICAL_5_PERCENT and not result.reject
    # P(χ²₁ > 1.9568) = 0.1619 (table).
    assert result.p_value == pytest.approx(0.1619, abs=1e-4)


def test_kupiec_rejects_ten_exceptions():
    # 2 [240 ln(0.96/0.99) + 10 ln 4] = 12.9555.
    expected = 2 * (240 * math.log(0.96 / 0.99) + 10 * math.log(4))
    result = kupiec_test(10, 250, 0.99)
    assert result.statistic == pytest.approx(expected, abs=1e-12)
    assert result.statistic > CHI2_1_CRITICAL_5_PERCENT and result.reject


def test_kupiec_also_rejects_too_few_exceptions():
    # x = 0: LR = −2 × 250 ln 0.99 = 5.0251679 > 3.8415, p = 0.0250.
    result = kupiec_test(0, 250, 0.99)
    assert result.statistic == pytest.approx(-500 * math.log(0.99), abs=1e-12)
    assert result.p_value == pytest.approx(0.0250, abs=1e-4)
    assert result.reject


def test_kupiec_statistic_is_zero_when_the_rate_is_exactly_as_expected():
    result = kupiec_test(25, 2500, 0.99)
    assert result.statistic == pytest.approx(0.0, abs=1e-9)
    assert result.p_value == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(
    ("exceptions", "zone", "cumulative"),
    [
        # Basel Committee (1996), table 2: 250 observations at 99 %.
        (0, Zone.GREEN, 0.0811),
        (4, Zone.GREEN, 0.8922),
        (5, Zone.YELLOW, 0.9588),
        (9, Zone.YELLOW, 0.9997),
        (10, Zone.RED, 0.9999),
    ],
)
def test_basel_traffic_light_boundaries(exceptions, zone, cumulative):
    assert traffic_light(exceptions, 250, 0.99) is zone
    assert binomial_cdf(exceptions, 250, 0.01) == pytest.approx(cumulative, abs=5e-5)


def test_traffic_light_generalises_to_other_samples():
    # 500 days at 99 %: expected 5; P(X ≤ 8) = 0.9333 (green), P(X ≤ 9) = 0.9683 (yellow).
    assert traffic_light(8, 500, 0.99) is Zone.GREEN
    assert traffic_light(9, 500, 0.99) is Zone.YELLOW


def test_backtest_reports_both_tests_which_can_disagree():
    # 251 dates → 250 tested forecasts of a constant 2 % VaR; zero exceptions.
    returns = np.zeros(251)
    forecasts = np.full(251, 0.02)
    result = backtest_var(returns, forecasts, 0.99)
    assert result.observations == 250
    assert result.exceptions == 0
    assert result.expected_exceptions == pytest.approx(2.5)
    # Too few exceptions: the traffic light is green but Kupiec rejects the model.
    assert result.zone is Zone.GREEN
    assert result.kupiec.reject


def test_rolling_backtest_finds_the_six_exceptions_worked_out_by_hand():
    # tests.backtest_history explains the VaR before each large loss and why no
    # other day is an exception.
    returns = backtest_history.backtest_returns()
    outcome = rolling_var_backtest(returns, window=250, observations=250, confidence=0.99)
    assert outcome is not None
    assert outcome.first == 250
    assert outcome.result.observations == 250
    assert outcome.result.exceptions == 6
    hits = np.flatnonzero(outcome.exceptions) + outcome.first
    assert tuple(hits) == backtest_history.EXCEPTION_POSITIONS
    forecasts = outcome.forecasts[np.array(backtest_history.EXCEPTION_POSITIONS) - 250]
    assert forecasts == pytest.approx(backtest_history.VAR_BEFORE_EXCEPTIONS)
    # The first tested day's forecast is the VaR of positions 0..249: ten -0.02 ticks.
    assert outcome.forecasts[0] == pytest.approx(0.02)


def test_rolling_backtest_tests_fewer_days_when_the_history_is_short():
    returns = backtest_history.backtest_returns()[:300]  # 250-day window, 50 tested days
    outcome = rolling_var_backtest(returns, window=250, observations=250, confidence=0.99)
    assert outcome is not None
    assert outcome.result.observations == 50
    assert outcome.result.exceptions == 1  # the -0.03 at position 260
    assert (
        rolling_var_backtest(returns[:250], window=250, observations=250, confidence=0.99) is None
    )
