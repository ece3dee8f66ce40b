"""Returns of portfolios that have external cash flows.

Conventions shared by every function here:

* Returns are decimal fractions (``0.05`` is 5 %), never percent.
* A *valuation* is the portfolio's market value at the **close** of a date,
  after that date's external flows have been booked.
* An external *flow* is money moved in or out of the portfolio by its owner,
  in the portfolio's base currency, seen **from the portfolio**: a
  contribution is positive, a withdrawal is negative. Income and fees paid
  inside the portfolio are not external flows.
* ``flow_timing`` says when during its date a flow is invested:

  - ``"end"`` (the default): at the close. The flow does not earn that day's
    return; it starts working on the next day. This is the conservative
    choice for flows that arrive during the trading day and are invested the
    next morning.
  - ``"start"``: at the open. The flow earns that day's return, as if it had
    been part of the previous close's value.

* A missing valuation is never treated as an unchanged one: any return whose
  computation needs a missing (NaN) valuation is NaN, and linking a window
  that contains a NaN return gives NaN. The engine cannot see a date that is
  absent from the index, so the caller reindexes valuations to its valuation
  calendar (a gap must be a row of NaN, not a missing row).
* A return whose denominator (the capital at work) is zero or negative is NaN:
  a return on no capital is undefined (e.g. the day before inception with
  ``"end"`` timing, or a full redemption at the open with ``"start"`` timing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from analytics.engine.returns import cumulative_return

FlowTiming = Literal["start", "end"]

DAYS_PER_YEAR = 365.0
"""Actual/365 fixed: the year fraction used by the money-weighted return (as Excel XIRR)."""

# The money-weighted return is searched for over log growth u = ln(1 + r) in
# [-15, 15], i.e. r from about -99.99997 % to +3.3 million % a year, on a grid of
# step 0.005 in u (about half a percentage point of r near zero). Roots outside
# that range are reported as "no root in range" rather than guessed.
_LOG_GROWTH_MIN = -15.0
_LOG_GROWTH_MAX = 15.0
_LOG_GROWTH_GRID_STEP = 0.005


def _check_flow_timing(flow_timing: str) -> None:
    if flow_timing not in ("start", "end"):
        raise ValueError(f"flow_timing must be 'start' or 'end', not {flow_timing!r}")


def _align_flows(values: pd.DataFrame, flows: pd.DataFrame | None) -> pd.DataFrame:
    """Flows on the valuation grid; an absent or NaN flow means "no flow that date"."""
    if flows is None:
        return pd.DataFrame(0.0, index=values.index, columns=values.columns)
    unknown_dates = flows.index.difference(values.index)
    if len(unknown_dates):
        raise ValueError(
            f"flows on dates without a valuation row: {list(unknown_dates[:5])}; "
            "reindex the valuations to include them (as NaN if the value is unknown)"
        )
    unknown_portfolios = flows.columns.difference(values.columns)
    if len(unknown_portfolios):
        raise ValueError(f"flows for portfolios without valuations: {list(unknown_portfolios)}")
    return flows.reindex(index=values.index, columns=values.columns).fillna(0.0)


def daily_time_weighted_returns(
    values: pd.DataFrame,
    flows: pd.DataFrame | None = None,
    *,
    flow_timing: FlowTiming = "end",
) -> pd.DataFrame:
    """Return of each valuation interval, adjusted for external flows (dates × portfolios).

    ``values`` holds close-of-day valuations (rows: dates in increasing order,
    columns: portfolios). ``flows`` holds external flows on the same grid
    (positive = contribution); absent cells and NaN mean no flow. For row ``t``
    with previous valuation ``V[t-1]``, valuation ``V[t]`` and flow ``F[t]``:

    * ``flow_timing="end"`` (default): ``r[t] = (V[t] - F[t]) / V[t-1] - 1``
    * ``flow_timing="start"``:         ``r[t] = V[t] / (V[t-1] + F[t]) - 1``

    The first row is NaN (no previous valuation). A row is NaN when ``V[t]`` or
    ``V[t-1]`` is missing or the denominator is not positive (see the module
    docstring). Rows are valuation intervals, so on a business-day calendar a
    Monday's return covers the weekend.
    """
    _check_flow_timing(flow_timing)
    if not values.index.is_monotonic_increasing or not values.index.is_unique:
        raise ValueError("valuation dates must be unique and increasing")
    aligned_flows = _align_flows(values, flows)
    previous = values.shift(1)
    if flow_timing == "end":
        numerator, denominator = values - aligned_flows, previous
    else:
        numerator, denominator = values, previous + aligned_flows
    return numerator / denominator.where(denominator > 0) - 1.0


def time_weighted_return(
    values: pd.DataFrame,
    flows: pd.DataFrame | None = None,
    *,
    flow_timing: FlowTiming = "end",
) -> pd.Series:
    """True time-weighted return from the first to the last valuation, per portfolio.

    Links :func:`daily_time_weighted_returns` over every interval after the
    first valuation, so a flow on the first date is part of the starting
    capital and is not adjusted for. Not annualised. NaN when any valuation in
    the window is missing (see the module docstring).
    """
    daily = daily_time_weighted_returns(values, flows, flow_timing=flow_timing)
    return cumulative_return(daily.iloc[1:])


def modified_dietz(
    *,
    start_value: pd.Series,
    end_value: pd.Series,
    flows: pd.DataFrame | None,
    start_date: pd.Timestamp,
    end_date: pd.Timestamp,
    flow_timing: FlowTiming = "end",
) -> pd.Series:
    """Modified Dietz return between two valuations, per portfolio (not annualised).

    ``R = (V1 - V0 - sum F) / (V0 + sum w F)`` with calendar-day weights. With
    ``T`` the number of days from ``start_date`` to ``end_date`` and ``d`` the
    number of days from ``start_date`` to the flow's date (``1 <= d <= T``):

    * ``flow_timing="end"`` (default): ``w = (T - d) / T``; a flow at the close
      of the end date has weight 0.
    * ``flow_timing="start"``: ``w = (T - d + 1) / T``; a flow at the open of
      the day after the start date has weight 1.

    ``start_value`` and ``end_value`` are close valuations indexed by portfolio;
    ``flows`` is dates × portfolios (positive = contribution; absent or NaN
    means no flow) and every flow date must satisfy
    ``start_date < date <= end_date`` (a flow on the start date is already in
    the start valuation). The result is NaN for a portfolio whose start or end
    valuation is missing or whose denominator is not positive.
    """
    _check_flow_timing(flow_timing)
    start_date, end_date = pd.Timestamp(start_date), pd.Timestamp(end_date)
    period_days = (end_date - start_date).days
    if period_days <= 0:
        raise ValueError("end_date must be after start_date")
    portfolios = start_value.index.union(end_value.index)
    start_value = start_value.reindex(portfolios)
    end_value = end_value.reindex(portfolios)
    if flows is None or flows.empty:
        net_flow = weighted_flow = pd.Series(0.0, index=portfolios)
    else:
        flow_dates = pd.DatetimeIndex(flows.index)
        if (flow_dates <= start_date).any() or (flow_dates > end_date).any():
            raise ValueError("flow dates must lie in (start_date, end_date]")
        unknown_portfolios = flows.columns.difference(portfolios)
        if len(unknown_portfolios):
            raise ValueError(f"flows for portfolios without valuations: {list(unknown_portfolios)}")
        days_in = np.asarray((flow_dates - start_date).days, dtype=float)
        shift = 0.0 if flow_timing == "end" else 1.0
        weights = (period_days - days_in + shift) / period_days
        aligned = flows.reindex(columns=portfolios).fillna(0.0)
        net_flow = aligned.sum()
        weighted_flow = aligned.mul(weights, axis=0).sum()
    denominator = start_value + weighted_flow
    return (end_value - start_value - net_flow) / denominator.where(denominator > 0)


class MoneyWeightedStatus(StrEnum):
    """Outcome of a money-weighted return calculation; only ``SOLVED`` carries a rate."""

    SOLVED = "solved"
    NO_SIGN_CHANGE = "no_sign_change"
    NO_ROOT_IN_RANGE = "no_root_in_range"
    NOT_CONVERGED = "not_converged"
    MULTIPLE_ROOTS = "multiple_roots"
    MISSING_VALUATION = "missing_valuation"


@dataclass(frozen=True)
class MoneyWeightedReturn:
    """A money-weighted return (annual effective rate, decimal) or why there is none.

    ``rate`` is set only when ``status`` is ``SOLVED``. ``roots`` lists every
    rate found (several when ``status`` is ``MULTIPLE_ROOTS``).
    """

    status: MoneyWeightedStatus
    rate: float | None
    roots: tuple[float, ...]
    message: str

    @property
    def solved(self) -> bool:
        return self.status is MoneyWeightedStatus.SOLVED


def _scaled_net_present_value(
    log_growth: np.ndarray, years: np.ndarray, amounts: np.ndarray
) -> np.ndarray:
    """NPV at each ``u = ln(1 + r)`` in ``log_growth``, divided by a positive factor.

    ``sum c_i exp(-t_i u)`` is divided by ``exp(max_i(-t_i u))`` so that no
    term overflows; the factor is positive and continuous in ``u``, so the
    sign and the roots are unchanged.
    """
    exponents = -np.multiply.outer(log_growth, years)
    exponents -= exponents.max(axis=-1, keepdims=True)
    present: np.ndarray = np.exp(exponents) @ amounts
    return present


def _log_growth_grid(sign_changes: int) -> np.ndarray:
    """Points at which to look for sign changes of the NPV in ``u = ln(1 + r)``.

    With one sign change in the flows there is exactly one root (Descartes),
    so the two ends of the range bracket it if it is in range at all.
    """
    if sign_changes == 1:
        return np.array([_LOG_GROWTH_MIN, _LOG_GROWTH_MAX])
    return np.arange(
        _LOG_GROWTH_MIN, _LOG_GROWTH_MAX + _LOG_GROWTH_GRID_STEP / 2, _LOG_GROWTH_GRID_STEP
    )


def money_weighted_return(
    dates: Sequence[object] | pd.DatetimeIndex,
    amounts: Sequence[float] | np.ndarray,
) -> MoneyWeightedReturn:
    """Money-weighted return (XIRR): the annual rate ``r`` with ``sum c_i (1 + r)^(-t_i) = 0``.

    Amounts are seen **from the investor** (Excel's XIRR convention): money paid
    into the portfolio is negative, money taken out and the final valuation are
    positive. ``t_i`` is actual days from the earliest date divided by 365.
    Flows on the same date are summed first.

    Uniqueness: by Descartes' rule of signs (which holds for real exponents)
    the number of rates above -100 % is at most the number of sign changes of
    the date-ordered flows. No sign change gives ``NO_SIGN_CHANGE``. One sign
    change means exactly one rate, bracketed by ``ln(1 + r)`` in [-15, 15].
    With more, every rate is searched for on a grid of ``ln(1 + r)`` over
    [-15, 15] (step 0.005). Brackets are refined with Brent's method. One
    rate gives ``SOLVED``; several give ``MULTIPLE_ROOTS`` with all of them in
    ``roots`` and no ``rate``, because no one of them is "the" return (report
    the time-weighted return instead). Two roots closer than the grid step,
    or a root where the NPV touches zero without crossing, are not detected.
    Raises ``ValueError`` for malformed input (lengths differ, non-finite
    amounts, fewer than two flows).
    """
    index = pd.DatetimeIndex(dates)
    values = np.asarray(amounts, dtype=float)
    if len(index) != len(values):
        raise ValueError("dates and amounts must have the same length")
    if len(values) < 2:
        raise ValueError("a money-weighted return needs at least two cash flows")
    if not np.isfinite(values).all() or index.hasnans:
        raise ValueError("cash flows and dates must be finite and present")

    by_date = pd.Series(values, index=index).groupby(level=0).sum()
    years = np.asarray((by_date.index - by_date.index[0]).days, dtype=float) / DAYS_PER_YEAR
    net = by_date.to_numpy()
    signs = np.sign(net[net != 0])
    sign_changes = int(np.count_nonzero(signs[1:] != signs[:-1]))
    if sign_changes == 0:
        return MoneyWeightedReturn(
            MoneyWeightedStatus.NO_SIGN_CHANGE,
            None,
            (),
            "cash flows never change sign, so no rate makes their value zero",
        )

    grid = _log_growth_grid(sign_changes)
    # chunks of 512 grid points keep the (points x dates) matrix to a few MB
    npv_signs = np.concatenate(
        [
            np.sign(_scaled_net_present_value(grid[start : start + 512], years, net))
            for start in range(0, len(grid), 512)
        ]
    )
    log_roots = list(grid[npv_signs == 0])
    for left in np.flatnonzero(npv_signs[:-1] * npv_signs[1:] < 0):
        log_root, outcome = brentq(
            lambda u: float(_scaled_net_present_value(np.asarray(u), years, net)),
            grid[left],
            grid[left + 1],
            xtol=1e-15,
            full_output=True,
            disp=False,
        )
        if not outcome.converged:
            return MoneyWeightedReturn(
                MoneyWeightedStatus.NOT_CONVERGED, None, (), f"solver stopped: {outcome.flag}"
            )
        log_roots.append(log_root)

    roots = tuple(sorted(float(np.expm1(u)) for u in log_roots))
    if not roots:
        return MoneyWeightedReturn(
            MoneyWeightedStatus.NO_ROOT_IN_RANGE,
            None,
            (),
            "no rate between -99.99997 % and +3.3 million % a year sets the value to zero",
        )
    if len(roots) > 1:
        return MoneyWeightedReturn(
            MoneyWeightedStatus.MULTIPLE_ROOTS,
            None,
            roots,
            f"{len(roots)} rates set the value to zero; the money-weighted return is not unique",
        )
    return MoneyWeightedReturn(MoneyWeightedStatus.SOLVED, roots[0], roots, "solved")


def money_weighted_returns(
    *,
    start_value: pd.Series,
    end_value: pd.Series,
    flows: pd.DataFrame | None,
    start_date: pd.Timestamp,
    end_date: pd.Timestamp,
) -> dict[str, MoneyWeightedReturn]:
    """Money-weighted return of each portfolio between two valuations.

    Takes the portfolio-side inputs of :func:`modified_dietz` (flows positive =
    contribution, dated in ``(start_date, end_date]``) and solves, per
    portfolio, the investor-side cash flows ``-V0`` at ``start_date``, ``-F``
    on each flow date and ``+V1`` at ``end_date`` with
    :func:`money_weighted_return`. The rate is annual (actual/365) even for a
    period shorter than a year. A missing start or end valuation gives
    ``MISSING_VALUATION``. Each portfolio is its own root search, so this loops.
    """
    start_date, end_date = pd.Timestamp(start_date), pd.Timestamp(end_date)
    if flows is not None and not flows.empty:
        flow_dates = pd.DatetimeIndex(flows.index)
        if (flow_dates <= start_date).any() or (flow_dates > end_date).any():
            raise ValueError("flow dates must lie in (start_date, end_date]")
    portfolios = start_value.index.union(end_value.index)
    if flows is not None and len(flows.columns.difference(portfolios)):
        unknown_portfolios = list(flows.columns.difference(portfolios))
        raise ValueError(f"flows for portfolios without valuations: {unknown_portfolios}")
    results: dict[str, MoneyWeightedReturn] = {}
    for portfolio in portfolios:
        first, last = start_value.get(portfolio, np.nan), end_value.get(portfolio, np.nan)
        if pd.isna(first) or pd.isna(last):
            results[portfolio] = MoneyWeightedReturn(
                MoneyWeightedStatus.MISSING_VALUATION, None, (), "start or end valuation missing"
            )
            continue
        dates = [start_date, end_date]
        amounts = [-float(first), float(last)]
        if flows is not None and portfolio in flows.columns:
            portfolio_flows = flows[portfolio].dropna()
            dates += list(portfolio_flows.index)
            amounts += list(-portfolio_flows.to_numpy(dtype=float))
        results[portfolio] = money_weighted_return(dates, amounts)
    return results
