"""Shape handling shared by the engine modules (private).

Every engine function takes returns as a 1-D series or a 2-D dates × portfolios array (numpy or
pandas) and reduces along axis 0. These helpers turn the input into a float 2-D array and give
the per-portfolio result back in the input's shape: a float for one series, an array for an
ndarray, a Series indexed by the columns for a DataFrame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

ArrayLike: TypeAlias = np.ndarray | pd.Series | pd.DataFrame
Shaper = Callable[[np.ndarray], Any]


def as_matrix(returns: ArrayLike) -> tuple[np.ndarray, Shaper]:
    """Return ``(matrix, shape_result)``: a float (T, P) view of ``returns`` and its shaper.

    No copy is made for float input; a pandas frame's columns stay contiguous in memory.
    """
    if isinstance(returns, pd.DataFrame):
        columns = returns.columns
        matrix = returns.to_numpy(dtype=np.float64)
        return matrix, lambda values: pd.Series(values, index=columns, dtype=np.float64)
    array = np.asarray(returns, dtype=np.float64)
    if array.ndim == 1:
        return array[:, np.newaxis], lambda values: float(np.asarray(values).reshape(-1)[0])
    if array.ndim != 2:
        raise ValueError(f"returns must be 1-D or 2-D (dates × portfolios), got {array.ndim}-D")
    return array, lambda values: np.asarray(values, dtype=np.float64)


def as_vector(series: ArrayLike, length: int, name: str) -> np.ndarray:
    """Return a float 1-D array of ``length`` values (a benchmark or a forecast series)."""
    vector = np.asarray(series, dtype=np.float64).reshape(-1)
    if vector.shape[0] != length:
        raise ValueError(f"{name} has {vector.shape[0]} values, expected {length} (one per date)")
    return vector


def column_dot(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``Σ_t left[t, j] · right[t, j]`` for every column j of two (T, P) arrays.

    ``np.vecdot`` hands each contiguous column to BLAS, several times faster than ``einsum``
    when columns are contiguous (a pandas frame's layout); ``einsum`` wins for row-major arrays.
    """
    products: np.ndarray
    if left.flags.f_contiguous and right.flags.f_contiguous:
        # The transposes are C-contiguous views: vecdot reduces their last (contiguous) axis.
        products = np.vecdot(left.T, right.T)
    else:
        products = np.einsum("ij,ij->j", left, right)
    return products


def constant_columns(
    matrix: np.ndarray, mean: np.ndarray, sum_squared_deviations: np.ndarray
) -> np.ndarray:
    """Flag the columns whose values are all equal (their dispersion is exactly zero).

    The floating-point mean of equal values can differ from them in the last bits, leaving a
    standard deviation of about 1e-18 instead of 0; ratios divided by it would be arbitrary
    numbers near 1e15 instead of ±inf/NaN (empyrical's ``_zero_dispersion_std`` rule). Only
    columns whose spread is within rounding error of their mean are compared value by value.
    """
    n = matrix.shape[0]
    rounding = n * np.finfo(np.float64).eps * np.abs(mean)
    suspects = np.flatnonzero(sum_squared_deviations <= n * rounding * rounding)
    constant = np.zeros(matrix.shape[1], dtype=bool)
    if suspects.size:
        candidates = matrix[:, suspects]
        constant[suspects] = np.all(candidates == candidates[:1], axis=0)
    return constant
