"""Drawdowns on tiny hand-worked series."""

import math

import numpy as np
import pandas as pd
import pytest

from analytics.engine.drawdown import (
    current_drawdown,
    drawdown_episodes,
    max_drawdown,
    max_drawdown_duration,
    scan_rows,
    time_to_recover,
    underwater,
)

# Wealth from 1: 1.1, 0.99, 0.891, 1.11375, 1.1694375, 1.110965625, 1.2220621875.
# Running peak: 1.1, 1.1, 1.1, 1.11375, 1.1694375, 1.1694375, 1.2220621875.
# Drawdown:     0, −0.10, −0.19, 0, 0, −0.05, 0.
TWO_EPISODES = pd.Series(
    [0.10, -0.10, -0.10, 0.25, 0.05, -0.05, 0.10],
    index=pd.bdate_range("2024-01-01", periods=7),
)


def test_underwater_curve_is_the_fall_from_the_running_peak():
    np.testing.assert_allclose(
        underwater(TWO_EPISODES).to_numpy(), [0, -0.10, -0.19, 0, 0, -0.05, 0], atol=1e-15
    )


def test_max_and_current_drawdown():
    assert max_drawdown(TWO_EPISODES) == pytest.approx(-0.19, abs=1e-15)
    assert current_drawdown(TWO_EPISODES) == 0.0


def test_episodes_deepest_first_with_peak_trough_and_recovery_dates():
    deepest, second = drawdown_episodes(TWO_EPISODES)
    dates = TWO_EPISODES.index
    assert deepest.depth == pytest.approx(-0.19, abs=1e-15)
    assert (deepest.peak_date, deepest.trough_date, deepest.recovery_date) == (
        dates[0],
        dates[2],
        dates[3],
    )
    # Peak on day 0, trough on day 2, back above the peak on day 3.
    assert (deepest.length, deepest.peak_to_trough, deepest.time_to_recover) == (3, 2, 1)
    assert second.depth == pytest.approx(-0.05, abs=1e-15)
    assert (second.peak_date, second.trough_date, second.recovery_date) == (
        dates[4],
        dates[5],
        dates[6],
    )
    assert (second.length, second.peak_to_trough, second.time_to_recover) == (2, 1, 1)


def test_top_limits_the_number_of_episodes():
    assert len(drawdown_episodes(TWO_EPISODES, top=1)) == 1


def test_a_loss_on_the_first_day_is_a_drawdown_from_the_starting_value():
    # Wealth 0.9, 0.945, 0.9261 against the starting peak of 1: never recovered.
    returns = pd.Series([-0.10, 0.05, -0.02], index=pd.bdate_range("2024-01-01", periods=3))
    (episode,) = drawdown_episodes(returns)
    assert episode.peak_date is None
    assert episode.peak_position == -1
    assert episode.trough_date == returns.index[0]
    assert episode.recovery_date is None
    assert episode.time_to_recover is None
    # From the start (position −1) to the last date (position 2): 3 periods.
    assert episode.length == 3
    assert current_drawdown(returns) == pytest.approx(0.9261 - 1, abs=1e-15)
    assert time_to_recover(returns) is None


def test_max_drawdown_duration_is_the_longest_drawdown_not_the_deepest():
    # −50 % then +100 % recovers exactly (0.5 × 2 = 1): 2 periods from the start to recovery.
    # Then 0.99 × 1.001⁴ < 1 stays under water for days 2–6: 6 − 1 = 5 periods, not recovered.
    returns = np.array([-0.5, 1.0, -0.01, 0.001, 0.001, 0.001, 0.001])
    assert max_drawdown(returns) == pytest.approx(-0.5, abs=1e-15)
    assert max_drawdown_duration(returns) == 5.0


def test_max_drawdown_duration_of_a_recovered_drawdown_counts_to_the_recovery():
    assert max_drawdown_duration(TWO_EPISODES.to_numpy()) == 3.0


def test_max_drawdown_duration_is_vectorised_across_columns():
    columns = np.column_stack(
        [
            TWO_EPISODES.to_numpy(),
            [0.01] * 7,  # never under water
            [-0.01] * 7,  # under water from the first day to the end: 7 periods
        ]
    )
    np.testing.assert_array_equal(max_drawdown_duration(columns), [3.0, 0.0, 7.0])


def test_time_to_recover_is_trough_to_recovery_of_the_deepest_drawdown():
    assert time_to_recover(TWO_EPISODES) == 1


def test_a_missing_return_makes_drawdown_statistics_missing():
    returns = np.array([[0.01, -0.02], [np.nan, 0.01], [0.01, 0.01]])
    deepest = max_drawdown(returns)
    durations = max_drawdown_duration(returns)
    assert math.isnan(deepest[0]) and math.isnan(durations[0])
    assert deepest[1] == pytest.approx(-0.02) and durations[1] == 3.0
    with pytest.raises(ValueError, match="missing"):
        drawdown_episodes(returns[:, 0])


@pytest.mark.parametrize("periods", [0, 1, 2, 3, 7, 49, 50, 51, 2520])
def test_blocked_scan_equals_numpys_accumulate(periods):
    rng = np.random.default_rng(periods)
    values = 1.0 + rng.normal(0.0, 0.02, (periods, 5))
    running_max = scan_rows(np.maximum, values.copy())
    np.testing.assert_array_equal(running_max, np.maximum.accumulate(values, axis=0))
    products = scan_rows(np.multiply, values.copy())
    np.testing.assert_allclose(products, np.multiply.accumulate(values, axis=0), rtol=1e-13)
