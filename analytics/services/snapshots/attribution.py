"""Attribution sections of a snapshot.

**Brinson-Fachler, holdings-based, monthly, linked with Carino.** Each month is
one period from the last valuation of the previous month to the last valuation
of this one. Portfolio weights are the derived holdings at the period start;
benchmark weights are its constituent weights dated on or before the start. Each
instrument's return is its base-currency price return over the period (cash:
the FX move), i.e. buy-and-hold within the month. The monthly effects are linked
with Carino's coefficients, so each window's linked effects add up exactly to
the compounded holdings-based portfolio return minus the compounded benchmark
return. The difference between that holdings-based return and the portfolio's
time-weighted return (trading within the month, fees, flows) is reported as
``trading_effect``, never hidden in an effect. Needs a benchmark with
constituent weights.

**Factor regression.** Monthly portfolio returns (daily time-weighted returns
linked by calendar month; the inception month and an unfinished last month are
left out) minus the risk-free factor ``RF`` are regressed on the other monthly
factors (the Fama-French ``Mkt-RF``, ``SMB``, ``HML``) with OLS standard errors.
"""

import datetime as dt

import numpy as np
import pandas as pd

from analytics.engine.attribution.brinson import brinson_fachler_table
from analytics.engine.attribution.carino import link_carino_table
from analytics.engine.factor import FactorRegressionError, factor_regression
from analytics.models import Portfolio
from analytics.services.snapshots.frames import PortfolioFrames, month_end_weights_and_returns
from analytics.services.snapshots.jsonify import clean, records

GROUPINGS = ("sector", "country", "asset_class")
WINDOWS = {"SI": None, "3Y": 3, "1Y": 1}
RISK_FREE_FACTOR = "RF"


def month_ends(valuation_dates: pd.DatetimeIndex) -> list[dt.date]:
    """The last valuation date of each month, in order."""
    if valuation_dates.empty:
        return []
    last = (
        pd.Series(valuation_dates, index=valuation_dates)
        .groupby(valuation_dates.to_period("M"))
        .max()
    )
    return [day.date() for day in last]


def brinson_section(*, portfolio: Portfolio, frames: PortfolioFrames, returns: pd.Series) -> dict:
    if frames.benchmark_code is None:
        return {"available": False, "reason": "The portfolio has no benchmark."}
    if not frames.benchmark_has_weights:
        return {
            "available": False,
            "reason": f"Benchmark {frames.benchmark_code} has no constituent weights; "
            "holdings-based attribution needs them.",
        }
    ends = month_ends(frames.net_assets.dropna().index)
    if len(ends) < 2:
        return {"available": False, "reason": "Less than one month of valuations."}
    held, bench = month_end_weights_and_returns(portfolio=portfolio, month_ends=ends)
    periods = sorted(set(held["period"]) & set(bench["period"]))
    if not periods:
        return {"available": False, "reason": "No month with both holdings and benchmark weights."}
    held = held[held["period"].isin(periods)].assign(portfolio=portfolio.pk)
    bench = bench[bench["period"].isin(periods)].assign(portfolio=portfolio.pk)
    as_of = pd.Timestamp(ends[-1])
    groupings: dict[str, dict] = {}
    result = {
        "available": True,
        "benchmark": frames.benchmark_code,
        "method": "Brinson-Fachler per month, linked with Carino",
        "unmeasured_holdings": {
            "portfolio": held.attrs.get("dropped", {}),
            "benchmark": bench.attrs.get("dropped", {}),
        },
        "groupings": groupings,
    }
    for by in GROUPINGS:
        table = brinson_fachler_table(held, bench, by=by)
        by_window = {}
        for window, years in WINDOWS.items():
            start = None if years is None else (as_of - pd.DateOffset(years=years)).date()
            if start is not None and periods[0] > start + dt.timedelta(days=31):
                continue  # history too short for this window
            chosen = [p for p in periods if start is None or p > start]
            by_window[window] = _linked(table, chosen, returns)
        groupings[by] = by_window
    return clean(result)


def _linked(table, periods: list[dt.date], returns: pd.Series) -> dict:
    mask = table.returns.index.get_level_values("period").isin(periods)
    group_mask = table.groups.index.get_level_values("period").isin(periods)
    chosen = type(table)(groups=table.groups[group_mask], returns=table.returns[mask])
    linked = link_carino_table(chosen, over="period")
    totals = linked.returns.iloc[0]
    twr_window = returns[
        (returns.index > pd.Timestamp(_previous_month_end(periods[0])))
        & (returns.index <= pd.Timestamp(periods[-1]))
    ]
    twr = float(np.prod(1.0 + twr_window.to_numpy()) - 1.0)
    monthly = chosen.returns.droplevel("portfolio")
    effects = chosen.totals.droplevel("portfolio")
    return {
        "start": periods[0],
        "end": periods[-1],
        "months": len(periods),
        "portfolio_return": totals["portfolio_return"],
        "benchmark_return": totals["benchmark_return"],
        "active_return": totals["active_return"],
        "portfolio_time_weighted_return": twr,
        "trading_effect": twr - totals["portfolio_return"],
        "groups": records(linked.groups.droplevel("portfolio")),
        "totals": linked.totals.iloc[0].to_dict(),
        "monthly": records(monthly.join(effects.drop(columns="total"))),
    }


def _previous_month_end(period_end: dt.date) -> dt.date:
    return (pd.Timestamp(period_end).to_period("M") - 1).end_time.date()


def factor_section(frames: PortfolioFrames, returns: pd.Series) -> dict:
    factors = frames.factor_returns
    if factors is None or factors.empty:
        return {"available": False, "reason": "No factor returns are loaded."}
    growth = (1.0 + returns).groupby(returns.index.to_period("M"))
    monthly = growth.prod() - 1.0
    complete = monthly.index[1:]  # the inception month is partial
    last_day = returns.index[-1]
    if last_day < (last_day + pd.offsets.BMonthEnd(0)):
        complete = complete[:-1]  # the last month has not finished
    monthly = monthly.loc[complete]
    common = monthly.index.intersection(factors.dropna().index)
    if RISK_FREE_FACTOR not in factors.columns:
        return {"available": False, "reason": f"Factor {RISK_FREE_FACTOR} is missing."}
    explanatory = [name for name in factors.columns if name != RISK_FREE_FACTOR]
    excess = (monthly.loc[common] - factors.loc[common, RISK_FREE_FACTOR]).rename("portfolio")
    try:
        fit = factor_regression(excess, factors.loc[common, explanatory])
    except FactorRegressionError as error:
        return {"available": False, "reason": str(error)}
    return clean(
        {
            "available": True,
            "frequency": "monthly",
            "start": common[0] if len(common) else None,
            "end": common[-1] if len(common) else None,
            "observations": fit.observations.iloc[0],
            "covariance": fit.covariance,
            "coefficients": fit.coefficients.iloc[0].to_dict(),
            "standard_errors": fit.standard_errors.iloc[0].to_dict(),
            "t_stats": fit.t_stats.iloc[0].to_dict(),
            "total_contributions": fit.total_contributions.iloc[0].to_dict(),
            "r_squared": fit.r_squared.iloc[0],
            "adjusted_r_squared": fit.adjusted_r_squared.iloc[0],
            "residual_volatility": fit.residual_volatility.iloc[0],
        }
    )
