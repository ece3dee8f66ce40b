"""Factor attribution: OLS regression of excess portfolio returns on factor returns.

For each portfolio, ``y_t = alpha + sum_k beta_k f_kt + e_t`` where ``y`` is the
portfolio's return in excess of the risk-free rate and ``f`` are factor
returns (e.g. Fama-French Mkt-RF, SMB, HML), all decimal fractions of the same
frequency. Conventions:

* ``alpha`` and every per-period figure are in the data's frequency (monthly
  data give a monthly alpha); nothing is annualised.
* Standard errors are classical OLS (``sigma^2 (X'X)^-1`` with
  ``sigma^2 = SSR / (n - k)``, ``k`` counting the intercept) unless
  ``newey_west_lags`` is given; then they are Newey-West HAC with a Bartlett
  kernel over that many lags and no small-sample correction (as statsmodels'
  ``cov_type="HAC"`` with ``use_correction=False``).
* R² is centred (``1 - SSR / sum (y - mean y)^2``); adjusted R² is
  ``1 - (1 - R²) (n - 1) / (n - k)``.
* Contribution of a factor per period is ``beta_k * mean_t f_kt``; over the
  whole sample it is ``beta_k * sum_t f_kt`` (arithmetic, not compounded). With
  alpha's ``alpha`` and ``n * alpha`` they add up to the mean and the sum of
  ``y``, because OLS residuals with an intercept sum to zero.
* The sample of a portfolio is the dates where its return and every factor
  are present; ``observations`` reports its size. Newey-West lags count
  positions within that sample, so a missing date is closed up, not
  skipped. Portfolios with the same sample are solved together in one
  least-squares call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ALPHA = "alpha"


class FactorRegressionError(ValueError):
    """The regression cannot be estimated from the data given."""


class InsufficientObservationsError(FactorRegressionError):
    """Fewer observations than the intercept and factors need (``n <= k``)."""


class CollinearFactorsError(FactorRegressionError):
    """The factors (with the intercept) are linearly dependent, so betas are not identified."""


@dataclass(frozen=True)
class FactorRegression:
    """Results per portfolio.

    Frames indexed by portfolio with columns ``alpha`` then the factors:
    ``coefficients``, ``standard_errors``, ``t_stats``, ``contributions``
    (per period) and ``total_contributions`` (summed over the sample). Series
    indexed by portfolio: ``r_squared``, ``adjusted_r_squared``,
    ``residual_volatility`` (``sqrt(SSR / (n - k))``, per period) and
    ``observations``. ``residuals`` is dates × portfolios, NaN outside a
    portfolio's sample. ``covariance`` names the standard-error estimator.
    """

    coefficients: pd.DataFrame
    standard_errors: pd.DataFrame
    t_stats: pd.DataFrame
    r_squared: pd.Series
    adjusted_r_squared: pd.Series
    residual_volatility: pd.Series
    observations: pd.Series
    contributions: pd.DataFrame
    total_contributions: pd.DataFrame
    residuals: pd.DataFrame
    covariance: str


def _newey_west_meat(design: np.ndarray, residuals: np.ndarray, lags: int) -> np.ndarray:
    """Bartlett-weighted sum of score autocovariances, one k × k matrix per portfolio."""
    scores = design[:, :, None] * residuals[:, None, :]  # dates × k × portfolios
    meat = np.einsum("tip,tjp->pij", scores, scores)
    for lag in range(1, lags + 1):
        weight = 1.0 - lag / (lags + 1.0)
        cross = np.einsum("tip,tjp->pij", scores[lag:], scores[:-lag])
        meat += weight * (cross + cross.transpose(0, 2, 1))
    covariance: np.ndarray = meat
    return covariance


def _solve_sample(
    design: np.ndarray, targets: np.ndarray, newey_west_lags: int | None
) -> dict[str, np.ndarray]:
    """OLS of every column of ``targets`` on the same ``design`` (which includes the intercept)."""
    observations, parameters = design.shape
    if observations <= parameters:
        raise InsufficientObservationsError(
            f"{observations} observations cannot estimate {parameters} parameters "
            "(intercept and factors); need more observations than parameters"
        )
    rank = np.linalg.matrix_rank(design)
    if rank < parameters:
        raise CollinearFactorsError(
            f"factors and intercept have rank {rank} < {parameters}: a factor is constant "
            "over the sample or a linear combination of the others"
        )
    q, r = np.linalg.qr(design)
    coefficients = np.linalg.solve(r, q.T @ targets)
    residuals = targets - design @ coefficients
    r_inverse = np.linalg.inv(r)
    bread = r_inverse @ r_inverse.T  # (X'X)^-1
    residual_ss = (residuals**2).sum(axis=0)
    variance = residual_ss / (observations - parameters)
    if newey_west_lags is None:
        parameter_variance = np.outer(np.diag(bread), variance)
    else:
        meat = _newey_west_meat(design, residuals, newey_west_lags)
        sandwich = bread[None] @ meat @ bread[None]
        parameter_variance = np.diagonal(sandwich, axis1=1, axis2=2).T
    total_ss = ((targets - targets.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_squared = np.where(total_ss > 0, 1.0 - residual_ss / total_ss, np.nan)
    return {
        "coefficients": coefficients,
        "standard_errors": np.sqrt(parameter_variance),
        "r_squared": r_squared,
        "adjusted_r_squared": 1.0
        - (1.0 - r_squared) * (observations - 1) / (observations - parameters),
        "residual_volatility": np.sqrt(variance),
        "residuals": residuals,
    }


def factor_regression(
    excess_returns: pd.DataFrame | pd.Series,
    factor_returns: pd.DataFrame,
    *,
    newey_west_lags: int | None = None,
) -> FactorRegression:
    """Regress each portfolio's excess returns on the factors (with an intercept).

    ``excess_returns`` is dates × portfolios (a Series is one portfolio named
    after the Series, or ``"portfolio"``); ``factor_returns`` is dates ×
    factors. Both in decimal fractions per period. Raises
    :class:`InsufficientObservationsError` when a portfolio has no more
    observations than parameters and :class:`CollinearFactorsError` when the
    factors are linearly dependent over a sample. See the module docstring for
    the conventions.
    """
    if isinstance(excess_returns, pd.Series):
        excess_returns = excess_returns.to_frame(excess_returns.name or "portfolio")
    if newey_west_lags is not None and newey_west_lags < 0:
        raise ValueError("newey_west_lags must be non-negative")
    factor_names = list(factor_returns.columns)
    if not factor_names:
        raise ValueError("need at least one factor")
    terms = [ALPHA, *factor_names]
    dates = excess_returns.index.intersection(factor_returns.index, sort=True)
    if dates.empty:
        raise InsufficientObservationsError(
            "excess returns and factor returns share no dates; index both the same way "
            "(e.g. both by monthly period)"
        )
    targets = excess_returns.reindex(dates)
    factors = factor_returns.reindex(dates)
    in_sample = targets.notna().to_numpy() & factors.notna().all(axis=1).to_numpy()[:, None]

    samples: dict[bytes, list[int]] = {}
    for column, mask in enumerate(in_sample.T):
        samples.setdefault(mask.tobytes(), []).append(column)

    portfolios = targets.columns

    def empty_frame() -> pd.DataFrame:
        return pd.DataFrame(np.nan, index=portfolios, columns=terms)

    coefficients, standard_errors = empty_frame(), empty_frame()
    contributions, total_contributions = empty_frame(), empty_frame()
    statistics = {
        name: pd.Series(np.nan, index=portfolios)
        for name in ("r_squared", "adjusted_r_squared", "residual_volatility")
    }
    observations = pd.Series(0, index=portfolios)
    residuals = pd.DataFrame(np.nan, index=dates, columns=portfolios)
    for columns in samples.values():
        mask = in_sample[:, columns[0]]
        sample_factors = factors.to_numpy(dtype=float)[mask]
        design = np.column_stack([np.ones(len(sample_factors)), sample_factors])
        names = portfolios[columns]
        try:
            fit = _solve_sample(
                design, targets.iloc[:, columns].to_numpy(dtype=float)[mask], newey_west_lags
            )
        except FactorRegressionError as error:
            raise type(error)(f"portfolios {list(names)}: {error}") from None
        coefficients.loc[names] = fit["coefficients"].T
        standard_errors.loc[names] = fit["standard_errors"].T
        for statistic, series in statistics.items():
            series.loc[names] = fit[statistic]
        observations.loc[names] = int(mask.sum())
        contributions.loc[names] = fit["coefficients"].T * design.mean(axis=0)
        total_contributions.loc[names] = fit["coefficients"].T * design.sum(axis=0)
        residuals.loc[dates[mask], names] = fit["residuals"]

    covariance = (
        "classical OLS"
        if newey_west_lags is None
        else f"Newey-West HAC, Bartlett kernel, {newey_west_lags} lags"
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        t_stats = coefficients / standard_errors
    return FactorRegression(
        coefficients=coefficients,
        standard_errors=standard_errors,
        t_stats=t_stats,
        r_squared=statistics["r_squared"],
        adjusted_r_squared=statistics["adjusted_r_squared"],
        residual_volatility=statistics["residual_volatility"],
        observations=observations,
        contributions=contributions,
        total_contributions=total_contributions,
        residuals=residuals,
        covariance=covariance,
    )
