"""Daily returns of a portfolio and its benchmark on the portfolio's valuation dates.

* Returns are time-weighted with external flows counted at the **end of the day**
  (the day's valuation already includes the flow): ``r_t = (V_t − F_t) / V_{t−1} − 1``.
  A flow dated on a day without a valuation counts on the next valuation date.
* A date without a valuation is a **gap**, not a flat day: its return is not
  computed and the return of the next valuation spans the gap. An interval whose
  flow has no FX rate cannot be measured and is left out. Every gap and left-out
  interval is listed, so readers can tell a gap from a zero return.
* The benchmark's daily returns are linked over each of the portfolio's valuation
  intervals. An interval the benchmark does not cover completely (before its
  first or after its last date, or containing a missing return) is NaN.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.engine.flows import daily_time_weighted_returns
from analytics.services.snapshots.frames import PortfolioFrames


@dataclass(frozen=True)
class ReturnSeries:
    portfolio: pd.Series  # measured daily returns, no NaN (DatetimeIndex)
    benchmark: pd.Series | None  # on the same dates; NaN where not covered
    gaps: list[dict]  # {"date", "reason"}


def _flows_on_valuation_dates(flows: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    if flows.empty or dates.empty:
        return pd.Series(dtype=np.float64)
    position = dates.searchsorted(flows.index, side="left")
    inside = position < len(dates)
    assigned = pd.Series(flows.to_numpy()[inside], index=dates[position[inside]])
    # sum(skipna=False): one unconverted flow makes the day's total unknown.
    return assigned.groupby(level=0).agg(lambda day: day.sum(skipna=False))


def portfolio_returns(frames: PortfolioFrames) -> ReturnSeries:
    values = frames.net_assets
    gaps = [
        {"date": day, "reason": f"no valuation: {count} holding(s) without a base-currency value"}
        for day, count in frames.unvalued_holdings[values.isna()].items()
    ]
    measured = values.dropna()
    flows = _flows_on_valuation_dates(frames.flows, measured.index)
    returns = daily_time_weighted_returns(
        measured.to_frame("portfolio"), flows.fillna(0.0).to_frame("portfolio"), flow_timing="end"
    )["portfolio"].iloc[1:]
    # The engine reads a NaN flow as "no flow"; an unconverted flow is unknown instead.
    unknown_flow = returns.index.isin(flows.index[flows.isna()])
    gaps.extend(
        {"date": day, "reason": "external flow without an FX rate"}
        for day in returns.index[unknown_flow]
    )
    gaps.extend(
        {"date": day, "reason": "previous net assets not positive"}
        for day in returns.index[returns.isna() & ~unknown_flow]
    )
    returns = returns[~unknown_flow]
    returns = returns.dropna()
    benchmark = None
    if frames.benchmark_returns is not None:
        benchmark = link_over_intervals(frames.benchmark_returns, measured.index)
        benchmark = benchmark.reindex(returns.index)
    gaps.sort(key=lambda gap: gap["date"])
    return ReturnSeries(portfolio=returns.rename("portfolio"), benchmark=benchmark, gaps=gaps)


def link_over_intervals(daily: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    """Link ``daily`` returns over each interval ``(dates[i-1], dates[i]]`` (NaN if not covered)."""
    if daily.empty or len(dates) < 2:
        return pd.Series(np.nan, index=dates[1:], name=daily.name)
    level = (1.0 + daily.fillna(0.0)).cumprod()
    missing = daily.isna().cumsum()
    position = daily.index.searchsorted(dates, side="right") - 1  # last daily date <= date
    at = np.clip(position, 0, None)
    level_at = np.where(position >= 0, level.to_numpy()[at], 1.0)
    missing_at = np.where(position >= 0, missing.to_numpy()[at], 0)
    linked = level_at[1:] / level_at[:-1] - 1.0
    covered = (
        (dates[:-1] >= daily.index[0])
        & (dates[1:] <= daily.index[-1])
        & (missing_at[1:] == missing_at[:-1])
    )
    return pd.Series(np.where(covered, linked, np.nan), index=dates[1:], name=daily.name)
