"""Order statistics shared by historical VaR, CVaR and the tail ratio (private).

Percentiles use numpy's default ``linear`` rule: the q-th percentile of n sorted values is
interpolated at position ``(n − 1)·q`` (``np.percentile(x, 100 q)``).

Historical estimates only need the extreme ranks of each column (the worst 5 % and the best 5 %),
so instead of partitioning whole columns (``np.partition`` costs about 10 ns a value) the tails
are found exactly in three cheap steps: a threshold from the column's mean and standard
deviation that leaves roughly twice the needed count beyond it, one vectorised pass that
gathers the values beyond it into a small (portfolios × candidates) array, and a sort of that
array. A column with too few (or far too many) candidates, e.g. a very skewed one, falls back
to ``np.partition`` for that column alone, so the result is exact whatever the distribution.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def tail_probability(confidence: float) -> float:
    """``1 − confidence``, rounded to 12 decimals so that 1 − 0.95 is exactly 0.05.

    Without the rounding, 1 − 0.95 = 0.050000000000000044 and ``(n − 1)(1 − c)`` can land on the
    wrong side of an integer, changing which observations a historical estimate uses.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    return round(1.0 - confidence, 12)


def percentile_ranks(n: int, q: float) -> tuple[int, int]:
    """Zero-based ranks (lower, upper) that the linear percentile ``q`` of ``n`` values needs."""
    lower = int(np.floor((n - 1) * q))
    return lower, min(lower + 1, n - 1)


def lower_tail_count(n: int, tail: float) -> int:
    """Number of worst observations averaged by historical CVaR: ``⌊(n − 1)·tail⌋ + 1``."""
    return int((n - 1) * tail) + 1


@dataclass(frozen=True)
class Tails:
    """The smallest and the largest values of each column, sorted from the extremes inwards.

    ``lowest[:, r]`` is the order statistic of rank r (0 = minimum); ``highest[:, r]`` the one of
    rank ``n − 1 − r`` (0 = maximum). A column with a missing value has NaN tails.
    """

    n: int
    lowest: np.ndarray
    highest: np.ndarray

    def order_statistic(self, rank: int) -> np.ndarray:
        """Value of zero-based ``rank`` in each column (it must lie in one of the tails)."""
        if rank < self.lowest.shape[1]:
            return self.lowest[:, rank]
        mirrored = self.n - 1 - rank
        if 0 <= mirrored < self.highest.shape[1]:
            return self.highest[:, mirrored]
        raise ValueError(f"rank {rank} is outside the tails that were extracted")

    def percentile(self, q: float) -> np.ndarray:
        """Linear-rule percentile ``q`` (a fraction) of each column."""
        lower, upper = percentile_ranks(self.n, q)
        weight = (self.n - 1) * q - lower
        low, high = self.order_statistic(lower), self.order_statistic(upper)
        # numpy's own lerp, exact at weight 0 and 1, which np.percentile's results depend on.
        value: np.ndarray = (
            low + (high - low) * weight if weight < 0.5 else high - (high - low) * (1.0 - weight)
        )
        return value

    def lower_mean(self, count: int) -> np.ndarray:
        """Mean of the ``count`` smallest values of each column."""
        if count > self.lowest.shape[1]:
            raise ValueError(f"only the {self.lowest.shape[1]} smallest values were extracted")
        mean: np.ndarray = self.lowest[:, :count].mean(axis=1)
        return mean


def tails(
    matrix: np.ndarray, ranks: Iterable[int], centre: np.ndarray, spread: np.ndarray
) -> Tails:
    """Extract, for each column of ``matrix`` (T, P), the tails holding every rank in ``ranks``.

    ``centre`` and ``spread`` (per column, e.g. mean and standard deviation) only place the
    candidate thresholds: they affect speed, never the result. NaN in ``centre`` marks a column
    with missing values, whose tails are NaN.
    """
    n = matrix.shape[0]
    ranks = sorted(set(ranks))
    lower = [rank for rank in ranks if rank < n / 2]
    upper = [rank for rank in ranks if rank >= n / 2]
    lowest_count = max(lower) + 1 if lower else 0
    highest_count = n - min(upper) if upper else 0
    rows = np.ascontiguousarray(matrix.T)  # (P, T): free for a pandas frame's values
    lowest = _extreme(rows, lowest_count, centre, spread, largest=False)
    highest = _extreme(rows, highest_count, centre, spread, largest=True)
    missing = np.isnan(centre)
    lowest[missing] = np.nan
    highest[missing] = np.nan
    return Tails(n=n, lowest=lowest, highest=highest)


def _extreme(
    rows: np.ndarray, count: int, centre: np.ndarray, spread: np.ndarray, *, largest: bool
) -> np.ndarray:
    """The ``count`` smallest (or largest) values of each row, sorted from the extreme inwards."""
    portfolios, n = rows.shape
    if count == 0:
        return np.empty((portfolios, 0))
    # A threshold leaving about twice the needed share beyond it (plus 3 % for fat tails).
    share = min(2.0 * count / n + 0.03, 1.0)
    z = NormalDist().inv_cdf(share) if share < 1.0 else np.inf
    with np.errstate(invalid="ignore"):
        if largest:
            beyond = rows > (centre - z * spread)[:, np.newaxis]
        else:
            beyond = rows < (centre + z * spread)[:, np.newaxis]
    flat = np.flatnonzero(beyond)
    owner = flat // n
    counts = np.bincount(owner, minlength=portfolios)
    # Rows with too few candidates, or so many that their sort would not be small, are
    # partitioned in full instead.
    usable = (counts >= count) & (counts <= max(4 * count, count + 256))
    if not usable.all():
        keep = usable[owner]
        flat, owner = flat[keep], owner[keep]
        counts = np.where(usable, counts, 0)
    # Sort keys: the values, negated for the largest so that every sort is ascending.
    keys = rows.ravel()[flat]
    if largest:
        np.negative(keys, out=keys)
    dense = np.full((portfolios, max(int(counts.max()), count)), np.inf)
    starts = np.cumsum(counts) - counts
    dense[owner, np.arange(flat.size) - np.repeat(starts, counts)] = keys
    dense.sort(axis=1)
    result = dense[:, :count]
    fallback = np.flatnonzero(~usable)
    if fallback.size:
        subset = -rows[fallback] if largest else rows[fallback]
        result[fallback] = np.sort(np.partition(subset, count - 1, axis=1)[:, :count], axis=1)
    return -result if largest else result
