"""VaR inputs and values for the VaR rules, vectorised across portfolios.

VaR itself is :mod:`analytics.engine.var` (historical, normal, Cornish-Fisher)
and the backtest is :mod:`analytics.engine.backtest`; this module only prepares
return matrices and reads the rules' parameters.

Conventions:

* VaR is a **positive loss fraction** of net assets. A rule's VaR is the
  one-day VaR at ``confidence`` over the last ``min_history_days`` daily returns,
  scaled to ``horizon_days`` with their mean μ: the loss beyond the mean by the
  square root of time and the mean by time, ``(VaR₁ + μ)·√h − h·μ``
  (:func:`analytics.engine.var.scale_to_horizon`; ``−z·σ·√h − h·μ`` for the normal
  method). A portfolio with fewer than
  ``min_history_days`` complete returns gets no value: SEC Rule 18f-4 requires at
  least three years (756 trading days) of history.
* The returns of a portfolio for its VaR are those of its **current holdings**
  over history (hypothetical P&L: today's weights × each instrument's daily
  returns), so a trade changes the VaR at once, as regulators expect. Cash
  earns 0. A date on which a held instrument has no return is missing (NaN) for
  that portfolio, never a zero.
* Relative VaR is the portfolio's VaR ÷ the reference's VaR, both computed with the
  same parameters; a reference with no VaR (or a VaR ≤ 0) gives no value.
* The backtest compares each day's one-day VaR forecast, estimated from the
  ``min_history_days`` measured returns up to that day (the rule's window), with
  the next measured return, over the last ``observations`` forecasts
  (Basel/18f-4 style). It is the snapshot Risk tab's backtest
  (:func:`analytics.engine.backtest.rolling_var_backtest`) on the same series: the
  flow-adjusted daily returns of net assets measured across valuation gaps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.engine import backtest as backtest_engine
from analytics.engine import var as var_engine
from compliance.engine.kinds import RuleKind
from compliance.engine.specs import RiskInputs, RuleSpec, RuleValues

VAR_FUNCTIONS = {
    "historical": var_engine.historical_var,
    "normal": var_engine.normal_var,
    "cornish_fisher": var_engine.cornish_fisher_var,
}


def holdings_returns(weights: pd.DataFrame, instrument_returns: pd.DataFrame) -> pd.DataFrame:
    """Daily returns of fixed weights over history (dates × portfolio).

    ``weights`` is portfolio × instrument (fractions of net assets; missing = 0);
    ``instrument_returns`` is dates × instrument. Instruments absent from the return
    history (cash) earn 0; a NaN return of a *held* instrument makes that date NaN
    for the portfolio.
    """
    weights = weights.fillna(0.0)
    columns = weights.columns.intersection(instrument_returns.columns)
    returns = instrument_returns.reindex(columns=columns)
    held = weights[columns].to_numpy(dtype=np.float64)
    values = returns.to_numpy(dtype=np.float64)
    missing = np.isnan(values)
    pnl = np.where(missing, 0.0, values) @ held.T
    gaps = missing.astype(np.float64) @ (held != 0).T.astype(np.float64)
    pnl[gaps > 0] = np.nan
    return pd.DataFrame(pnl, index=instrument_returns.index, columns=weights.index)


def var_of_returns(
    returns: pd.DataFrame,
    *,
    confidence: float,
    horizon_days: int,
    min_history_days: int,
    method: str = "historical",
) -> pd.Series:
    """VaR per column over its last ``min_history_days`` rows, scaled to the horizon.

    A column with a missing value in that window (too short a history) is NaN.
    """
    if returns.empty or len(returns) < min_history_days:
        return pd.Series(np.nan, index=returns.columns, dtype=np.float64)
    window = returns.iloc[-min_history_days:]
    one_day = VAR_FUNCTIONS[method](window, confidence)
    drift = window.mean(skipna=False).to_numpy(dtype=np.float64)
    scaled = var_engine.scale_to_horizon(one_day, horizon_days, mean=drift)
    return pd.Series(scaled, index=returns.columns)


def var_backtests(
    realised: pd.DataFrame,
    *,
    confidence: float,
    observations: int,
    window: int,
    method: str = "historical",
) -> pd.DataFrame:
    """Backtest of the one-day VaR over the last ``observations`` forecasts, per column.

    Each column is one portfolio's measured daily returns; a NaN is a date that is not
    on that portfolio's measured calendar and is dropped, so the series is the one the
    snapshot's Risk tab tests. The forecast made at the close of a day uses the
    ``window`` returns ending that day and is tested against the next return
    (:func:`analytics.engine.backtest.rolling_var_backtest`, the Risk tab's function).
    Columns: ``exceptions``, ``observations``, ``zone``, ``kupiec_p_value``,
    ``returns`` (measured returns available) and ``first``/``last`` (the first and
    last tested dates); ``exceptions`` is NaN and ``observations`` 0 when fewer than
    ``window + observations`` returns are available.
    """
    rows = []
    for column in realised.columns:
        series = realised[column].dropna()
        outcome = None
        if len(series) >= window + observations:
            outcome = backtest_engine.rolling_var_backtest(
                series.to_numpy(dtype=np.float64),
                window=window,
                observations=observations,
                confidence=confidence,
                var_function=VAR_FUNCTIONS[method],
            )
        if outcome is None:
            rows.append((np.nan, 0, "", np.nan, len(series), None, None))
            continue
        rows.append(
            (
                outcome.result.exceptions,
                outcome.result.observations,
                outcome.result.zone.value,
                outcome.result.kupiec.p_value,
                len(series),
                series.index[outcome.first],
                series.index[-1],
            )
        )
    return pd.DataFrame.from_records(
        rows,
        index=realised.columns,
        columns=[
            "exceptions",
            "observations",
            "zone",
            "kupiec_p_value",
            "returns",
            "first",
            "last",
        ],
    )


def risk_rule_values(rule: RuleSpec, portfolios: np.ndarray, risk: RiskInputs | None) -> RuleValues:
    """Values of a VaR rule for ``portfolios`` (see the module docstring)."""
    params = rule.params
    nothing = np.full(len(portfolios), np.nan)
    detail: list[dict[str, Any]] = [{} for _ in portfolios]
    kind = RuleKind(rule.kind)
    settings = {
        "confidence": float(params.get("confidence", 0.99)),
        "min_history_days": int(params.get("min_history_days", 756)),
        "method": params.get("method", "historical"),
    }
    if kind is RuleKind.VAR_BACKTEST:
        if risk is None or risk.realised is None:
            return RuleValues(
                value=nothing, detail=[{"reason": "no realised returns"}] * len(nothing)
            )
        realised = risk.realised.reindex(columns=portfolios)
        window = settings["min_history_days"]
        observations = int(params.get("observations", 250))
        table = var_backtests(
            realised,
            confidence=settings["confidence"],
            observations=observations,
            window=window,
            method=settings["method"],
        )
        detail = [
            {
                "observations": int(row.observations),
                "window": window,
                "zone": row.zone,
                "kupiec_p_value": None if np.isnan(row.kupiec_p_value) else row.kupiec_p_value,
                "first": _iso(row.first),
                "last": _iso(row.last),
            }
            if row.observations
            else {
                "reason": f"{row.returns} measured daily returns, fewer than the "
                f"{window + observations} the backtest needs ({window}-day window, "
                f"{observations} forecasts)"
            }
            for row in table.itertuples()
        ]
        return RuleValues(value=table["exceptions"].to_numpy(dtype=float), detail=detail)

    horizon = int(params.get("horizon_days", 20))
    if risk is None or risk.returns is None:
        return RuleValues(value=nothing, detail=[{"reason": "no return history"}] * len(nothing))
    returns = risk.returns.reindex(columns=portfolios)
    own = var_of_returns(returns, horizon_days=horizon, **settings)
    if kind is RuleKind.MAX_VAR:
        detail = [
            {"var": None if np.isnan(v) else float(v)}
            if not np.isnan(v)
            else {"reason": f"fewer than {settings['min_history_days']} daily returns"}
            for v in own.to_numpy()
        ]
        return RuleValues(value=own.to_numpy(dtype=float), detail=detail)

    references = risk.reference_returns if risk.reference_returns is not None else pd.DataFrame()
    reference_var = var_of_returns(references, horizon_days=horizon, **settings)
    values = np.full(len(portfolios), np.nan)
    group = np.full(len(portfolios), "", dtype=object)
    for i, portfolio in enumerate(portfolios):
        key = risk.reference_of.get((rule.rule_id, int(portfolio)))
        group[i] = key or ""
        reference = reference_var.get(key, np.nan) if key else np.nan
        portfolio_var = own.iloc[i]
        if key is None:
            detail[i] = {"reason": "no reference portfolio or benchmark"}
        elif np.isnan(reference) or reference <= 0:
            detail[i] = {"reason": f"no VaR for the reference {key}", "var": _float(portfolio_var)}
        else:
            values[i] = portfolio_var / reference
            detail[i] = {"var": _float(portfolio_var), "reference_var": float(reference)}
    return RuleValues(value=values, group=group, detail=detail)


def _iso(day: Any) -> str | None:
    return None if day is None else pd.Timestamp(day).date().isoformat()


def _float(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
