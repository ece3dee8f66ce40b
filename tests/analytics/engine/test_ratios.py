"""Ratios against hand calculations on the ten-return series of the VaR tests."""

import math

import numpy as np
import pandas as pd
import pytest

from analytics.engine.ratios import (
    annual_volatility,
    calmar_ratio,
    downside_deviation,
    excess_kurtosis,
    omega_ratio,
    rolling_beta,
    rolling_sharpe,
    rolling_volatility,
    sharpe_ratio,
    skewness,
    sortino_ratio,
    tail_ratio,
)

# Mean 0.005; Σ(r − mean)² = 0.01025 (see test_var.py).
TEN = np.array([0.03, -0.05, 0.0, 0.06, -0.02, 0.01, -0.03, 0.04, 0.02, -0.01])
STD = math.sqrt(0.01025 / 9)


def test_annual_volatility_uses_ddof_1_and_the_square_root_of_periods():
    # 0.0337474 × √252 = 0.5357244.
    assert annual_volatility(TEN) == pytest.approx(STD * math.sqrt(252), abs=1e-15)
    assert annual_volatility(TEN, periods_per_year=12) == pytest.approx(STD * math.sqrt(12))


def test_sharpe_ratio_without_and_with_a_risk_free_rate():
    # 0.005 / 0.0337474 × √252 = 2.3520.
    assert sharpe_ratio(TEN) == pytest.approx(0.005 / STD * math.sqrt(252), abs=1e-12)
    # 5 % a year is 1.05^(1/252) − 1 = 0.000193630 a day, subtracted from the mean.
    daily_rf = 1.05 ** (1 / 252) - 1
    expected = (0.005 - daily_rf) / STD * math.sqrt(252)
    assert sharpe_ratio(TEN, risk_free=0.05) == pytest.approx(expected, abs=1e-12)


def test_downside_deviation_averages_over_all_observations():
    # Shortfalls below 0: −5 %, −3 %, −2 %, −1 %; squares sum to 0.0039; /10 (all observations)
    # = 0.00039; √ = 0.0197484; × √252 = 0.3134964.
    expected = math.sqrt(0.0039 / 10) * math.sqrt(252)
    assert downside_deviation(TEN) == pytest.approx(expected, abs=1e-15)


def test_sortino_ratio():
    # 0.005 × 252 / (0.0197484 × √252) = 0.0793725 / 0.0197484 = 4.0192.
    expected = 0.005 * 252 / (math.sqrt(0.0039 / 10) * math.sqrt(252))
    assert sortino_ratio(TEN) == pytest.approx(expected, abs=1e-12)
    assert sortino_ratio(TEN) == pytest.approx(4.0192, abs=1e-4)


def test_omega_ratio_is_gains_over_losses_about_the_threshold():
    # Gains 0.03 + 0.06 + 0.01 + 0.04 + 0.02 = 0.16; losses 0.05 + 0.02 + 0.03 + 0.01 = 0.11.
    assert omega_ratio(TEN) == pytest.approx(0.16 / 0.11, abs=1e-15)


def test_calmar_ratio_divides_growth_by_the_deepest_drawdown():
    # Two periods of a year each (periods_per_year = 1): wealth 0.8 then 0.8 × 1.5 = 1.2.
    # CAGR = 1.2^(1/2) − 1 = 0.0954451; max drawdown −20 %; Calmar = 0.4772256.
    returns = np.array([-0.2, 0.5])
    assert calmar_ratio(returns, periods_per_year=1) == pytest.approx(
        (1.2**0.5 - 1) / 0.2, abs=1e-14
    )


def test_calmar_ratio_is_missing_without_a_drawdown():
    assert math.isnan(calmar_ratio(np.array([0.01, 0.02])))


def test_tail_ratio_uses_linear_percentiles():
    # 95th: position 9 × 0.95 = 8.55 → 0.04 + 0.55 × 0.02 = 0.051.
    # 5th: position 0.45 → −0.05 + 0.45 × 0.02 = −0.041. Ratio 0.051 / 0.041 = 1.2439.
    assert tail_ratio(TEN) == pytest.approx(0.051 / 0.041, abs=1e-14)


def test_skew_and_kurtosis_are_bias_corrected_like_pandas():
    # Symmetric series: skew 0; excess kurtosis −0.6060678 (worked in test_var.py).
    assert skewness(TEN) == pytest.approx(0.0, abs=1e-12)
    assert excess_kurtosis(TEN) == pytest.approx(-0.6060678, abs=1e-7)
    skewed = pd.Series([0.01, -0.02, 0.005, 0.08, -0.01, 0.0, 0.03, -0.015, 0.12, 0.002])
    assert skewness(skewed) == pytest.approx(skewed.skew(), abs=1e-14)
    assert excess_kurtosis(skewed) == pytest.approx(skewed.kurt(), abs=1e-13)


def test_constant_returns_have_no_dispersion():
    # All equal: the standard deviation is exactly 0 (not a 1e-18 residue), so Sharpe is inf.
    flat = np.full(20, 0.001)
    assert annual_volatility(flat) == 0.0
    assert sharpe_ratio(flat) == math.inf
    assert math.isnan(skewness(flat))


def test_ratios_are_vectorised_over_columns():
    frame = pd.DataFrame({"a": TEN, "b": 2 * TEN})
    result = sharpe_ratio(frame)
    assert list(result.index) == ["a", "b"]
    # Doubling every return doubles mean and std alike: same Sharpe ratio.
    assert result["a"] == pytest.approx(result["b"], abs=1e-12)


def test_rolling_volatility_and_sharpe_over_a_three_period_window():
    returns = pd.Series([0.01, -0.01, 0.03, 0.0])
    # Window [0.01, −0.01, 0.03]: mean 0.01, deviations 0, −0.02, 0.02, variance 0.0008 / 2.
    vol = rolling_volatility(returns, 3, periods_per_year=252)
    assert math.isnan(vol.iloc[1])
    assert vol.iloc[2] == pytest.approx(math.sqrt(0.0004) * math.sqrt(252), abs=1e-12)
    sharpe = rolling_sharpe(returns, 3)
    assert sharpe.iloc[2] == pytest.approx(0.01 / 0.02 * math.sqrt(252), abs=1e-10)


def test_rolling_beta_of_a_doubled_benchmark_is_two():
    benchmark = pd.Series([0.01, -0.02, 0.03, 0.005, -0.01])
    beta = rolling_beta(pd.DataFrame({"double": 2 * benchmark}), benchmark, 3)
    np.testing.assert_allclose(beta["double"].iloc[2:], 2.0, atol=1e-12)
    assert beta["double"].iloc[:2].isna().all()
