"""Risk and return relative to a benchmark, vectorised across portfolios.

Conventions (all functions, matching empyrical-reloaded where it has the metric):

* ``returns`` are 1-D or dates × portfolios; ``benchmark`` is one return per date, the same
  dates in the same order. Both are simple periodic returns (fractions).
* The annual ``risk_free`` rate enters per period as ``(1 + rf)^(1/N) − 1``.
* Beta and correlation are moment ratios in which ddof cancels; tracking error uses ddof = 1.
  Tracking error and the information ratio are annualised with √N (N = ``periods_per_year``).
* Active returns are arithmetic: ``r_p − r_b`` per period.
* A missing value (NaN) in a column or in the benchmark makes the results NaN.
"""

from __future__ import annotations

import numpy as np

from analytics.engine._arrays import (
    ArrayLike,
    as_matrix,
    as_vector,
    column_dot,
    constant_columns,
)
from analytics.engine.ratios import SampleMoments, sample_moments
from analytics.engine.returns import periodic_rate

# Below this benchmark variance a beta would be noise divided by noise (empyrical's cut-off).
MIN_BENCHMARK_VARIANCE = 1e-30


def beta(returns: ArrayLike, benchmark: ArrayLike) -> ArrayLike | float:
    """Beta: cov(r, b) / var(b), population moments (ddof cancels). NaN for a flat benchmark.

    A constant risk-free rate subtracted from both series does not change beta.
    """
    matrix, shape_result = as_matrix(returns)
    bench = as_vector(benchmark, matrix.shape[0], "benchmark")
    centred = bench - bench.mean()
    return shape_result(beta_from_co_moment(centred @ matrix, centred @ centred, len(bench)))


def beta_from_co_moment(co_moment: np.ndarray, benchmark_sum_squares: float, n: int) -> np.ndarray:
    """Beta from ``Σ(b − b̄) r`` per column and ``Σ(b − b̄)²`` over ``n`` dates."""
    variance = benchmark_sum_squares / n
    if not variance >= MIN_BENCHMARK_VARIANCE:
        return np.full(np.shape(co_moment), np.nan)
    return co_moment / n / variance


def alpha(
    returns: ArrayLike,
    benchmark: ArrayLike,
    risk_free: float = 0.0,
    periods_per_year: int = 252,
) -> ArrayLike | float:
    """Annualised Jensen's alpha, compounded from the mean daily alpha (as empyrical).

    Daily alpha ``a = mean((r − rf) − β (b − rf))``; annual alpha ``(1 + a)^N − 1``.
    """
    matrix, shape_result = as_matrix(returns)
    bench = as_vector(benchmark, matrix.shape[0], "benchmark")
    centred = bench - bench.mean()
    slope = beta_from_co_moment(centred @ matrix, centred @ centred, len(bench))
    rate = periodic_rate(risk_free, periods_per_year)
    return shape_result(
        alpha_from_parts(matrix.mean(axis=0), bench.mean(), slope, rate, periods_per_year)
    )


def alpha_from_parts(
    mean: np.ndarray,
    benchmark_mean: float,
    slope: np.ndarray,
    risk_free_per_period: float,
    periods_per_year: int,
) -> np.ndarray:
    """Annual alpha from mean returns and beta (the mean of the daily alphas is linear)."""
    daily = (mean - risk_free_per_period) - slope * (benchmark_mean - risk_free_per_period)
    return (1.0 + daily) ** periods_per_year - 1.0


def correlation(returns: ArrayLike, benchmark: ArrayLike) -> ArrayLike | float:
    """Pearson correlation of each column with the benchmark (NaN if either is constant)."""
    matrix, shape_result = as_matrix(returns)
    bench = as_vector(benchmark, matrix.shape[0], "benchmark")
    centred = bench - bench.mean()
    deviations = matrix - matrix.mean(axis=0)
    spread = np.sqrt(column_dot(deviations, deviations))
    return shape_result(
        correlation_from_parts(centred @ matrix, spread, float(np.sqrt(centred @ centred)))
    )


def correlation_from_parts(
    co_moment: np.ndarray, spread: np.ndarray, benchmark_spread: float
) -> np.ndarray:
    """Correlation from Σ(b − b̄)r and the root sums of squared deviations of r and b."""
    with np.errstate(divide="ignore", invalid="ignore"):
        result = co_moment / (spread * benchmark_spread)
    # Rounding can push a perfect (anti-)correlation a hair beyond ±1.
    return np.where(spread > 0.0, np.clip(result, -1.0, 1.0), np.nan)


def tracking_error(
    returns: ArrayLike, benchmark: ArrayLike, periods_per_year: int = 252
) -> ArrayLike | float:
    """Annualised tracking error: std(r − b, ddof = 1) × √N."""
    matrix, shape_result = as_matrix(returns)
    error, _ = _active(matrix, as_vector(benchmark, len(matrix), "benchmark"), periods_per_year)
    return shape_result(error)


def information_ratio(
    returns: ArrayLike, benchmark: ArrayLike, periods_per_year: int = 252
) -> ArrayLike | float:
    """Annualised information ratio: mean(r − b) / std(r − b, ddof = 1) × √N.

    This is empyrical's ``excess_sharpe`` × √N.
    """
    matrix, shape_result = as_matrix(returns)
    _, ratio = _active(matrix, as_vector(benchmark, len(matrix), "benchmark"), periods_per_year)
    return shape_result(ratio)


def _active(
    matrix: np.ndarray, benchmark: np.ndarray, periods_per_year: int
) -> tuple[np.ndarray, np.ndarray]:
    centred = benchmark - benchmark.mean()
    return active_statistics(
        matrix, benchmark, sample_moments(matrix), centred @ matrix, periods_per_year
    )


# Below this share of var(r) + var(b), var(r − b) is recomputed from r − b itself: the identity
# var(r) + var(b) − 2 cov(r, b) would have cancelled more than 4 of its 16 significant digits.
CANCELLATION_LIMIT = 1e-4


def active_statistics(
    matrix: np.ndarray,
    benchmark: np.ndarray,
    moments: SampleMoments,
    co_moment: np.ndarray,
    periods_per_year: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Annualised tracking error and information ratio from the shared moments.

    ``co_moment`` is ``Σ (b − b̄) r`` per column. The sum of squared active deviations is
    ``Σ(r − r̄)² + Σ(b − b̄)² − 2 Σ(b − b̄) r``, so no (T, P) array of active returns is built;
    columns that track the benchmark so closely that this loses precision are recomputed
    directly (see ``CANCELLATION_LIMIT``), as are columns whose active return is constant
    (zero dispersion exactly, as empyrical).
    """
    n = matrix.shape[0]
    centred = benchmark - benchmark.mean()
    own = moments.std**2 * (n - 1)
    scale = own + centred @ centred
    squares = scale - 2.0 * co_moment
    mean = moments.mean - benchmark.mean()
    close = np.flatnonzero(squares < CANCELLATION_LIMIT * scale)
    if close.size:
        active = matrix[:, close] - benchmark[:, np.newaxis]
        active_mean = active.mean(axis=0)
        deviations = active - active_mean
        exact = column_dot(deviations, deviations)
        squares[close] = np.where(constant_columns(active, active_mean, exact), 0.0, exact)
    std = np.sqrt(squares / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = mean / std * np.sqrt(periods_per_year)
    return std * np.sqrt(periods_per_year), ratio


def up_capture(
    returns: ArrayLike, benchmark: ArrayLike, periods_per_year: int = 252
) -> ArrayLike | float:
    """Up-market capture: CAGR of r over CAGR of b, on the periods where b > 0 (as empyrical).

    Each CAGR is ``∏(1 + r)^(N / m) − 1`` over the m selected periods.
    """
    matrix, shape_result = as_matrix(returns)
    bench = as_vector(benchmark, matrix.shape[0], "benchmark")
    with np.errstate(divide="ignore"):  # a −100 % return is log(0) = −inf
        log_growth = np.log1p(matrix)
    return shape_result(capture(log_growth, bench, bench > 0.0, periods_per_year))


def down_capture(
    returns: ArrayLike, benchmark: ArrayLike, periods_per_year: int = 252
) -> ArrayLike | float:
    """Down-market capture: as :func:`up_capture` on the periods where b < 0."""
    matrix, shape_result = as_matrix(returns)
    bench = as_vector(benchmark, matrix.shape[0], "benchmark")
    with np.errstate(divide="ignore"):  # a −100 % return is log(0) = −inf
        log_growth = np.log1p(matrix)
    return shape_result(capture(log_growth, bench, bench < 0.0, periods_per_year))


def capture(
    log_growth: np.ndarray, benchmark: np.ndarray, selected: np.ndarray, periods_per_year: int
) -> np.ndarray:
    """Capture ratio on the ``selected`` dates, from the portfolios' ``log(1 + r)`` (T, P).

    The compounded growth on the selected dates is ``exp(Σ log(1 + r))``: one matrix-vector
    product for all columns instead of gathering the selected rows. A NaN anywhere (even on a
    date not selected) gives NaN: the selection itself would be unreliable.
    """
    count = int(selected.sum())
    if count == 0 or np.isnan(benchmark).any():
        return np.full(log_growth.shape[1], np.nan)
    exponent = periods_per_year / count
    with np.errstate(invalid="ignore"):
        log_sums = selected.astype(np.float64) @ log_growth
    # A −100 % return is log(0) = −inf, and 0 × −inf is NaN on the dates not selected: sum
    # those columns over the selected dates only.
    lost = np.flatnonzero(np.isnan(log_sums) & ~np.isnan(log_growth).any(axis=0))
    if lost.size:
        log_sums[lost] = log_growth[selected][:, lost].sum(axis=0)
    portfolio_growth = np.expm1(log_sums * exponent)
    with np.errstate(divide="ignore"):
        benchmark_growth = np.expm1(np.log1p(benchmark[selected]).sum() * exponent)
    with np.errstate(divide="ignore", invalid="ignore"):
        capture_ratio: np.ndarray = portfolio_growth / benchmark_growth
    return capture_ratio
