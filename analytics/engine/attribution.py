"""Brinson-Fachler performance attribution, single period and Carino-linked multi-period.

The engine works on tables of many attributions at once: :func:`brinson_fachler_table`
attributes every (portfolio, period) pair of a long constituent table in a handful of
groupbys, and :func:`link_carino_table` links each portfolio's periods. :func:`brinson_fachler`
(one pair) and :func:`link_carino` (one portfolio's periods) are thin wrappers over them.

Conventions:

* Weights and returns are decimal fractions. Portfolio and benchmark weights
  must each add up to 1 (within 1e-9) for the effects to add up to the
  active return; cash is a group like any other.
* Single period, per group ``i`` with portfolio/benchmark weights ``wp, wb``,
  group returns ``Rp_i, Rb_i`` and total benchmark return ``Rb``:

  - allocation  = ``(wp - wb) * (Rb_i - Rb)``
  - selection   = ``wb * (Rp_i - Rb_i)``
  - interaction = ``(wp - wb) * (Rp_i - Rb_i)``

  and the effects over all groups add up to ``Rp - Rb`` (arithmetic active
  return).
* A group held on one side only has no return on the other side. Its missing
  return is taken **equal to the other side's return for that group**, so the
  whole effect of holding an off-benchmark group, or of leaving out a
  benchmark group, is allocation: ``wp * (Rp_i - Rb)`` or ``-wb * (Rb_i - Rb)``,
  with zero selection and interaction.
* Multi-period effects are linked with **Carino**'s logarithmic smoothing
  rather than Menchero's: Carino's coefficients are closed-form, do not depend
  on the order of the periods, and make the linked effects add up exactly to
  the compounded active return ``prod(1 + Rp_t) - prod(1 + Rb_t)``. With
  ``k(a, b) = (ln(1 + a) - ln(1 + b)) / (a - b)`` (and ``1 / (1 + a)`` in the
  limit ``a == b``), each period's effect is scaled by ``k(Rp_t, Rb_t) / k(Rp, Rb)``
  where ``Rp, Rb`` are the compounded returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

EFFECTS = ["allocation", "selection", "interaction"]
_WEIGHT_TOLERANCE = 1e-9
# The single-pair wrappers run the table functions under this constant key, then drop it.
_SINGLE_KEY = "__single_attribution__"
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
        f"{name}={item!r}" for name, item in zip(names, values, strict=True) if name != _SINGLE_KEY
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
        portfolio.assign(**{_SINGLE_KEY: 0}),
        benchmark.assign(**{_SINGLE_KEY: 0}),
        by=by,
        keys=(_SINGLE_KEY,),
    )
    returns = table.returns.iloc[0]
    return BrinsonAttribution(
        table.groups.droplevel(_SINGLE_KEY),
        float(returns["portfolio_return"]),
        float(returns["benchmark_return"]),
        float(returns["active_return"]),
    )


def carino_coefficient(
    portfolio_return: np.ndarray | float, benchmark_return: np.ndarray | float
) -> np.ndarray:
    """Carino's ``k = (ln(1 + Rp) - ln(1 + Rb)) / (Rp - Rb)``, ``1 / (1 + Rp)`` when equal.

    Computed as ``log1p(x) / x / (1 + Rb)`` with ``x = (Rp - Rb) / (1 + Rb)``,
    which is the same quantity without the cancellation of two nearby logs,
    and tends smoothly to the ``Rp == Rb`` limit. Returns must exceed -1.
    """
    rp = np.asarray(portfolio_return, dtype=float)
    rb = np.asarray(benchmark_return, dtype=float)
    if (rp <= -1).any() or (rb <= -1).any():
        raise ValueError("Carino linking needs returns above -100 %")
    relative = (rp - rb) / (1.0 + rb)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(relative == 0, 1.0, np.log1p(relative) / relative)
    return log_ratio / (1.0 + rb)


@dataclass(frozen=True)
class LinkedAttribution:
    """Multi-period attribution linked with Carino's method.

    ``by_period`` is indexed by (period, group) with the smoothed
    ``allocation``, ``selection``, ``interaction`` and ``total`` of each group
    in each period; ``groups`` sums them over periods (index: group). The
    floats are the compounded portfolio and benchmark returns and
    ``active_return = portfolio_return - benchmark_return``, which the effects
    add up to.
    """

    by_period: pd.DataFrame
    groups: pd.DataFrame
    portfolio_return: float
    benchmark_return: float
    active_return: float

    @property
    def totals(self) -> pd.Series:
        """Each linked effect summed over groups; ``totals["total"]`` equals ``active_return``."""
        return self.groups.sum()


@dataclass(frozen=True)
class LinkedAttributionTable:
    """Carino-linked attributions of many series (e.g. portfolios) at once.

    ``by_period`` has the index of :attr:`BrinsonAttributionTable.groups` (``(*keys, group)``)
    with the smoothed ``allocation``, ``selection``, ``interaction`` and ``total``;
    ``groups`` sums them over periods, indexed by the series keys and the group. ``returns``
    is indexed by the series keys with the compounded ``portfolio_return`` and
    ``benchmark_return`` and ``active_return`` (their difference), which each series'
    linked effects add up to.
    """

    by_period: pd.DataFrame
    groups: pd.DataFrame
    returns: pd.DataFrame

    @property
    def totals(self) -> pd.DataFrame:
        """Each linked effect summed over groups per series (``total``: the active return)."""
        return self.groups.groupby(level=self.returns.index.names, sort=True).sum()


def link_carino_table(
    attribution: BrinsonAttributionTable, *, over: str = "period"
) -> LinkedAttributionTable:
    """Link the periods of every series of single-period attributions with Carino.

    ``over`` names the key that is linked over; the other keys (by default ``portfolio``) name
    the series, each linked on its own. Each period's effects are multiplied by ``k_t / K``
    (see :func:`carino_coefficient`), with ``k_t`` from the period's portfolio and benchmark
    returns and ``K`` from the series' compounded ones, so each series' linked effects add up
    to its ``prod(1 + Rp_t) - prod(1 + Rb_t)`` up to rounding. The coefficients do not depend
    on the order of the periods, so the rows need no sorting. A group absent in a period
    contributes nothing to it.
    """
    returns = attribution.returns
    keys = list(returns.index.names)
    if over not in keys:
        raise ValueError(f"cannot link over {over!r}: the keys are {keys}")
    series_keys = [key for key in keys if key != over]
    if not series_keys:
        raise ValueError(f"need a key besides {over!r} to name each series (or use link_carino)")
    group_level = attribution.groups.index.names[-1]

    period_p = returns["portfolio_return"].to_numpy(dtype=np.float64)
    period_b = returns["benchmark_return"].to_numpy(dtype=np.float64)
    series_codes, series_index = returns.index.droplevel(over).factorize()
    # Codes are 0..n-1 in order of appearance, so grouping by them keeps series_index's order.
    growth_p = pd.Series(1.0 + period_p).groupby(series_codes, sort=True).prod().to_numpy()
    growth_b = pd.Series(1.0 + period_b).groupby(series_codes, sort=True).prod().to_numpy()
    compounded_p = growth_p - 1.0
    compounded_b = growth_b - 1.0
    scale = (
        carino_coefficient(period_p, period_b)
        / carino_coefficient(compounded_p, compounded_b)[series_codes]
    )

    rows = returns.index.get_indexer(attribution.groups.index.droplevel(group_level))
    if (rows < 0).any():
        raise ValueError("groups has keys that returns lacks; pass a brinson_fachler_table result")
    by_period = attribution.groups[[*EFFECTS, "total"]] * scale[rows][:, np.newaxis]
    groups = by_period.groupby(level=[*series_keys, group_level], sort=True).sum()
    linked_returns = pd.DataFrame(
        {
            "portfolio_return": compounded_p,
            "benchmark_return": compounded_b,
            "active_return": compounded_p - compounded_b,
        },
        index=series_index.set_names(series_keys),
    )
    return LinkedAttributionTable(by_period, groups, linked_returns)


def link_carino(periods: Mapping[object, BrinsonAttribution]) -> LinkedAttribution:
    """Link consecutive single-period attributions (in the mapping's order) with Carino.

    Each period's effects are multiplied by ``k_t / K`` (see
    :func:`carino_coefficient`), with ``k_t`` from the period's portfolio and
    benchmark returns and ``K`` from the compounded ones, so the linked effects
    add up to ``prod(1 + Rp_t) - prod(1 + Rb_t)`` up to rounding. The
    coefficients do not depend on the order of the periods. A group absent in
    a period contributes nothing to it. This is :func:`link_carino_table` on one series.
    """
    if not periods:
        raise ValueError("need at least one period to link")
    labels = list(periods)
    groups = pd.concat(
        [periods[label].groups for label in labels], keys=labels, names=["period", None]
    )
    groups.index = groups.index.set_names("group", level=-1)
    returns = pd.DataFrame(
        {
            "portfolio_return": [periods[label].portfolio_return for label in labels],
            "benchmark_return": [periods[label].benchmark_return for label in labels],
        },
        index=pd.Index(labels, name="period", tupleize_cols=False),
    )
    table = BrinsonAttributionTable(
        pd.concat({0: groups}, names=[_SINGLE_KEY]), pd.concat({0: returns}, names=[_SINGLE_KEY])
    )
    linked = link_carino_table(table, over="period")
    compounded = linked.returns.iloc[0]
    return LinkedAttribution(
        linked.by_period.droplevel(_SINGLE_KEY),
        linked.groups.droplevel(_SINGLE_KEY),
        float(compounded["portfolio_return"]),
        float(compounded["benchmark_return"]),
        float(compounded["active_return"]),
    )
