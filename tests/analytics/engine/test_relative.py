"""Benchmark-relative statistics on a portfolio that is exactly twice its benchmark."""

import math

import numpy as np
import pytest

from analytics.engine.relative import (
    alpha,
    beta,
    correlation,
    down_capture,
    information_ratio,
    tracking_error,
    up_capture,
)

BENCHMARK = np.array([0.01, -0.02, 0.03, 0.0])
DOUBLE = 2 * BENCHMARK  # 0.02, −0.04, 0.06, 0


def test_beta_and_correlation_of_a_doubled_benchmark():
    assert beta(DOUBLE, BENCHMARK) == pytest.approx(2.0, abs=1e-14)
    assert correlation(DOUBLE, BENCHMARK) == pytest.approx(1.0, abs=1e-14)
    assert correlation(-DOUBLE, BENCHMARK) == pytest.approx(-1.0, abs=1e-14)


def test_alpha_compounds_the_mean_daily_alpha():
    # Daily alpha = (mean r − rf) − 2 (mean b − rf) = rf because mean r = 2 mean b; compounded
    # over a year it is (1 + rf_daily)^252 − 1, i.e. the annual risk-free rate itself.
    assert alpha(DOUBLE, BENCHMARK) == pytest.approx(0.0, abs=1e-14)
    assert alpha(DOUBLE, BENCHMARK, risk_free=0.03) == pytest.approx(0.03, abs=1e-12)


def test_tracking_error_and_information_ratio_are_annualised():
    # Active returns r − b = b: mean 0.005; deviations 0.005, −0.025, 0.025, −0.005;
    # Σd² = 0.0013, variance (ddof 1) 0.0013 / 3.
    std = math.sqrt(0.0013 / 3)
    assert tracking_error(DOUBLE, BENCHMARK, 4) == pytest.approx(std * 2, abs=1e-15)
    assert information_ratio(DOUBLE, BENCHMARK, 4) == pytest.approx(0.005 / std * 2, abs=1e-12)


def test_up_and_down_capture():
    # Up periods (b > 0): b 1 %, 3 %; r 2 %, 6 %. With 4 periods a year, each CAGR is
    # growth^(4/2) − 1: (1.02 × 1.06)² − 1 = 0.16899344 against (1.01 × 1.03)² − 1 = 0.08222409.
    expected_up = ((1.02 * 1.06) ** 2 - 1) / ((1.01 * 1.03) ** 2 - 1)
    assert up_capture(DOUBLE, BENCHMARK, 4) == pytest.approx(expected_up, abs=1e-12)
    assert up_capture(DOUBLE, BENCHMARK, 4) == pytest.approx(2.05528, abs=1e-5)
    # Down periods (b < 0): b −2 %, r −4 %: (0.96⁴ − 1) / (0.98⁴ − 1) = 1.94061.
    expected_down = (0.96**4 - 1) / (0.98**4 - 1)
    assert down_capture(DOUBLE, BENCHMARK, 4) == pytest.approx(expected_down, abs=1e-12)


def test_a_flat_benchmark_has_no_beta():
    assert math.isnan(beta(DOUBLE, np.full(4, 0.001)))


def test_relative_statistics_are_vectorised_over_columns():
    columns = np.column_stack([DOUBLE, BENCHMARK, -BENCHMARK])
    np.testing.assert_allclose(beta(columns, BENCHMARK), [2.0, 1.0, -1.0], atol=1e-14)


def test_a_missing_benchmark_return_makes_results_missing():
    gappy = BENCHMARK.copy()
    gappy[1] = np.nan
    assert math.isnan(beta(DOUBLE, gappy))
    assert math.isnan(up_capture(DOUBLE, gappy))


def test_a_total_loss_on_a_date_not_selected_does_not_spoil_the_capture():
    # The portfolio loses everything on the benchmark's down day; its up-market growth is
    # still (1.02 × 1.06)² − 1 with 4 periods a year, as in the doubled example.
    wiped_out = np.array([0.02, -1.0, 0.06, 0.0])
    expected_up = ((1.02 * 1.06) ** 2 - 1) / ((1.01 * 1.03) ** 2 - 1)
    assert up_capture(wiped_out, BENCHMARK, 4) == pytest.approx(expected_up, abs=1e-12)
    # On the down day it lost 100 %: (0⁴ − 1) / (0.98⁴ − 1).
    assert down_capture(wiped_out, BENCHMARK, 4) == pytest.approx(-1 / (0.98**4 - 1), abs=1e-12)
