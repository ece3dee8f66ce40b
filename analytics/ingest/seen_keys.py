"""The natural keys already met in one input, so that a repeated key is refused.

A file is read in chunks and may have millions of rows; a dict of every key string would hold
about 140 bytes a row (140 MB for a million trades). Each key is kept instead as two
independent 64-bit hashes and the row that first had it, 24 bytes a row, in arrays sorted by
the first hash. Two different keys are taken for the same only when both hashes agree, about
one chance in 2^128 for a pair of keys; within a chunk the key strings themselves are compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# pandas' hash_array takes a 16-character key; two keys give two independent hashes.
_HASH_KEYS = ("natural-keys-one", "natural-keys-two")


class SeenKeys:
    """Keys met so far, each with the (1-based file) row that first had it."""

    def __init__(self) -> None:
        self._first = np.empty(0, dtype=np.uint64)
        self._second = np.empty(0, dtype=np.uint64)
        self._rows = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return self._rows.size

    def add(self, keys: pd.Series, rows: np.ndarray) -> np.ndarray:
        """Return, for each of ``keys`` (strings, in file order), the row of an earlier
        occurrence (an earlier chunk's, or an earlier row of these keys), or −1 for a key not
        met before; remember the keys not met before with their ``rows``."""
        values = keys.to_numpy(dtype=object)
        rows = np.asarray(rows, dtype=np.int64)
        first = pd.util.hash_array(values, hash_key=_HASH_KEYS[0])
        second = pd.util.hash_array(values, hash_key=_HASH_KEYS[1])
        earlier = self._earlier(first, second)
        # Within the chunk: every later occurrence points at its key's first row here.
        codes, _ = pd.factorize(values)
        _, first_position = np.unique(codes, return_index=True)
        leading = first_position[codes]
        repeated = (leading != np.arange(values.size)) & (earlier < 0)
        earlier[repeated] = rows[leading[repeated]]
        fresh = earlier < 0
        self._remember(first[fresh], second[fresh], rows[fresh])
        return earlier

    def _earlier(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        earlier = np.full(first.size, -1, dtype=np.int64)
        if not self._first.size:
            return earlier
        left = np.searchsorted(self._first, first, side="left")
        right = np.searchsorted(self._first, first, side="right")
        single = right - left == 1
        at = left[single]
        match = self._second[at] == second[single]
        earlier[np.flatnonzero(single)[match]] = self._rows[at[match]]
        # Two stored keys sharing a first hash: compare each one's second hash.
        for position in np.flatnonzero(right - left > 1):
            span = slice(left[position], right[position])
            same = np.flatnonzero(self._second[span] == second[position])
            if same.size:
                earlier[position] = self._rows[span][same[0]]
        return earlier

    def _remember(self, first: np.ndarray, second: np.ndarray, rows: np.ndarray) -> None:
        merged_first = np.concatenate([self._first, first])
        # Stable: two sorted runs merge in linear time (timsort).
        order = np.argsort(merged_first, kind="stable")
        self._first = merged_first[order]
        self._second = np.concatenate([self._second, second])[order]
        self._rows = np.concatenate([self._rows, rows])[order]
