"""Value at risk (VaR) and conditional VaR (CVaR, expected shortfall), vectorised across portfolios.

Conventions (all functions):

* VaR and CVaR are **positive loss fractions** of value: a 1-day 95 % VaR of 0.021 means a loss
  larger than 2.1 % is expected on 5 % of days. ``confidence`` c is e.g. 0.95 or 0.99; the tail
  probability is ``1 − c``. A profit at the quantile gives a negative VaR.
* Estimates are for one period of the input's frequency; :func:`scale_to_horizon` scales them
  to h periods as ``(L₁ + μ)·√h − h·μ`` (deviation by √h, mean by h).
* Historical VaR is minus numpy's linearly interpolated percentile ``np.percentile(r, 100(1−c))``;
  historical CVaR is minus the mean of the worst ``⌊(n − 1)(1 − c)⌋ + 1`` returns (empyrical's
  ``conditional_value_at_risk`` rule, which includes the observation at the VaR rank).
* Parametric estimates use the sample mean and the ddof = 1 standard deviation; Cornish-Fisher
  adjusts the normal quantile with the bias-corrected skew and excess kurtosis
  (:class:`~analytics.engine.ratios.SampleMoments`).
* A missing value (NaN) in a column makes that column's estimates NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from analytics.engine import _quantiles
from analytics.engine._arrays import ArrayLike, as_matrix
from analytics.engine.ratios import SampleMoments, sample_moments

STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True)
class SimulatedRisk:
    """Monte Carlo VaR and CVaR (positive loss fractions) over ``horizon`` periods."""

    var: ArrayLike | float
    cvar: ArrayLike | float
    horizon: int
    simulations: int
    seed: int


def historical_var(returns: ArrayLike, confidence: float = 0.95) -> ArrayLike | float:
    """Historical VaR: minus the linear-rule ``100(1 − c)``-th percentile of the returns."""
    matrix, shape_result = as_matrix(returns)
    tail = _quantiles.tail_probability(confidence)
    moments = sample_moments(matrix)
    ranks = _quantiles.percentile_ranks(len(matrix), tail)
    extremes = _quantiles.tails(matrix, ranks, moments.mean, moments.std)
    return shape_result(-extremes.percentile(tail))


def historical_cvar(returns: ArrayLike, confidence: float = 0.95) -> ArrayLike | float:
    """Historical CVaR: minus the mean of the worst ``⌊(n − 1)(1 − c)⌋ + 1`` returns."""
    matrix, shape_result = as_matrix(returns)
    count = _quantiles.lower_tail_count(len(matrix), _quantiles.tail_probability(confidence))
    moments = sample_moments(matrix)
    extremes = _quantiles.tails(matrix, [count - 1], moments.mean, moments.std)
    return shape_result(-extremes.lower_mean(count))


def normal_var(returns: ArrayLike, confidence: float = 0.95) -> ArrayLike | float:
    """Parametric normal VaR: ``−(μ + z σ)`` with ``z = Φ⁻¹(1 − c)`` (negative)."""
    matrix, shape_result = as_matrix(returns)
    return shape_result(normal_var_from_moments(sample_moments(matrix), confidence))


def normal_var_from_moments(moments: SampleMoments, confidence: float) -> np.ndarray:
    """Normal VaR from precomputed moments."""
    z = STANDARD_NORMAL.inv_cdf(_quantiles.tail_probability(confidence))
    return -(moments.mean + z * moments.std)


def normal_cvar(returns: ArrayLike, confidence: float = 0.95) -> ArrayLike | float:
    """Parametric normal CVaR: ``−(μ − σ φ(z) / (1 − c))``, the mean loss beyond the normal VaR."""
    matrix, shape_result = as_matrix(returns)
    return shape_result(normal_cvar_from_moments(sample_moments(matrix), confidence))


def normal_cvar_from_moments(moments: SampleMoments, confidence: float) -> np.ndarray:
    """Normal CVaR from precomputed moments."""
    tail = _quantiles.tail_probability(confidence)
    density = STANDARD_NORMAL.pdf(STANDARD_NORMAL.inv_cdf(tail))
    return -(moments.mean - moments.std * density / tail)


def cornish_fisher_var(returns: ArrayLike, confidence: float = 0.95) -> ArrayLike | float:
    """Cornish-Fisher (modified) VaR: the normal VaR with a skew- and kurtosis-adjusted quantile.

    ``z_cf = z + (z² − 1) S / 6 + (z³ − 3z) K / 24 − (2z³ − 5z) S² / 36`` with S the skew and K
    the excess kurtosis; VaR ``= −(μ + z_cf σ)``.
    """
    matrix, shape_result = as_matrix(returns)
    return shape_result(cornish_fisher_var_from_moments(sample_moments(matrix), confidence))


def cornish_fisher_var_from_moments(moments: SampleMoments, confidence: float) -> np.ndarray:
    """Cornish-Fisher VaR from precomputed moments."""
    z = STANDARD_NORMAL.inv_cdf(_quantiles.tail_probability(confidence))
    skew, kurtosis = moments.skew, moments.kurtosis
    adjusted = (
        z
        + (z**2 - 1.0) * skew / 6.0
        + (z**3 - 3.0 * z) * kurtosis / 24.0
        - (2.0 * z**3 - 5.0 * z) * skew**2 / 36.0
    )
    loss: np.ndarray = -(moments.mean + adjusted * moments.std)
    return loss


def scale_to_horizon(
    one_period: ArrayLike | float, horizon: int, *, mean: ArrayLike | float = 0.0
) -> ArrayLike | float:
    """Scale a one-period VaR or CVaR to ``horizon`` periods: the deviation from the
    mean by the square root of time, the mean by time.

    With one-period mean μ (a return fraction per period, the sample mean of the returns
    the estimate came from), a one-period loss ``L₁ = −μ + D`` (D the loss beyond the mean,
    −zσ for the normal VaR) becomes ``L_h = D·√h − h·μ``, i.e. ``(L₁ + μ)·√h − h·μ``; for
    the normal VaR this is ``−z·σ·√h − h·μ``. ``mean=0`` is the zero-mean convention
    ``L₁·√h``. Valid only if returns are i.i.d. (no autocorrelation, no volatility
    clustering): then the h-period variance is h times the one-period variance. Real
    returns violate this, more so over long horizons; prefer :func:`monte_carlo_var` or
    overlapping h-period returns when that matters.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 period, got {horizon}")
    drift = np.asarray(mean, dtype=np.float64)
    scaled: ArrayLike | float = (one_period + drift) * np.sqrt(horizon) - horizon * drift
    return scaled


def monte_carlo_var(
    returns: ArrayLike,
    confidence: float = 0.95,
    *,
    horizon: int = 1,
    simulations: int = 10_000,
    seed: int,
) -> SimulatedRisk:
    """Monte Carlo VaR and CVaR over ``horizon`` periods, reproducible from ``seed``.

    Each path draws ``horizon`` i.i.d. normal returns with each column's sample mean and ddof = 1
    standard deviation and compounds them: ``∏(1 + r) − 1``. VaR and CVaR are read from the
    simulated returns with the historical rules. Every column uses the same draws (common
    random numbers), so differences between portfolios are not simulation noise.
    """
    if horizon < 1 or simulations < 2:
        raise ValueError("horizon must be >= 1 and simulations >= 2")
    matrix, shape_result = as_matrix(returns)
    moments = sample_moments(matrix)
    draws = np.random.default_rng(seed).standard_normal((horizon, simulations))
    growth = np.ones((simulations, matrix.shape[1]))
    for step in draws:  # loops over horizon periods, never over portfolios
        growth *= 1.0 + moments.mean + np.outer(step, moments.std)
    simulated = growth - 1.0
    tail = _quantiles.tail_probability(confidence)
    count = _quantiles.lower_tail_count(simulations, tail)
    ranks = [*_quantiles.percentile_ranks(simulations, tail), count - 1]
    spread = moments.std * np.sqrt(horizon)
    extremes = _quantiles.tails(simulated, ranks, simulated.mean(axis=0), spread)
    return SimulatedRisk(
        var=shape_result(-extremes.percentile(tail)),
        cvar=shape_result(-extremes.lower_mean(count)),
        horizon=horizon,
        simulations=simulations,
        seed=seed,
    )


def rolling_historical_var(returns: ArrayLike, window: int, confidence: float = 0.95) -> np.ndarray:
    """Historical VaR (as :func:`historical_var`) of each trailing window of ``window`` returns.

    ``result[t]`` uses ``returns[t − window + 1 .. t]``, so it is the forecast made at the close
    of t for t + 1 (the input :func:`~analytics.engine.backtest.backtest_var` expects); the first
    ``window − 1`` values are NaN. 1-D input, one value per date.
    """
    values = np.asarray(returns, dtype=np.float64).reshape(-1)
    if window < 2:
        raise ValueError("window must be at least 2 returns")
    result = np.full(values.shape[0], np.nan)
    if values.shape[0] >= window:
        windows = np.lib.stride_tricks.sliding_window_view(values, window)
        result[window - 1 :] = historical_var(np.ascontiguousarray(windows.T), confidence)
    return result
