"""Daily returns of a portfolio and its benchmark on the portfolio's valuation dates.

* Returns are the shared definition (:mod:`analytics.selectors.frames`):
  time-weighted with external flows counted at the **end of the day**,
  ``r_t = (V_t − F_t) / V_{t−1} − 1``.
* Snapshots measure **across gaps**: a date without a valuation is a gap, not a
  flat day; its return is not computed and the return of the next valuation spans
  the gap (:func:`analytics.selectors.frames.returns_across_gaps`), a flow dated in
  the gap counting on that next valuation. An interval whose flow has no FX rate,
  or whose starting net assets are not positive, cannot be measured and is left
  out. Every gap and left-out interval is listed, so readers can tell a gap from a
  zero return.
* The benchmark's daily returns are linked over each of the portfolio's valuation
  intervals. An interval the benchmark does not cover completely (before its
  first or after its last date, or containing a missing return) is NaN.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.selectors.frames import returns_across_gaps
from analytics.services.snapshots.frames import PortfolioFrames


@dataclass(frozen=True)
class ReturnSeries:
    portfolio: pd.Series  # measured daily returns, no NaN (DatetimeIndex)
    benchmark: pd.Series | None  # on the same dates; NaN where not covered
    gaps: list[dict]  # {"date", "reason"}


def portfolio_returns(frames: PortfolioFrames) -> ReturnSeries:
    """The measured returns of ``frames``' portfolio, its benchmark over the same
    intervals, and every gap (see the module docstring)."""
    valuations = frames.history.valuations
    unvalued = valuations[valuations["net_assets"].isna()]
    gaps = [
        {"date": day, "reason": f"no valuation: {count} holding(s) without a base-currency value"}
        for day, count in zip(unvalued["date"], unvalued["unvalued_holdings"], strict=True)
    ]
    measured = returns_across_gaps(frames.history).set_index("date")
    unknown_flow = measured["flow"].isna()
    gaps.extend(
        {"date": day, "reason": "external flow without an FX rate"}
        for day in measured.index[unknown_flow]
    )
    gaps.extend(
        {"date": day, "reason": "previous net assets not positive"}
        for day in measured.index[measured["return"].isna() & ~unknown_flow]
    )
    returns = measured["return"].dropna().rename("portfolio")
    benchmark = None
    if frames.benchmark_returns is not None:
        valued_dates = frames.net_assets.dropna().index
        benchmark = link_over_intervals(frames.benchmark_returns, valued_dates)
        benchmark = benchmark.reindex(returns.index)
    gaps.sort(key=lambda gap: gap["date"])
    return ReturnSeries(portfolio=returns, benchmark=benchmark, gaps=gaps)


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
