"""Risk and risk-adjusted return ratios, vectorised across portfolios.

Conventions (all functions, matching empyrical-reloaded where it has the metric):

* ``returns`` are simple periodic returns (fractions), 1-D or dates × portfolios; every
  statistic is per column along axis 0. A 1-D input gives a float, a DataFrame a Series.
* ``periods_per_year`` (N) annualises: volatilities and Sharpe-type ratios scale by √N.
* Annual rates (``risk_free``, ``required_return``) enter per period as ``(1 + rate)^(1/N) − 1``.
* Standard deviations use ddof = 1 (sample); the downside deviation averages over all
  observations (ddof = 0, returns above the target count as zero shortfall).
* Columns whose values are all equal have a dispersion of exactly 0, so ratios divided by it are
  ±inf or NaN rather than an arbitrary number near 1e15.
* A missing value (NaN) in a column makes that column's result NaN (never a zero return).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.engine import _quantiles
from analytics.engine._arrays import ArrayLike, as_matrix, column_dot, constant_columns
from analytics.engine.drawdown import max_drawdown
from analytics.engine.returns import compound_annual_growth_rate, periodic_rate


@dataclass(frozen=True)
class SampleMoments:
    """Per-column sample moments, computed once and shared by the ratios and parametric VaR.

    ``std`` has ddof = 1. ``skew`` is the adjusted Fisher-Pearson G1 and ``kurtosis`` the
    adjusted excess kurtosis G2 (normal = 0), both as pandas computes them; NaN for a constant
    column or too few observations (skew needs 3, kurtosis 4).
    """

    n: int
    mean: np.ndarray
    std: np.ndarray
    skew: np.ndarray
    kurtosis: np.ndarray


def sample_moments(
    matrix: np.ndarray, scratch: tuple[np.ndarray, np.ndarray] | None = None
) -> SampleMoments:
    """Mean, standard deviation, skew and excess kurtosis of each column of a (T, P) array.

    Central moments are computed from deviations about the mean (two passes), which keeps the
    precision that the one-pass power-sum formulas lose for returns with a small spread.
    ``scratch``: two arrays shaped like ``matrix`` to work in (their contents are overwritten).
    """
    n = matrix.shape[0]
    mean = matrix.mean(axis=0)
    first, second = scratch if scratch is not None else (None, None)
    deviations = np.subtract(matrix, mean, out=first)
    squared = np.square(deviations, out=second)
    s2 = squared.sum(axis=0)
    m2, m3 = s2 / n, column_dot(squared, deviations) / n
    m4 = column_dot(squared, squared) / n
    constant = constant_columns(matrix, mean, s2)
    undefined = np.full_like(mean, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        std = np.where(constant, 0.0, np.sqrt(s2 / (n - 1))) if n > 1 else undefined
        # Skew needs 3 observations and kurtosis 4; with no dispersion both are undefined,
        # as in pandas.
        skew = np.sqrt(n * (n - 1.0)) / (n - 2.0) * m3 / m2**1.5 if n > 2 else undefined
        g2 = m4 / (m2 * m2) - 3.0
        kurtosis = (
            (n - 1.0) / ((n - 2.0) * (n - 3.0)) * ((n + 1.0) * g2 + 6.0) if n > 3 else undefined
        )
    skew = np.where(constant, np.nan, skew)
    kurtosis = np.where(constant, np.nan, kurtosis)
    return SampleMoments(n=n, mean=mean, std=std, skew=skew, kurtosis=kurtosis)


def annual_volatility(returns: ArrayLike, periods_per_year: int = 252) -> ArrayLike | float:
    """Annualised volatility: sample standard deviation (ddof = 1) × √N."""
    matrix, shape_result = as_matrix(returns)
    return shape_result(sample_moments(matrix).std * np.sqrt(periods_per_year))


def sharpe_ratio(
    returns: ArrayLike, risk_free: float = 0.0, periods_per_year: int = 252
) -> ArrayLike | float:
    """Annualised Sharpe ratio: mean(r − rf) / std(r − rf, ddof = 1) × √N.

    ``risk_free`` is an annual rate converted per period (module docstring).
    """
    matrix, shape_result = as_matrix(returns)
    moments = sample_moments(matrix)
    return shape_result(
        sharpe_from_moments(moments, periodic_rate(risk_free, periods_per_year), periods_per_year)
    )


def sharpe_from_moments(
    moments: SampleMoments, risk_free_per_period: float, periods_per_year: int
) -> np.ndarray:
    """Sharpe ratio from precomputed moments (the excess return's spread equals the return's)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: np.ndarray = (
            (moments.mean - risk_free_per_period) / moments.std * np.sqrt(periods_per_year)
        )
    return ratio


def downside_deviation(
    returns: ArrayLike, required_return: float = 0.0, periods_per_year: int = 252
) -> ArrayLike | float:
    """Annualised downside deviation below ``required_return`` (annual, converted per period).

    ``sqrt(mean(min(r − target, 0)²)) × √N`` over **all** observations (ddof = 0): periods above
    the target contribute a zero shortfall, as in empyrical's ``downside_risk``.
    """
    matrix, shape_result = as_matrix(returns)
    shortfall = shortfall_sums(matrix, periodic_rate(required_return, periods_per_year))
    return shape_result(shortfall.downside_deviation(periods_per_year))


@dataclass(frozen=True)
class ShortfallSums:
    """Sums of the shortfalls ``min(r − target, 0)`` per column: Sortino's and Omega's inputs."""

    n: int
    target: float
    sum_squares: np.ndarray
    losses: np.ndarray  # −Σ min(r − target, 0) ≥ 0

    def downside_deviation(self, periods_per_year: int) -> np.ndarray:
        """Annualised downside deviation, over all n observations."""
        deviation: np.ndarray = np.sqrt(self.sum_squares / self.n) * np.sqrt(periods_per_year)
        return deviation

    def omega(self, mean: np.ndarray) -> np.ndarray:
        """Omega ratio about the target; gains follow from Σ(r − t) = gains − losses."""
        gains = self.losses + self.n * (mean - self.target)
        valid = (self.losses > 0.0) & (self.n >= 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(valid, gains / self.losses, np.nan)


def shortfall_sums(
    matrix: np.ndarray, target: float, scratch: np.ndarray | None = None
) -> ShortfallSums:
    """One pass over the shortfalls below a per-period ``target`` of a (T, P) array.

    ``scratch``: an array shaped like ``matrix`` to work in (its contents are overwritten).
    """
    shortfall = np.subtract(matrix, target, out=scratch)
    np.minimum(shortfall, 0.0, out=shortfall)
    return ShortfallSums(
        n=matrix.shape[0],
        target=target,
        sum_squares=column_dot(shortfall, shortfall),
        losses=-shortfall.sum(axis=0),
    )


def sortino_ratio(
    returns: ArrayLike, required_return: float = 0.0, periods_per_year: int = 252
) -> ArrayLike | float:
    """Annualised Sortino ratio: mean(r − target) × N / downside deviation (annualised).

    ``required_return`` is the annual target (minimum acceptable return), converted per period;
    the downside deviation is over all observations (:func:`downside_deviation`).
    """
    matrix, shape_result = as_matrix(returns)
    target = periodic_rate(required_return, periods_per_year)
    deviation = shortfall_sums(matrix, target).downside_deviation(periods_per_year)
    return shape_result(
        sortino_from_parts(matrix.mean(axis=0), deviation, target, periods_per_year)
    )


def sortino_from_parts(
    mean: np.ndarray, deviation: np.ndarray, target: float, periods_per_year: int
) -> np.ndarray:
    """Sortino ratio from the mean return and the annualised downside deviation."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: np.ndarray = (mean - target) * periods_per_year / deviation
    return ratio


def calmar_ratio(returns: ArrayLike, periods_per_year: int = 252) -> ArrayLike | float:
    """Calmar ratio: compound annual growth rate / |max drawdown| over the whole history.

    NaN when there is no drawdown (or the ratio is infinite), as in empyrical.
    """
    matrix, shape_result = as_matrix(returns)
    growth = compound_annual_growth_rate(matrix, periods_per_year)
    # Both are per-column arrays for a (T, P) matrix.
    return shape_result(calmar_from_parts(np.asarray(growth), np.asarray(max_drawdown(matrix))))


def calmar_from_parts(growth_rate: np.ndarray, drawdown: np.ndarray) -> np.ndarray:
    """Calmar ratio from a CAGR and a (negative) max drawdown."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = growth_rate / np.abs(drawdown)
    return np.where((drawdown < 0) & np.isfinite(ratio), ratio, np.nan)


def omega_ratio(
    returns: ArrayLike, threshold: float = 0.0, periods_per_year: int = 252
) -> ArrayLike | float:
    """Omega ratio: sum of gains above the threshold / sum of losses below it.

    ``threshold`` is an annual rate converted per period (the metric table passes the risk-free
    rate, which is empyrical's ``omega_ratio(returns, risk_free=rf per period)``). NaN when
    nothing falls below the threshold or there are fewer than 2 observations.
    """
    matrix, shape_result = as_matrix(returns)
    shortfall = shortfall_sums(matrix, periodic_rate(threshold, periods_per_year))
    return shape_result(shortfall.omega(matrix.mean(axis=0)))


def skewness(returns: ArrayLike) -> ArrayLike | float:
    """Sample skewness, bias-corrected as pandas' ``Series.skew`` (adjusted Fisher-Pearson G1)."""
    matrix, shape_result = as_matrix(returns)
    return shape_result(sample_moments(matrix).skew)


def excess_kurtosis(returns: ArrayLike) -> ArrayLike | float:
    """Sample excess kurtosis (normal = 0), bias-corrected as pandas' ``Series.kurt`` (G2)."""
    matrix, shape_result = as_matrix(returns)
    return shape_result(sample_moments(matrix).kurtosis)


TAIL_RATIO_QUANTILES = (0.95, 0.05)


def tail_ratio(returns: ArrayLike) -> ArrayLike | float:
    """Tail ratio: |95th percentile| / |5th percentile| of the returns (numpy linear rule).

    A ratio of 0.25 means the bad tail is four times the size of the good one.
    """
    matrix, shape_result = as_matrix(returns)
    ranks = [
        rank for q in TAIL_RATIO_QUANTILES for rank in _quantiles.percentile_ranks(len(matrix), q)
    ]
    moments = sample_moments(matrix)
    extremes = _quantiles.tails(matrix, ranks, moments.mean, moments.std)
    return shape_result(tail_ratio_from_tails(extremes))


def tail_ratio_from_tails(extremes: _quantiles.Tails) -> np.ndarray:
    """Tail ratio from tails holding the ranks of the 95th and 5th percentiles."""
    upper, lower = (extremes.percentile(q) for q in TAIL_RATIO_QUANTILES)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: np.ndarray = np.abs(upper) / np.abs(lower)
    return ratio


def rolling_volatility(
    returns: pd.Series | pd.DataFrame, window: int, periods_per_year: int = 252
) -> pd.Series | pd.DataFrame:
    """Annualised volatility (ddof = 1, × √N) over each trailing window of ``window`` periods.

    The first ``window − 1`` rows, and every window containing a NaN, are NaN.
    """
    return returns.rolling(window, min_periods=window).std(ddof=1) * np.sqrt(periods_per_year)


def rolling_sharpe(
    returns: pd.Series | pd.DataFrame,
    window: int,
    risk_free: float = 0.0,
    periods_per_year: int = 252,
    *,
    risk_free_returns: pd.Series | None = None,
) -> pd.Series | pd.DataFrame:
    """Annualised Sharpe ratio (as :func:`sharpe_ratio`) over each trailing window.

    ``risk_free_returns`` (per period, aligned on the returns' dates by label) replaces the
    annual ``risk_free``: the ratio is then that of the periodic excess returns ``r_t − rf_t``.
    """
    if risk_free_returns is not None:
        excess = returns.sub(risk_free_returns.reindex(returns.index), axis=0)
    else:
        excess = returns - periodic_rate(risk_free, periods_per_year)
    rolling = excess.rolling(window, min_periods=window)
    return rolling.mean() / rolling.std(ddof=1) * np.sqrt(periods_per_year)


def rolling_beta(
    returns: pd.Series | pd.DataFrame, benchmark: pd.Series, window: int
) -> pd.Series | pd.DataFrame:
    """Beta to ``benchmark`` (cov / var of the benchmark) over each trailing window.

    The benchmark is aligned on the returns' dates by label; a date it lacks is missing, and
    every window with a missing value is NaN.
    """
    aligned = benchmark.reindex(returns.index)
    covariance = returns.rolling(window, min_periods=window).cov(aligned)
    variance = aligned.rolling(window, min_periods=window).var()
    if isinstance(covariance, pd.DataFrame):
        return covariance.div(variance, axis=0)
    return covariance / variance
