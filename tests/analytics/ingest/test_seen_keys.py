"""Repeated natural keys across and within the chunks of one input."""

import numpy as np
import pandas as pd

from analytics.ingest import seen_keys
from analytics.ingest.seen_keys import SeenKeys


def test_a_key_met_in_an_earlier_chunk_points_at_its_first_row():
    seen = SeenKeys()
    first = seen.add(pd.Series(["T-1", "T-2", "T-3"]), np.array([2, 3, 4]))
    assert first.tolist() == [-1, -1, -1]
    second = seen.add(pd.Series(["T-4", "T-2", "T-5", "T-3"]), np.array([5, 6, 7, 8]))
    assert second.tolist() == [-1, 3, -1, 4]
    assert len(seen) == 5  # repeats are not stored again


def test_repeats_within_a_chunk_point_at_the_first_occurrence():
    seen = SeenKeys()
    seen.add(pd.Series(["A"]), np.array([2]))
    earlier = seen.add(pd.Series(["B", "C", "B", "A", "B"]), np.array([3, 4, 5, 6, 7]))
    assert earlier.tolist() == [-1, -1, 3, 2, 3]


def test_keys_sharing_one_hash_are_told_apart_by_the_other(monkeypatch):
    # Force every key onto the same first hash: only the second can separate them.
    real = pd.util.hash_array

    def colliding(values, hash_key):
        hashes = real(values, hash_key=hash_key)
        return np.zeros_like(hashes) if hash_key == seen_keys._HASH_KEYS[0] else hashes

    monkeypatch.setattr(pd.util, "hash_array", colliding)
    seen = SeenKeys()
    seen.add(pd.Series(["X-1", "X-2", "X-3"]), np.array([2, 3, 4]))
    earlier = seen.add(pd.Series(["X-3", "X-9", "X-1"]), np.array([5, 6, 7]))
    assert earlier.tolist() == [4, -1, 2]


def test_a_million_keys_take_a_few_bytes_each():
    seen = SeenKeys()
    for chunk in range(4):
        numbers = range(chunk * 250_000, (chunk + 1) * 250_000)
        keys = pd.Series([f"EXT-{n:09d}" for n in numbers])
        assert (seen.add(keys, np.arange(len(keys)) + 2) == -1).all()
    stored = seen._first.nbytes + seen._second.nbytes + seen._rows.nbytes
    assert len(seen) == 1_000_000 and stored == 24_000_000
