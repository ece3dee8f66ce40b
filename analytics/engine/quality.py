"""Pure data-quality checks over price series, trades and holdings (numpy,
pandas and exchange_calendars only; no Django).

Conventions
-----------
* A *session* is a trading day of the instrument's exchange (ISO 10383 MIC) in
  ``exchange_calendars``. An empty or unknown MIC falls back to Monday–Friday;
  so do dates outside the calendar's published range.
* *Stale*: the number of sessions strictly after the last close up to and
  including the reference date; a close on the reference date is 0 sessions old.
* *Unchanged*: the same close on at least ``sessions`` consecutive closes of an
  instrument (a vendor repeating its last value looks like a fresh price and is as
  stale as no price). A gap in between does not break the run: the closes either
  side of it are still repeats.
* *Gap*: a session between an instrument's first and last close in the window
  without a close.
* *Spike*: a daily log return whose absolute value exceeds ``sigmas`` times the
  standard deviation (ddof 1) of the previous ``window`` returns (the return
  itself excluded, at least ``min_periods`` of them). Closes are split-adjusted
  first (closes before an ex-date divided by the split ratio), so a 2-for-1
  split is not a −50 % spike. A bad print makes two extreme returns, into it
  and back out; the return straight after a spike that moves the other way is
  the reversal and is not reported again.
* *Incomplete* days are masked to NaN (``mask_incomplete``), so a missing value
  can never pass for a zero return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, SupportsFloat

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar


@lru_cache(maxsize=64)
def _calendar(mic: str) -> ExchangeCalendar | None:
    import exchange_calendars as xcals

    try:
        return xcals.get_calendar(mic, start="1990-01-01")
    except Exception:  # unknown MIC, or a calendar that cannot go back that far
        try:
            return xcals.get_calendar(mic)
        except Exception:
            return None


def trading_sessions(mic: str, start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    """Sessions of exchange ``mic`` from ``start`` to ``end`` inclusive (naive
    dates). Weekdays when the MIC is unknown or the range is outside the calendar."""
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    if end_ts < start_ts:
        return pd.DatetimeIndex([])
    calendar = _calendar(mic.upper()) if mic else None
    if calendar is not None:
        first, last = (
            calendar.first_session.tz_localize(None),
            calendar.last_session.tz_localize(None),
        )
        if start_ts >= first and end_ts <= last:
            sessions = calendar.sessions_in_range(start_ts, end_ts)
            return pd.DatetimeIndex(sessions).tz_localize(None)
    return pd.bdate_range(start_ts, end_ts)


def sessions_since(last: dt.date, reference: dt.date, sessions: pd.DatetimeIndex) -> int:
    """Sessions after ``last`` up to and including ``reference``."""
    return int(((sessions > pd.Timestamp(last)) & (sessions <= pd.Timestamp(reference))).sum())


def missing_sessions(price_dates: Iterable[dt.date], sessions: pd.DatetimeIndex) -> list[dt.date]:
    """Sessions between the first and last of ``price_dates`` that have no close."""
    dates = pd.DatetimeIndex(pd.to_datetime(list(price_dates))).unique().sort_values()
    if len(dates) < 2:
        return []
    inside = sessions[(sessions > dates[0]) & (sessions < dates[-1])]
    return [d.date() for d in inside.difference(dates)]


@dataclass(frozen=True)
class UnchangedRun:
    """``count`` consecutive closes equal to ``close``, from ``first`` to ``last``."""

    first: dt.date
    last: dt.date
    count: int
    close: float


def unchanged_runs(
    dates: Iterable[dt.date], closes: Iterable[SupportsFloat], *, sessions: int
) -> list[UnchangedRun]:
    """Runs of at least ``sessions`` consecutive equal closes (``dates`` ascending, one
    close each), oldest first; none when ``sessions`` < 2."""
    values = np.asarray([float(c) for c in closes], dtype=np.float64)
    days = list(dates)
    if sessions < 2 or len(values) < sessions:
        return []
    # A new run starts wherever the close differs from the one before it.
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    return [
        UnchangedRun(
            first=_as_date(days[start]),
            last=_as_date(days[end - 1]),
            count=int(end - start),
            close=float(values[start]),
        )
        for start, end in zip(starts, ends, strict=True)
        if end - start >= sessions
    ]


def _as_date(day: dt.date) -> dt.date:
    date: dt.date = pd.Timestamp(day).date()
    return date


def contiguous_runs(days: list[dt.date], sessions: pd.DatetimeIndex) -> list[list[dt.date]]:
    """Group missing sessions into runs of consecutive sessions."""
    if not days:
        return []
    position = {d.date(): i for i, d in enumerate(sessions)}
    runs: list[list[dt.date]] = [[days[0]]]
    for day in days[1:]:
        if position.get(day, -2) == position.get(runs[-1][-1], -10) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def non_session_days(dates: Iterable[dt.date], sessions: pd.DatetimeIndex) -> np.ndarray:
    """Boolean mask: which of ``dates`` are not sessions."""
    index = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    return ~np.asarray(index.isin(sessions), dtype=bool)


def split_adjusted(
    dates: Iterable[dt.date],
    closes: Iterable[float],
    splits: Iterable[tuple[dt.date, SupportsFloat]],
) -> np.ndarray:
    """Closes divided by the product of the ratios of the splits whose ex-date is
    after the close's date (``splits``: iterable of ``(ex_date, ratio)``)."""
    index = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    values = np.asarray(closes, dtype=float).copy()
    for ex_date, ratio in splits:
        values[index < pd.Timestamp(ex_date)] /= float(ratio)
    return values


@dataclass(frozen=True)
class Spike:
    date: dt.date
    log_return: float
    z_score: float


def price_spikes(
    dates: Iterable[dt.date],
    closes: Iterable[float],
    *,
    window: int = 60,
    sigmas: float = 6.0,
    min_periods: int = 20,
) -> list[Spike]:
    """Daily log returns beyond ``sigmas`` standard deviations of the previous
    ``window`` returns (see the module docstring). Non-positive closes are
    skipped (they have no log return)."""
    series = pd.Series(np.asarray(closes, dtype=float), index=pd.to_datetime(list(dates)))
    series = series[series > 0].sort_index()
    if len(series) < min_periods + 2:
        return []
    returns = np.log(series).diff().dropna()
    spread = returns.rolling(window, min_periods=min_periods).std(ddof=1).shift(1)
    z = returns / spread
    flagged = ((z.abs() > sigmas) & np.isfinite(z)).to_numpy()
    signs = np.sign(returns.to_numpy())
    spikes: list[Spike] = []
    for i in np.flatnonzero(flagged):
        reversal = i > 0 and flagged[i - 1] and signs[i] == -signs[i - 1]
        if reversal and spikes and spikes[-1].date == returns.index[i - 1].date():
            continue  # the way back from the previous day's spike
        day = returns.index[i]
        spikes.append(Spike(day.date(), float(returns.iloc[i]), float(z.iloc[i])))
    return spikes


def duplicate_trade_groups(trades: pd.DataFrame) -> list[list[int]]:
    """Groups of trade ids that look like the same trade booked twice: same
    portfolio, instrument, trade date, side, quantity and price, different ids.
    ``trades`` has columns id, portfolio_id, instrument_id, trade_date, side,
    quantity, price."""
    if trades.empty:
        return []
    keys = ["portfolio_id", "instrument_id", "trade_date", "side", "quantity", "price"]
    frame = trades.assign(**{k: trades[k].astype(str) for k in ("quantity", "price")})
    groups = frame.groupby(keys, sort=True)["id"].apply(sorted)
    return [ids for ids in groups if len(ids) > 1]


def mask_incomplete(values: np.ndarray, complete: np.ndarray) -> np.ndarray:
    """``values`` (dates × portfolios, or one series) with NaN where the data of
    that day is incomplete, so that a gap is never read as a flat day."""
    result = np.asarray(values, dtype=float).copy()
    result[~np.asarray(complete, dtype=bool)] = np.nan
    return result


def completeness(holdings: np.ndarray, valued: np.ndarray) -> np.ndarray:
    """Fraction of holdings valued per day; 1.0 where nothing is held."""
    holdings = np.asarray(holdings, dtype=float)
    valued = np.asarray(valued, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(holdings > 0, valued / holdings, 1.0)
