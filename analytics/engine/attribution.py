"""Brinson-Fachler performance attribution, single period and Carino-linked multi-period.

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

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

EFFECTS = ["allocation", "selection", "interaction"]
_WEIGHT_TOLERANCE = 1e-9


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


def _group_weights_and_returns(frame: pd.DataFrame, by: str, side: str) -> pd.DataFrame:
    """Aggregate constituents to groups: weight = sum w, return = sum(w r) / sum w."""
    missing = {by, "weight", "return"}.difference(frame.columns)
    if missing:
        raise ValueError(f"{side} frame lacks columns {sorted(missing)}")
    if frame[[by, "weight", "return"]].isna().any().any():
        raise ValueError(f"{side} frame has missing groups, weights or returns")
    total_weight = frame["weight"].sum()
    if abs(total_weight - 1.0) > _WEIGHT_TOLERANCE:
        raise ValueError(f"{side} weights add up to {total_weight!r}, not 1")
    contribution = frame["weight"] * frame["return"]
    grouped = pd.DataFrame({"weight": frame["weight"], "contribution": contribution})
    grouped = grouped.groupby(frame[by], sort=True).sum()
    if (grouped["weight"] == 0).any():
        empty = list(grouped.index[grouped["weight"] == 0])
        raise ValueError(f"{side} groups with zero net weight have no return: {empty}")
    grouped["return"] = grouped["contribution"] / grouped["weight"]
    return grouped[["weight", "return"]]


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
    """
    held = _group_weights_and_returns(portfolio, by, "portfolio")
    index = _group_weights_and_returns(benchmark, by, "benchmark")
    groups = held.index.union(index.index)
    weight_p = held["weight"].reindex(groups, fill_value=0.0)
    weight_b = index["weight"].reindex(groups, fill_value=0.0)
    return_p = held["return"].reindex(groups)
    return_b = index["return"].reindex(groups)
    # The one-side rule: a missing group return borrows the other side's.
    return_p, return_b = return_p.fillna(return_b), return_b.fillna(return_p)

    total_p = float((weight_p * return_p).sum())
    total_b = float((weight_b * return_b).sum())
    table = pd.DataFrame(
        {
            "portfolio_weight": weight_p,
            "benchmark_weight": weight_b,
            "portfolio_return": return_p,
            "benchmark_return": return_b,
            "allocation": (weight_p - weight_b) * (return_b - total_b),
            "selection": weight_b * (return_p - return_b),
            "interaction": (weight_p - weight_b) * (return_p - return_b),
        }
    )
    table["total"] = table[EFFECTS].sum(axis=1)
    table.index.name = by
    return BrinsonAttribution(table, total_p, total_b, total_p - total_b)


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


def link_carino(periods: Mapping[object, BrinsonAttribution]) -> LinkedAttribution:
    """Link consecutive single-period attributions (in the mapping's order) with Carino.

    Each period's effects are multiplied by ``k_t / K`` (see
    :func:`carino_coefficient`), with ``k_t`` from the period's portfolio and
    benchmark returns and ``K`` from the compounded ones, so the linked effects
    add up to ``prod(1 + Rp_t) - prod(1 + Rb_t)`` up to rounding. The
    coefficients do not depend on the order of the periods. A group absent in
    a period contributes nothing to it.
    """
    if not periods:
        raise ValueError("need at least one period to link")
    labels = list(periods)
    period_p = np.array([periods[label].portfolio_return for label in labels])
    period_b = np.array([periods[label].benchmark_return for label in labels])
    compounded_p = float(np.prod(1.0 + period_p) - 1.0)
    compounded_b = float(np.prod(1.0 + period_b) - 1.0)
    scale = carino_coefficient(period_p, period_b) / carino_coefficient(compounded_p, compounded_b)
    by_period = pd.concat(
        [
            periods[label].groups[[*EFFECTS, "total"]] * factor
            for label, factor in zip(labels, scale, strict=True)
        ],
        keys=labels,
        names=["period", None],
    )
    by_period.index = by_period.index.set_names("group", level=1)
    groups = by_period.groupby(level="group", sort=True).sum()
    return LinkedAttribution(
        by_period, groups, compounded_p, compounded_b, compounded_p - compounded_b
    )
