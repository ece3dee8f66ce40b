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
"""

import numpy as np
import pandas as pd

from analytics.engine import exposure, var
from analytics.engine.backtest import rolling_var_backtest
from analytics.models import AssetClass, RiskLimitMetric
from analytics.services.snapshots.frames import ATTRIBUTES
from analytics.services.snapshots.jsonify import clean, records

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


def risk_values(
    *, var_rows: list[dict], metrics: dict, exposures: dict, relative: dict
) -> dict[str, float | None]:
    """The value of each :class:`RiskLimitMetric` (positive fractions; see that class)."""

    def one_day(method, confidence, key="var"):
        for row in var_rows:
            if (row["method"], row["confidence"], row["horizon"]) == (method, confidence, 1):
                return row[key]
        return None

    year = metrics["windows"].get("1Y") or metrics["windows"].get("SI") or {}
    since_inception = metrics["windows"].get("SI", {}).get("portfolio", {})
    totals = exposures.get("totals") or {}
    drawdown = since_inception.get("max_drawdown")
    return {
        RiskLimitMetric.VAR_95: one_day("historical", 0.95),
        RiskLimitMetric.VAR_99: one_day("historical", 0.99),
        RiskLimitMetric.CVAR_95: one_day("historical", 0.95, "cvar"),
        RiskLimitMetric.VOLATILITY: (year.get("portfolio") or {}).get("annual_volatility"),
        RiskLimitMetric.TRACKING_ERROR: relative.get("tracking_error"),
        RiskLimitMetric.BETA: relative.get("beta"),
        RiskLimitMetric.MAX_DRAWDOWN: None if drawdown is None else abs(drawdown),
        RiskLimitMetric.GROSS_EXPOSURE: totals.get("gross"),
        RiskLimitMetric.NET_EXPOSURE: totals.get("net"),
        RiskLimitMetric.TOP10_WEIGHT: (exposures.get("concentration") or {}).get("top_n_weight"),
        RiskLimitMetric.LARGEST_POSITION: exposures.get("largest_position"),
    }
