"""Risk sections of a snapshot: VaR and CVaR, the VaR backtest, exposures,
concentration and the figures risk limits are checked against.

* VaR and CVaR are positive loss fractions of net assets, estimated from the
  daily returns of the last ``VAR_HISTORY`` valuation intervals (all of them if
  fewer). 10-day figures scale the 1-day ones with the sample mean μ: the loss
  beyond the mean by √10 and the mean by 10, ``(VaR₁ + μ)·√10 − 10·μ``
  (``−z·σ·√10 − 10·μ`` for the normal method), which assumes i.i.d. returns;
  the Monte Carlo figures (seed ``MONTE_CARLO_SEED``) compound simulated daily
  normal returns over the horizon instead.
* The backtest compares each day's 1-day historical VaR at 99 % from the
  trailing ``BACKTEST_WINDOW`` returns with the next day's return, over the last
  ``BACKTEST_DAYS`` forecasts: exceptions, Kupiec and the Basel zone.
* Exposures are fractions of net assets on the as-of date by every instrument
  attribute (cash appears as its own asset class); holdings without a base
  value are left out and counted. The portfolio-level long, short, gross and
  net exposure, the concentration figures and the largest position leave cash
  out (gross 1.3 = 130 % of net assets invested).
* Risk values (:func:`risk_values`) are the figures risk limits are checked
  against, on every window a limit may name (:class:`~analytics.models.RiskWindow`):
  the VaR table above is the ``500D`` window; volatility, tracking error and
  beta are on the Performance tab's windows, drawdowns from each window's own
  peak.
"""

import numpy as np
import pandas as pd

from analytics.engine import drawdown, exposure, ratios, relative, var
from analytics.engine.backtest import rolling_var_backtest
from analytics.models import (
    DEFAULT_RISK_WINDOWS,
    RETURN_WINDOWS,
    RISK_LIMIT_WINDOWS,
    AssetClass,
    RiskLimitMetric,
    RiskWindow,
    risk_value_key,
)
from analytics.services.snapshots.frames import ATTRIBUTES
from analytics.services.snapshots.jsonify import clean, records
from analytics.services.snapshots.performance import PERIODS_PER_YEAR, window_slices

CONFIDENCES = (0.95, 0.99)
HORIZONS = (1, 10)
VAR_HISTORY = 500
BACKTEST_WINDOW = 250
BACKTEST_DAYS = 250
BACKTEST_CONFIDENCE = 0.99
MONTE_CARLO_SEED = 20240101
MONTE_CARLO_SIMULATIONS = 20_000
SCALED_WITH_DRIFT = "square root of time, drift by time"


def var_section(returns: pd.Series) -> dict:
    """VaR and CVaR by method, confidence and horizon, plus the backtest."""
    sample = returns.iloc[-VAR_HISTORY:].to_numpy()
    drift = float(np.mean(sample)) if len(sample) else 0.0
    rows = []
    for confidence in CONFIDENCES:
        one_day = {
            "historical": (
                var.historical_var(sample, confidence),
                var.historical_cvar(sample, confidence),
            ),
            "normal": (var.normal_var(sample, confidence), var.normal_cvar(sample, confidence)),
            "cornish_fisher": (var.cornish_fisher_var(sample, confidence), None),
        }
        for horizon in HORIZONS:
            for method, (value, shortfall) in one_day.items():
                rows.append(
                    {
                        "method": method,
                        "confidence": confidence,
                        "horizon": horizon,
                        "var": var.scale_to_horizon(value, horizon, mean=drift),
                        "cvar": None
                        if shortfall is None
                        else var.scale_to_horizon(shortfall, horizon, mean=drift),
                        "scaling": "one day" if horizon == 1 else SCALED_WITH_DRIFT,
                    }
                )
            simulated = var.monte_carlo_var(
                sample,
                confidence,
                horizon=horizon,
                simulations=MONTE_CARLO_SIMULATIONS,
                seed=MONTE_CARLO_SEED,
            )
            rows.append(
                {
                    "method": "monte_carlo",
                    "confidence": confidence,
                    "horizon": horizon,
                    "var": simulated.var,
                    "cvar": simulated.cvar,
                    "scaling": f"simulated, {simulated.simulations} paths, seed {simulated.seed}",
                }
            )
    return clean(
        {
            "observations": len(sample),
            "start": returns.index[-len(sample)],
            "end": returns.index[-1],
            "rows": rows,
            "backtest": _backtest(returns),
        }
    )


def _backtest(returns: pd.Series) -> dict | None:
    """The rolling 1-day historical VaR backtest of ``returns`` (the same engine
    function as the compliance VaR backtest rule), with the series the chart draws."""
    outcome = rolling_var_backtest(
        returns.to_numpy(),
        window=BACKTEST_WINDOW,
        observations=BACKTEST_DAYS,
        confidence=BACKTEST_CONFIDENCE,
    )
    if outcome is None:
        return None
    dates = returns.index[outcome.first :]
    return {
        "window": BACKTEST_WINDOW,
        "result": outcome.result,
        "dates": dates,
        "returns": outcome.returns,
        "forecasts": outcome.forecasts,
        "exception_dates": dates[outcome.exceptions],
    }


def exposures_section(holdings: pd.DataFrame) -> dict:
    """Long/short/gross/net by each attribute, concentration, and what was left out."""
    unvalued = holdings["market_value_base"].isna()
    valued = holdings[~unvalued].copy()
    if valued.empty:
        return {"dimensions": {}, "concentration": None, "unvalued_holdings": int(unvalued.sum())}
    dimensions = {
        name: records(exposure.exposures(valued, by=name).droplevel("portfolio"))
        for name in ATTRIBUTES
    }
    net_assets = valued.groupby("portfolio")["market_value_base"].sum()
    invested = valued[valued["asset_class"] != AssetClass.CASH]
    if invested.empty:  # all cash
        totals = pd.Series({"long": 0.0, "short": 0.0, "gross": 0.0, "net": 0.0})
        concentration = pd.Series(dtype=np.float64)
    else:
        totals = exposure.exposures(invested, by=None, net_assets=net_assets).iloc[0]
        concentration = exposure.concentration(invested, top_n=10, net_assets=net_assets).iloc[0]
    nav = float(net_assets.iloc[0])
    weights = invested["market_value_base"].abs() / nav if nav > 0 else None
    return clean(
        {
            "dimensions": dimensions,
            "totals": totals.to_dict(),
            "concentration": concentration.to_dict(),
            "net_assets": nav,
            "largest_position": None if weights is None or weights.empty else weights.max(),
            "unvalued_holdings": int(unvalued.sum()),
        }
    )


def risk_returns_windows(returns: pd.Series) -> dict[str, pd.Series]:
    """The daily returns of each :class:`RiskWindow` the history supports: the last
    ``VAR_HISTORY`` returns, and the 1Y, 3Y, 5Y and since-inception windows of the
    Performance tab (:func:`~analytics.services.snapshots.performance.window_slices`)."""
    slices = window_slices(returns)
    windows = {RiskWindow.LAST_500_DAYS.value: returns.iloc[-VAR_HISTORY:]}
    windows.update({window.value: slices[window] for window in RETURN_WINDOWS if window in slices})
    return windows


def window_risk_values(returns: pd.Series, benchmark: pd.Series | None) -> dict[str, float | None]:
    """Every return-based :class:`RiskLimitMetric` on one window of daily returns
    (the conventions of :func:`risk_values`); beta and tracking error None unless
    ``benchmark`` covers every date of the window."""
    sample = returns.to_numpy()
    values: dict[str, float | None] = {
        RiskLimitMetric.VAR_95: float(var.historical_var(sample, 0.95)),
        RiskLimitMetric.VAR_99: float(var.historical_var(sample, 0.99)),
        RiskLimitMetric.CVAR_95: float(var.historical_cvar(sample, 0.95)),
        RiskLimitMetric.VOLATILITY: float(ratios.annual_volatility(sample, PERIODS_PER_YEAR)),
        RiskLimitMetric.MAX_DRAWDOWN: abs(float(drawdown.max_drawdown(sample))),
        RiskLimitMetric.CURRENT_DRAWDOWN: abs(float(drawdown.current_drawdown(sample))),
        RiskLimitMetric.BETA: None,
        RiskLimitMetric.TRACKING_ERROR: None,
    }
    bench = benchmark.reindex(returns.index) if benchmark is not None else None
    if bench is not None and not bench.isna().any():
        covered = bench.to_numpy()
        values[RiskLimitMetric.BETA] = float(relative.beta(sample, covered))
        values[RiskLimitMetric.TRACKING_ERROR] = float(
            relative.tracking_error(sample, covered, PERIODS_PER_YEAR)
        )
    return values


def risk_values(
    *, returns: pd.Series, benchmark: pd.Series | None, exposures: dict
) -> dict[str, float | None]:
    """The value of each :class:`RiskLimitMetric` on each window it may be limited on
    (positive fractions; see that class), the figures risk limits are checked against.

    Keys are ``risk_value_key(metric, window)`` (``"var_95@1Y"``) for every window in
    :data:`RISK_LIMIT_WINDOWS` that the history supports; a bare metric key
    (``"var_95"``) holds the value on its default window (:data:`DEFAULT_RISK_WINDOWS`).
    VaR and CVaR are 1-day historical figures of the window's returns; volatility
    and tracking error annualised (√252, ddof 1); beta and tracking error null
    where the benchmark does not cover every date of the window; drawdowns
    measured from the window's own running peak (the current drawdown on the
    as-of date, 0 at a new peak). Exposures are on the as-of date.
    """
    windows = risk_returns_windows(returns) if len(returns) > 1 else {}
    by_window = {name: window_risk_values(window, benchmark) for name, window in windows.items()}
    totals = exposures.get("totals") or {}
    point_in_time: dict[str, float | None] = {
        RiskLimitMetric.GROSS_EXPOSURE: totals.get("gross"),
        RiskLimitMetric.NET_EXPOSURE: totals.get("net"),
        RiskLimitMetric.TOP10_WEIGHT: (exposures.get("concentration") or {}).get("top_n_weight"),
        RiskLimitMetric.LARGEST_POSITION: exposures.get("largest_position"),
    }
    values: dict[str, float | None] = {}
    for metric, allowed in RISK_LIMIT_WINDOWS.items():
        for window in allowed:
            if window == RiskWindow.AS_OF:
                value = point_in_time.get(metric)
            else:
                value = by_window.get(window, {}).get(metric)
            values[risk_value_key(metric, window)] = value
        values[metric] = values[risk_value_key(metric, DEFAULT_RISK_WINDOWS[metric])]
    return values
