"""Single-period Brinson-Fachler attribution over tables of many portfolios and periods.

Conventions (weights, effects, the one-side rule): see :mod:`analytics.engine.attribution`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

EFFECTS = ["allocation", "selection", "interaction"]
_WEIGHT_TOLERANCE = 1e-9
# The single-pair wrappers run the table functions under this constant key, then drop it.
SINGLE_KEY = "__single_attribution__"
# Errors list this many offending keys, then a count of the rest.
_MAX_KEYS_IN_ERROR = 5


@dataclass(frozen=True)
class BrinsonAttribution:
    """One period's attribution.

    ``groups`` is indexed by group with columns ``portfolio_weight``,
    ``benchmark_weight``, ``portfolio_return``, ``benchmark_return`` (the
    group returns actually used, after the one-side rule), ``allocation``,
    ``selection``, ``interaction`` and ``total``. The floats are the total
    portfolio and benchmark returns and their difference.
    """

    groups: pd.DataFrame
    portfolio_return: float
    benchmark_return: float
    active_return: float

    @property
    def totals(self) -> pd.Series:
        """Each effect summed over groups; ``totals["total"]`` equals ``active_return``."""
        return self.groups[[*EFFECTS, "total"]].sum()


@dataclass(frozen=True)
class BrinsonAttributionTable:
    """Single-period attributions of many keys (e.g. portfolio × period) at once.

    ``groups`` is indexed by the key columns and then the group (``(*keys, by)``), sorted,
    with the columns of :attr:`BrinsonAttribution.groups`. ``returns`` is indexed by the keys
    with columns ``portfolio_return``, ``benchmark_return`` and ``active_return``
    (``portfolio_return - benchmark_return``).
    """

    groups: pd.DataFrame
    returns: pd.DataFrame

    @property
    def totals(self) -> pd.DataFrame:
        """Each effect summed over groups per key; ``totals["total"]`` is the active return."""
        keys = self.returns.index.names
        return self.groups[[*EFFECTS, "total"]].groupby(level=keys, sort=True).sum()


def _describe_key(names: Sequence[str], value: object) -> str:
    """``portfolio='P1', period='2024-01'`` for one key tuple, leaving out the private key."""
    values = value if isinstance(value, tuple) else (value,)
    parts = [
        f"{name}={item!r}" for name, item in zip(names, values, strict=True) if name != SINGLE_KEY
    ]
    return ", ".join(parts)


def _describe_keys(names: Sequence[str], values: Sequence[object]) -> str:
    """The first few offending keys in brackets, then how many more; empty for the single key."""
    shown = [_describe_key(names, value) for value in values[:_MAX_KEYS_IN_ERROR]]
    shown = [f"({text})" for text in shown if text]
    if not shown:
        return ""
    more = len(values) - _MAX_KEYS_IN_ERROR
    return " for " + "; ".join(shown) + (f" and {more} more" if more > 0 else "")


def _group_weights_and_returns(
    frame: pd.DataFrame, by: str, keys: list[str], side: str
) -> pd.DataFrame:
    """Aggregate constituents to groups per key: weight = sum w, return = sum(w r) / sum w.

    One groupby over ``(*keys, by)``; the result is indexed by them, sorted. Checks, per key,
    that the weights add up to 1 and that no group has zero net weight (it would have no return).
    """
    missing = {*keys, by, "weight", "return"}.difference(frame.columns)
    if missing:
        raise ValueError(f"{side} frame lacks columns {sorted(missing)}")
    if frame.empty:
        raise ValueError(f"{side} frame has no rows")
    if frame[[*keys, by, "weight", "return"]].isna().to_numpy().any():
        # groupby would silently drop rows with a missing key or group.
        raise ValueError(f"{side} frame has missing keys, groups, weights or returns")
    weight = frame["weight"].to_numpy(dtype=np.float64)
    grouped = pd.DataFrame(
        {"weight": weight, "contribution": weight * frame["return"].to_numpy(dtype=np.float64)}
    )
    grouped = grouped.groupby(
        [frame[column].to_numpy() for column in [*keys, by]], sort=True, observed=True
    ).sum()
    grouped.index = grouped.index.set_names([*keys, by])

    weight_per_key = grouped["weight"].groupby(level=keys, sort=True).sum()
    off = weight_per_key[(weight_per_key - 1.0).abs() > _WEIGHT_TOLERANCE]
    if not off.empty:
        sums = [
            f"{total!r}" + (f" for ({where})" if (where := _describe_key(keys, key)) else "")
            for key, total in off.iloc[:_MAX_KEYS_IN_ERROR].items()
        ]
        more = len(off) - _MAX_KEYS_IN_ERROR
        raise ValueError(
            f"{side} weights must add up to 1 but add up to {', '.join(sums)}"
            + (f" and {more} more" if more > 0 else "")
        )
    empty = grouped.index[grouped["weight"].to_numpy() == 0]
    if len(empty):
        raise ValueError(
            f"{side} groups with zero net weight have no return: "
            f"{sorted(set(empty.get_level_values(by)))}"
            + _describe_keys(keys, list(empty.droplevel(by).unique()))
        )
    grouped["return"] = grouped["contribution"] / grouped["weight"]
    return grouped[["weight", "return"]]


def brinson_fachler_table(
    portfolio: pd.DataFrame,
    benchmark: pd.DataFrame,
    *,
    by: str = "sector",
    keys: Sequence[str] = ("portfolio", "period"),
) -> BrinsonAttributionTable:
    """Brinson-Fachler attribution of every key's active return, grouped by ``by``, in one pass.

    ``portfolio`` and ``benchmark`` have one row per constituent (or per group) and key, with
    the ``keys`` columns (by default ``portfolio`` and ``period``), ``by``, ``weight``
    (beginning-of-period weight) and ``return`` (the period's return). The benchmark frame is
    keyed the same way, so each portfolio carries its own benchmark rows for each period and
    portfolios may have different benchmarks. Every key must appear on both sides and each
    side's weights must add up to 1 per key; the error names the offending keys.

    Constituents are aggregated to groups with weight-averaged returns; the effects of each
    key add up to its ``Rp - Rb``. See the module docstring for the formulas and for the rule
    for a group on one side only, which applies per key.
    """
    keys = list(keys)
    if not keys:
        raise ValueError("need at least one key column (use brinson_fachler for a single pair)")
    if by in keys or {"weight", "return"}.intersection(keys):
        raise ValueError(f"keys {keys} must not include {by!r}, 'weight' or 'return'")
    held = _group_weights_and_returns(portfolio, by, keys, "portfolio")
    index = _group_weights_and_returns(benchmark, by, keys, "benchmark")

    held_keys = held.index.droplevel(by).unique()
    index_keys = index.index.droplevel(by).unique()
    for present, absent, missing_side in (
        (held_keys, index_keys, "benchmark"),
        (index_keys, held_keys, "portfolio"),
    ):
        orphans = present.difference(absent)
        if len(orphans):
            raise ValueError(f"no {missing_side} rows" + _describe_keys(keys, list(orphans)))

    joined = held.add_suffix("_p").join(index.add_suffix("_b"), how="outer").sort_index()
    weight_p = joined["weight_p"].fillna(0.0).to_numpy()
    weight_b = joined["weight_b"].fillna(0.0).to_numpy()
    return_p = joined["return_p"].to_numpy()
    return_b = joined["return_b"].to_numpy()
    # The one-side rule: a missing group return borrows the other side's.
    return_p, return_b = (
        np.where(np.isnan(return_p), return_b, return_p),
        np.where(np.isnan(return_b), return_p, return_b),
    )

    # Rows are sorted by key, so each key's rows are one run; codes index the per-key totals.
    key_codes, key_index = joined.index.droplevel(by).factorize()
    total_p = np.bincount(key_codes, weights=weight_p * return_p, minlength=len(key_index))
    total_b = np.bincount(key_codes, weights=weight_b * return_b, minlength=len(key_index))
    active_weight = weight_p - weight_b
    groups = pd.DataFrame(
        {
            "portfolio_weight": weight_p,
            "benchmark_weight": weight_b,
            "portfolio_return": return_p,
            "benchmark_return": return_b,
            "allocation": active_weight * (return_b - total_b[key_codes]),
            "selection": weight_b * (return_p - return_b),
            "interaction": active_weight * (return_p - return_b),
        },
        index=joined.index,
    )
    groups["total"] = groups["allocation"] + groups["selection"] + groups["interaction"]
    returns = pd.DataFrame(
        {
            "portfolio_return": total_p,
            "benchmark_return": total_b,
            "active_return": total_p - total_b,
        },
        index=key_index.set_names(keys),
    )
    return BrinsonAttributionTable(groups, returns)


def brinson_fachler(
    portfolio: pd.DataFrame,
    benchmark: pd.DataFrame,
    *,
    by: str = "sector",
) -> BrinsonAttribution:
    """Brinson-Fachler attribution of one period's active return, grouped by ``by``.

    ``portfolio`` and ``benchmark`` have one row per constituent (or per group)
    with columns ``by``, ``weight`` (beginning-of-period weight) and ``return``
    (the period's return). Constituents are aggregated to groups with
    weight-averaged returns. The effects add up to ``Rp - Rb``; see the module
    docstring for the formulas and the rule for a group on one side only.
    This is :func:`brinson_fachler_table` with a single key.
    """
    table = brinson_fachler_table(
        portfolio.assign(**{SINGLE_KEY: 0}),
        benchmark.assign(**{SINGLE_KEY: 0}),
        by=by,
        keys=(SINGLE_KEY,),
    )
    returns = table.returns.iloc[0]
    return BrinsonAttribution(
        table.groups.droplevel(SINGLE_KEY),
        float(returns["portfolio_return"]),
        float(returns["benchmark_return"]),
        float(returns["active_return"]),
    )
