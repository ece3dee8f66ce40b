"""VaR backtesting: exceptions, Kupiec's proportion-of-failures test and the Basel traffic light.

Conventions:

* ``var_forecasts[t]`` is the VaR (a positive loss fraction, see :mod:`analytics.engine.var`)
  forecast at the close of date t for date t + 1. An **exception** is a next-day loss strictly
  greater than that forecast: ``−returns[t + 1] > var_forecasts[t]``. ``n`` dates give
  ``n − 1`` tested forecasts. A missing return or forecast is rejected (it is not a pass).
* Kupiec (1995): with ``p = 1 − c``, x exceptions in T forecasts,
  ``LR = −2 ln[(1 − p)^(T−x) p^x] + 2 ln[(1 − x/T)^(T−x) (x/T)^x]`` (0·ln 0 = 0), asymptotically
  χ² with 1 degree of freedom; the test rejects the VaR model when the p-value < ``level``.
* Basel traffic light (BCBS 1996): with ``P(X ≤ x)`` the binomial cumulative probability of at
  most x exceptions for a correct model, the zone is green when ``P < 95 %``, yellow when
  ``95 % ≤ P < 99.99 %`` and red when ``P ≥ 99.99 %``. For 250 observations at 99 % this is
  green 0–4, yellow 5–9, red 10+; the same probabilities generalise it to any T and c.
* Both results are reported: the two tests can disagree (Kupiec also rejects too *few*
  exceptions; the traffic light only penalises too many).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from analytics.engine._arrays import ArrayLike
from analytics.engine.var import historical_var

GREEN_LIMIT = 0.95
YELLOW_LIMIT = 0.9999


class Zone(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True)
class KupiecTest:
    """Kupiec proportion-of-failures likelihood-ratio test of a VaR model."""

    statistic: float
    p_value: float
    reject: bool
    level: float


@dataclass(frozen=True)
class BacktestResult:
    """Exceptions of a VaR forecast series with both the Kupiec test and the Basel zone."""

    observations: int
    exceptions: int
    expected_exceptions: float
    exception_rate: float
    confidence: float
    kupiec: KupiecTest
    zone: Zone
    cumulative_probability: float


def var_exceptions(returns: ArrayLike, var_forecasts: ArrayLike) -> np.ndarray:
    """Boolean exceptions, one per tested forecast: ``−returns[t + 1] > var_forecasts[t]``.

    Both inputs are 1-D, one value per date, same length; the result has length n − 1.
    """
    realised = np.asarray(returns, dtype=np.float64).reshape(-1)
    forecasts = np.asarray(var_forecasts, dtype=np.float64).reshape(-1)
    if realised.shape != forecasts.shape:
        raise ValueError(
            f"returns ({realised.shape[0]}) and VaR forecasts ({forecasts.shape[0]}) "
            "must have one value per date"
        )
    if np.isnan(realised).any() or np.isnan(forecasts).any():
        raise ValueError("returns or VaR forecasts contain missing values")
    return -realised[1:] > forecasts[:-1]


def kupiec_test(
    exceptions: int, observations: int, confidence: float, level: float = 0.05
) -> KupiecTest:
    """Kupiec's proportion-of-failures test (module docstring) at significance ``level``."""
    if not 0 <= exceptions <= observations or observations < 1:
        raise ValueError("need 0 <= exceptions <= observations and observations >= 1")
    p = 1.0 - confidence
    x, t = exceptions, observations
    observed = x / t
    log_null = (t - x) * math.log(1.0 - p) + x * math.log(p)
    log_alternative = _xlogy(t - x, 1.0 - observed) + _xlogy(x, observed)
    statistic = max(-2.0 * (log_null - log_alternative), 0.0)
    # Survival function of χ²(1): P(χ² > s) = erfc(√(s / 2)).
    p_value = math.erfc(math.sqrt(statistic / 2.0))
    return KupiecTest(statistic=statistic, p_value=p_value, reject=p_value < level, level=level)


def _xlogy(count: int, probability: float) -> float:
    """``count · ln(probability)`` with the convention 0 · ln 0 = 0."""
    return 0.0 if count == 0 else count * math.log(probability)


def binomial_cdf(successes: int, trials: int, probability: float) -> float:
    """``P(X ≤ successes)`` for X ~ Binomial(trials, probability), summed in log space."""
    log_p, log_q = math.log(probability), math.log1p(-probability)
    terms = (
        math.lgamma(trials + 1)
        - math.lgamma(k + 1)
        - math.lgamma(trials - k + 1)
        + k * log_p
        + (trials - k) * log_q
        for k in range(successes + 1)
    )
    return min(math.fsum(math.exp(term) for term in terms), 1.0)


def traffic_light(exceptions: int, observations: int, confidence: float = 0.99) -> Zone:
    """Basel traffic-light zone for ``exceptions`` in ``observations`` at ``confidence``."""
    cumulative = binomial_cdf(exceptions, observations, 1.0 - confidence)
    return _zone(cumulative)


def _zone(cumulative: float) -> Zone:
    if cumulative < GREEN_LIMIT:
        return Zone.GREEN
    if cumulative < YELLOW_LIMIT:
        return Zone.YELLOW
    return Zone.RED


def backtest_var(
    returns: ArrayLike, var_forecasts: ArrayLike, confidence: float, level: float = 0.05
) -> BacktestResult:
    """Count the exceptions of a VaR forecast series and report Kupiec and the Basel zone."""
    hits = var_exceptions(returns, var_forecasts)
    observations, exceptions = int(hits.shape[0]), int(hits.sum())
    cumulative = binomial_cdf(exceptions, observations, 1.0 - confidence)
    return BacktestResult(
        observations=observations,
        exceptions=exceptions,
        expected_exceptions=observations * (1.0 - confidence),
        exception_rate=exceptions / observations,
        confidence=confidence,
        kupiec=kupiec_test(exceptions, observations, confidence, level),
        zone=_zone(cumulative),
        cumulative_probability=cumulative,
    )


@dataclass(frozen=True)
class RollingBacktest:
    """A rolling VaR backtest of one return series (:func:`rolling_var_backtest`).

    ``first`` is the position in the input of the first tested return; ``returns[i]``
    is the return at position ``first + i`` and ``forecasts[i]`` the VaR forecast
    made at the close before it; ``exceptions[i]`` is ``−returns[i] > forecasts[i]``.
    """

    window: int
    first: int
    returns: np.ndarray
    forecasts: np.ndarray
    exceptions: np.ndarray
    result: BacktestResult


def rolling_var_backtest(
    returns: ArrayLike,
    *,
    window: int,
    observations: int,
    confidence: float,
    var_function: Callable[[np.ndarray, float], Any] = historical_var,
    level: float = 0.05,
) -> RollingBacktest | None:
    """Backtest of the one-day VaR re-estimated every day from the trailing ``window``
    returns, over the last ``observations`` tested days (fewer when the series is
    shorter than ``window + observations``); ``None`` below ``window + 1`` returns.

    ``returns`` is one portfolio's daily returns in date order, without missing
    values. The forecast made at the close of position t uses ``returns[t − window + 1
    .. t]`` and is tested against ``returns[t + 1]`` (:func:`backtest_var`);
    ``var_function`` is one of :mod:`analytics.engine.var`'s estimators (historical by
    default). This is the one backtest behind the snapshot's Risk tab and the
    compliance rule, so the two count the same exceptions on the same days.
    """
    values = np.asarray(returns, dtype=np.float64).reshape(-1)
    if window < 2 or observations < 1:
        raise ValueError("window must be at least 2 returns and observations at least 1")
    if np.isnan(values).any():
        raise ValueError("returns contain missing values")
    tested = min(observations, values.shape[0] - window)
    if tested < 1:
        return None
    first = values.shape[0] - tested
    # Window k (0-based) of the last tested + 1 windows ends at position first − 1 + k.
    windows = np.lib.stride_tricks.sliding_window_view(values[first - window :], window)
    forecasts = np.asarray(
        var_function(np.ascontiguousarray(windows.T), confidence), dtype=np.float64
    ).reshape(-1)
    result = backtest_var(values[first - 1 :], forecasts, confidence, level)
    tested_returns = values[first:]
    return RollingBacktest(
        window=window,
        first=first,
        returns=tested_returns,
        forecasts=forecasts[:-1],
        exceptions=-tested_returns > forecasts[:-1],
        result=result,
    )
