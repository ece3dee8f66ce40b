"""VaR and CVaR against hand calculations on a ten-return series."""

import math

import numpy as np
import pandas as pd
import pytest

from analytics.engine.var import (
    cornish_fisher_var,
    historical_cvar,
    historical_var,
    monte_carlo_var,
    normal_cvar,
    normal_var,
    scale_to_horizon,
)

# Sorted: −5 %, −3 %, −2 %, −1 %, 0, 1 %, 2 %, 3 %, 4 %, 6 %. Sum 0.05, so the mean is 0.005.
# Deviations ±0.055, ±0.035, ±0.025, ±0.015, ±0.005 (symmetric: skew 0).
# Σd² = 2 × (0.003025 + 0.001225 + 0.000625 + 0.000225 + 0.000025) = 0.01025.
TEN = np.array([0.03, -0.05, 0.0, 0.06, -0.02, 0.01, -0.03, 0.04, 0.02, -0.01])
MEAN = 0.005
STD = math.sqrt(0.01025 / 9)  # ddof = 1: 0.0337474
Z_95 = -1.6448536269514722  # Φ⁻¹(0.05), from the normal table
PHI_AT_Z_95 = 0.10313564037537128  # φ(1.6448536) = exp(−z²/2)/√(2π)


def test_historical_var_interpolates_numpy_style_between_order_statistics():
    # 90 %: position (10 − 1) × 0.10 = 0.9 between −5 % and −3 %: −0.05 + 0.9 × 0.02 = −0.032.
    assert historical_var(TEN, 0.90) == pytest.approx(0.032, abs=1e-15)
    # 80 %: position 1.8 between −3 % and −2 %: −0.03 + 0.8 × 0.01 = −0.022.
    assert historical_var(TEN, 0.80) == pytest.approx(0.022, abs=1e-15)


def test_historical_cvar_averages_the_worst_returns_up_to_the_var_rank():
    # 90 %: ⌊9 × 0.1⌋ + 1 = 1 worst return: 5 %.
    assert historical_cvar(TEN, 0.90) == pytest.approx(0.05, abs=1e-15)
    # 80 %: ⌊9 × 0.2⌋ + 1 = 2 worst returns: (5 % + 3 %) / 2 = 4 %.
    assert historical_cvar(TEN, 0.80) == pytest.approx(0.04, abs=1e-15)


def test_confidence_of_95_percent_uses_a_tail_of_exactly_5_percent():
    # 21 returns: (21 − 1) × 0.05 = 1.0 exactly, so two worst returns are averaged (1 − 0.95
    # in floating point is 0.050000000000000044, which must not matter here).
    returns = np.arange(-10, 11) / 100
    assert historical_cvar(returns, 0.95) == pytest.approx(0.095, abs=1e-15)
    assert historical_var(returns, 0.95) == pytest.approx(0.09, abs=1e-15)


def test_normal_var_and_cvar():
    # VaR = −(μ + z σ) = −(0.005 − 1.6448536 × 0.0337474) = 0.0505095.
    assert normal_var(TEN, 0.95) == pytest.approx(-(MEAN + Z_95 * STD), abs=1e-12)
    assert normal_var(TEN, 0.95) == pytest.approx(0.0505095, abs=1e-7)
    # CVaR = −(μ − σ φ(z) / 0.05) = −(0.005 − 0.0337474 × 2.0627128) = 0.0646113.
    assert normal_cvar(TEN, 0.95) == pytest.approx(-(MEAN - STD * PHI_AT_Z_95 / 0.05), abs=1e-12)
    assert normal_cvar(TEN, 0.95) == pytest.approx(0.0646113, abs=1e-7)


def test_cornish_fisher_var_of_a_symmetric_platykurtic_series():
    # Skew 0 by symmetry. Σd⁴ = 2 × (9.150625 + 1.500625 + 0.390625 + 0.050625 + 0.000625)e-6
    # = 2.218625e-5, so m4 = 2.218625e-6 and m2 = 0.001025, m2² = 1.050625e-6;
    # g2 = 2.218625 / 1.050625 − 3 = −0.8882808; adjusted excess kurtosis
    # K = 9 / (8 × 7) × (11 × g2 + 6) = 0.1607143 × (−3.7710878) = −0.6060678.
    g2 = 2.218625 / 1.050625 - 3
    kurtosis = 9 / 56 * (11 * g2 + 6)
    assert kurtosis == pytest.approx(-0.6060678, abs=1e-7)
    # z_cf = z + (z³ − 3z) K / 24 (the skew terms vanish)
    #      = −1.6448536 + (−4.4502230 + 4.9345609) × (−0.6060678) / 24 = −1.6570845.
    z_cf = Z_95 + (Z_95**3 - 3 * Z_95) * kurtosis / 24
    assert z_cf == pytest.approx(-1.6570845, abs=1e-7)
    # VaR = −(0.005 − 1.6570845 × 0.0337474) = 0.0509223.
    assert cornish_fisher_var(TEN, 0.95) == pytest.approx(-(MEAN + z_cf * STD), abs=1e-12)
    assert cornish_fisher_var(TEN, 0.95) == pytest.approx(0.0509223, abs=1e-7)


def test_cornish_fisher_uses_the_skew_terms():
    # A right-skewed series; moments from pandas (an independent implementation), formula by hand.
    series = pd.Series([0.01, -0.02, 0.005, 0.08, -0.01, 0.0, 0.03, -0.015, 0.12, 0.002])
    skew, kurtosis = series.skew(), series.kurt()
    z = Z_95
    z_cf = (
        z
        + (z**2 - 1) * skew / 6
        + (z**3 - 3 * z) * kurtosis / 24
        - (2 * z**3 - 5 * z) * skew**2 / 36
    )
    expected = -(series.mean() + z_cf * series.std())
    assert cornish_fisher_var(series.to_numpy(), 0.95) == pytest.approx(expected, abs=1e-14)


def test_var_is_vectorised_and_a_dataframe_gives_a_series():
    frame = pd.DataFrame({"a": TEN, "b": -TEN})
    result = historical_var(frame, 0.90)
    assert list(result.index) == ["a", "b"]
    # −TEN sorted starts −6 %, −4 %: −0.06 + 0.9 × 0.02 = −0.042.
    assert result["b"] == pytest.approx(0.042, abs=1e-15)


def test_a_missing_value_makes_the_historical_estimates_missing():
    with_gap = TEN.copy()
    with_gap[3] = np.nan
    assert math.isnan(historical_var(with_gap, 0.95))
    assert math.isnan(historical_cvar(with_gap, 0.95))
    assert math.isnan(normal_var(with_gap, 0.95))


def test_square_root_of_time_scaling():
    # 10-day VaR from a 1-day VaR of 2 %: 0.02 × √10 = 0.0632456.
    assert scale_to_horizon(0.02, 10) == pytest.approx(0.0632455532, abs=1e-10)
    with pytest.raises(ValueError):
        scale_to_horizon(0.02, 0)


def test_monte_carlo_is_reproducible_from_its_seed_and_close_to_the_normal_var():
    first = monte_carlo_var(TEN, 0.95, simulations=200_000, seed=7)
    again = monte_carlo_var(TEN, 0.95, simulations=200_000, seed=7)
    assert first.var == again.var and first.cvar == again.cvar
    # One period of normal draws: the simulated VaR converges on the parametric one.
    assert first.var == pytest.approx(normal_var(TEN, 0.95), abs=5e-4)
    assert first.cvar == pytest.approx(normal_cvar(TEN, 0.95), abs=5e-4)


def test_monte_carlo_compounds_over_the_horizon():
    # A constant +1 % a period (σ = 0) compounds to 1.01¹⁰ − 1 over ten periods: VaR is −0.1046.
    result = monte_carlo_var(np.full(5, 0.01), 0.99, horizon=10, simulations=100, seed=1)
    assert result.var == pytest.approx(-(1.01**10 - 1), abs=1e-12)


def test_horizon_scaling_scales_the_deviation_by_root_time_and_the_drift_by_time():
    # Normal 1-day VaR at 99 % with μ = +0.1 %, σ = 1 %: z = −2.326348, so
    # VaR₁ = −(0.001 − 2.326348 × 0.01) = 0.0222635. Over 20 days the rule is
    # −z·σ·√20 − 20·μ = 0.02326348 × 4.472136 − 0.02 = 0.1040374 − 0.02 = 0.0840374.
    z = -2.3263478740408408
    one_day = -(0.001 + z * 0.01)
    assert scale_to_horizon(one_day, 20, mean=0.001) == pytest.approx(0.0840374, abs=1e-7)
    # A negative drift of −0.1 % a day adds to the loss: 0.1040374 + 0.02 = 0.1240374.
    one_day_down = -(-0.001 + z * 0.01)
    assert scale_to_horizon(one_day_down, 20, mean=-0.001) == pytest.approx(0.1240374, abs=1e-7)
    # Scaling the whole 1-day figure by √20 would give 0.0995653 and 0.1085096: wrong both ways.
    assert scale_to_horizon(one_day, 20, mean=0.001) < one_day * 20**0.5
    assert scale_to_horizon(one_day_down, 20, mean=-0.001) > one_day_down * 20**0.5
    # Zero drift is the plain square-root rule.
    assert scale_to_horizon(0.02, 10, mean=0.0) == pytest.approx(0.0632455532, abs=1e-10)


def test_horizon_scaling_takes_a_drift_per_column():
    one_day = np.array([0.0222635, 0.0242635])
    scaled = scale_to_horizon(one_day, 20, mean=np.array([0.001, -0.001]))
    assert scaled == pytest.approx([0.0840374, 0.1240374], abs=1e-6)
