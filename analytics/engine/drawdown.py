"""Drawdowns: the underwater curve, its depth, its duration and its episodes.

Conventions (all functions):

* Wealth compounds the simple returns from a starting value placed *before* the first return,
  so a loss on the first day is already a drawdown (empyrical's convention).
* Drawdowns are **negative fractions** of the running peak: −0.25 is 25 % below the peak;
  0 means at a peak.
* A drawdown episode runs from its peak (the last date at the running maximum) through its
  trough to its recovery (the first date back at or above the peak). Lengths are in periods
  (trading days for daily data): peak to recovery, or peak to the last observation when not
  recovered. A peak at the starting value has no date (``peak_date`` is None, position −1).
* A missing value (NaN) in a column makes that column's results NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.engine._arrays import ArrayLike, as_matrix


@dataclass(frozen=True)
class DrawdownEpisode:
    """One drawdown, from peak to recovery (positions are row numbers, −1 the start value)."""

    depth: float
    peak_position: int
    trough_position: int
    recovery_position: int | None
    peak_date: Any
    trough_date: Any
    recovery_date: Any
    length: int
    peak_to_trough: int
    time_to_recover: int | None


def underwater(returns: ArrayLike) -> np.ndarray | pd.Series | pd.DataFrame:
    """Drawdown of each date from the running peak: ``wealth / running max − 1`` (≤ 0).

    Pandas input keeps its index (and columns).
    """
    matrix, _ = as_matrix(returns)
    curve = underwater_matrix(matrix)
    if isinstance(returns, pd.DataFrame):
        return pd.DataFrame(curve, index=returns.index, columns=returns.columns)
    if isinstance(returns, pd.Series):
        return pd.Series(curve[:, 0], index=returns.index, name=returns.name)
    return curve if np.ndim(returns) == 2 else curve[:, 0]


def underwater_matrix(
    matrix: np.ndarray, scratch: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Underwater curve of a float (T, P) array (the computation behind :func:`underwater`).

    Wealth and its running peak are scans along time (see :func:`scan_rows`).
    ``scratch``: two C-ordered (T, P) arrays to work in; the curve is returned in the first.
    """
    if scratch is None:
        scratch = (np.empty(matrix.shape), np.empty(matrix.shape))
    wealth, peak = scratch
    np.add(matrix, 1.0, out=wealth)
    scan_rows(np.multiply, wealth)
    # The starting value 1 is the first peak.
    np.maximum(wealth, 1.0, out=peak)
    scan_rows(np.maximum, peak)
    wealth /= peak
    wealth -= 1.0
    return wealth


def scan_rows(operation: np.ufunc, array: np.ndarray) -> np.ndarray:
    """Inclusive scan of ``operation`` down the rows of a C-ordered (T, P) array, in place.

    ``np.multiply.accumulate(axis=0)`` runs a scalar loop down each column. Here the dates are
    cut into about √T blocks of √T rows: one vectorised call per row position scans every
    block at once, then one call per block carries the previous block's last row into it,
    so about 2√T calls replace T. For ``np.maximum`` the result is exact; for ``np.multiply``
    the products are grouped by block, which changes them by a few units in the last place.
    Best on arrays that fit in the cache (a block of columns, as :mod:`metrics` passes).
    """
    periods = array.shape[0]
    length = max(math.isqrt(periods), 1)
    blocks = periods // length
    full = array[: blocks * length].reshape(blocks, length, *array.shape[1:])
    for row in range(1, length):
        operation(full[:, row - 1], full[:, row], out=full[:, row])
    for block in range(1, blocks):
        operation(full[block - 1, -1], full[block], out=full[block])
    for row in range(blocks * length, periods):
        operation(array[row - 1], array[row], out=array[row])
    return array


def max_drawdown(returns: ArrayLike) -> ArrayLike | float:
    """Deepest drawdown of each column, a negative fraction (0 if never below a peak)."""
    matrix, shape_result = as_matrix(returns)
    if matrix.shape[0] == 0:
        return shape_result(np.full(matrix.shape[1], np.nan))
    return shape_result(underwater_matrix(matrix).min(axis=0))


def current_drawdown(returns: ArrayLike) -> ArrayLike | float:
    """Drawdown on the last date of each column (0 when the last date is a peak)."""
    matrix, shape_result = as_matrix(returns)
    return shape_result(underwater_matrix(matrix)[-1])


def max_drawdown_duration(returns: ArrayLike) -> ArrayLike | float:
    """Length in periods of each column's longest drawdown (not necessarily its deepest).

    Counted from the peak to the recovery, or to the last observation if not recovered; 0 when
    the column never falls below a peak. Vectorised over columns (see :func:`durations_from_curve`).
    """
    matrix, shape_result = as_matrix(returns)
    return shape_result(durations_from_curve(underwater_matrix(matrix)))


def durations_from_curve(curve: np.ndarray) -> np.ndarray:
    """Longest drawdown length per column of an underwater curve (T, P), as a float array.

    Each maximal run of dates under water is one episode: its length is the run's length plus
    one (the recovery date) when it ends before the last date, else the run's length (the peak
    is the date before the run). Runs are found for all columns at once in the flattened
    (portfolio, date) flags, where each column's dates are contiguous, so starts and ends pair
    up in order and there is no loop over portfolios.
    """
    periods, columns = curve.shape
    # Flags padded with "not under water" before the first and after the last date, so that
    # every run has exactly one rising and one falling edge, and edges come in pairs per column.
    padded = np.zeros((columns, periods + 2), dtype=bool)
    np.less(curve.T, 0.0, out=padded[:, 1:-1])
    edges = np.flatnonzero(padded[:, 1:] != padded[:, :-1])
    rises, falls = edges[0::2], edges[1::2]
    # A run whose falling edge is before the last date recovered on that date.
    recovered = (falls % (periods + 1)) < periods
    lengths = falls - rises + recovered
    longest = np.zeros(columns, dtype=np.int64)
    np.maximum.at(longest, rises // (periods + 1), lengths)
    result = longest.astype(np.float64)
    result[np.isnan(curve[-1])] = np.nan
    return result


def drawdown_episodes(returns: pd.Series | np.ndarray, top: int = 5) -> list[DrawdownEpisode]:
    """The ``top`` deepest drawdown episodes of one return series, deepest first.

    Dates come from the series' index (positions stand in for an ndarray). Ties in depth keep
    time order. ``time_to_recover`` is trough to recovery in periods, None if not recovered.
    """
    values = np.asarray(returns, dtype=np.float64).reshape(-1)
    if np.isnan(values).any():
        raise ValueError("returns contain missing values; drop or reject them first")
    labels = returns.index if isinstance(returns, pd.Series) else pd.RangeIndex(len(values))
    curve = underwater_matrix(values[:, np.newaxis])[:, 0]
    below = curve < 0.0
    edges = np.diff(np.concatenate(([False], below, [False])).astype(np.int8))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    episodes = [
        _episode(curve, labels, int(start), int(stop))
        for start, stop in zip(starts, stops, strict=True)
    ]
    episodes.sort(key=lambda episode: episode.depth)
    return episodes[:top]


def _episode(curve: np.ndarray, labels: pd.Index, start: int, stop: int) -> DrawdownEpisode:
    """Episode whose under-water run is rows ``start`` to ``stop − 1``."""
    peak = start - 1
    trough = start + int(np.argmin(curve[start:stop]))
    recovery = stop if stop < len(curve) else None
    end = recovery if recovery is not None else len(curve) - 1
    return DrawdownEpisode(
        depth=float(curve[trough]),
        peak_position=peak,
        trough_position=trough,
        recovery_position=recovery,
        peak_date=labels[peak] if peak >= 0 else None,
        trough_date=labels[trough],
        recovery_date=labels[recovery] if recovery is not None else None,
        length=end - peak,
        peak_to_trough=trough - peak,
        time_to_recover=recovery - trough if recovery is not None else None,
    )


def time_to_recover(returns: pd.Series | np.ndarray) -> int | None:
    """Periods from the trough of the deepest drawdown to its recovery.

    None if it has not recovered yet; 0 if the series never fell below a peak.
    """
    episodes = drawdown_episodes(returns, top=1)
    return episodes[0].time_to_recover if episodes else 0
