"""Carino linking of Brinson-Fachler effects over many periods, per portfolio.

Conventions: see :mod:`analytics.engine.attribution`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.engine.attribution.brinson import (
    EFFECTS,
    SINGLE_KEY,
    BrinsonAttribution,
    BrinsonAttributionTable,
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
        pd.concat({0: groups}, names=[SINGLE_KEY]), pd.concat({0: returns}, names=[SINGLE_KEY])
    )
    linked = link_carino_table(table, over="period")
    compounded = linked.returns.iloc[0]
    return LinkedAttribution(
        linked.by_period.droplevel(SINGLE_KEY),
        linked.groups.droplevel(SINGLE_KEY),
        float(compounded["portfolio_return"]),
        float(compounded["benchmark_return"]),
        float(compounded["active_return"]),
    )
