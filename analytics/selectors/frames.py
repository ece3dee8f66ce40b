"""The one loader of frames: holdings, valuations, external flows and portfolio
returns, read from the ORM in each portfolio's base currency, with gaps as NaN.

Snapshots, compliance and (later) reports and dashboards read portfolio data
through this module, so a gap means the same thing everywhere. Amounts are floats
in the portfolio's base currency; dates are ``datetime64`` (pandas timestamps).

What is loaded
--------------
* **Holdings** (:func:`holdings_frame`): the derived position snapshots
  (``source="derived"``, built from the trades) of each portfolio at the close of
  its date, with the instrument's attributes. ``market_value_base`` is NaN where
  the holding has no close or no FX rate that day (never a partial or a zero).
* **Valuations** (:func:`valuations_frame`): one row per date of each portfolio's
  own valuation calendar (the dates with derived positions, see
  :mod:`analytics.services.positions`): ``net_assets`` = the sum of
  ``market_value_base`` over the date's holdings, cash included. A date on which
  any holding lacks a base value is a **gap**: ``net_assets`` is NaN and
  ``unvalued_holdings`` says how many holdings lack one.
* **Flows** (:func:`flows_frame`): external cash flows (+ contribution,
  − withdrawal) summed per portfolio and flow date, converted into the base
  currency at the rate of the flow date (direct pair, else inverse; no
  carry-forward, no triangulation). A date with a flow that has no rate has
  ``amount`` NaN, never a conversion at 1.0.
* **Returns** (:func:`interval_returns`): the time-weighted return of each
  valuation interval with flows at the **end of the day**,
  ``r_t = (V_t − F_t) / V_{t−1} − 1`` (:func:`analytics.engine.flows.daily_time_weighted_returns`;
  for one interval this is Modified Dietz with the flow's weight 0). ``F_t`` is the
  sum of the flows dated in ``(t−1, t]``: a flow dated on a day that is not on the
  portfolio's calendar (a weekend, a holiday) counts on the next valuation date, a
  flow after the last one is not counted yet, and flows on or before the first
  date are part of the starting capital. The return is NaN when ``V_t`` or
  ``V_{t−1}`` is missing, when a flow of the interval has no FX rate (``flow`` is
  NaN then), or when ``V_{t−1}`` is not positive. Each portfolio is measured on
  its own calendar, so the answer for one portfolio never depends on which other
  portfolios are loaded with it.

How each consumer treats a gap
------------------------------
The frames keep every gap as NaN; what to do with it is the consumer's choice,
made explicitly and documented where it is made:

* **Snapshots** (:mod:`analytics.services.snapshots`) measure across gaps
  (:func:`returns_across_gaps`): the same formula on the calendar without the gap
  dates, so the return after a gap spans it and a flow dated in the gap counts on
  the next valued date. Every gap, and every interval that still cannot be
  measured (a flow without a rate, no capital), is listed in the snapshot's
  ``data.gaps``; exposures leave unvalued holdings out and count them.
* **Compliance** (:mod:`compliance.services.frames`) backtests VaR on the
  snapshots' series (:func:`returns_across_gaps`), so the rule and the Risk tab
  count the same exceptions; an interval that still cannot be measured is left
  out of both. Holdings without a base value cannot be weighed, so rules leave
  them out and count them (``unvalued``).
* **Reports and dashboards** read stored snapshots (the snapshot's treatment);
  one that reads these frames directly shows a NaN as a gap (a break in a line,
  an empty cell with the "data as of"/completeness note), never as a zero.

On any date both treatments measure, the two answers are the same number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, Max, Q, QuerySet, Sum

from analytics.engine.flows import daily_time_weighted_returns
from analytics.models import DERIVED_SOURCE, CashFlow, PositionSnapshot
from analytics.selectors.fx import in_base_currency

INSTRUMENT_ATTRIBUTES = [
    "identifier",
    "name",
    "issuer",
    "issuer_group",
    "issuer_type",
    "sector",
    "industry",
    "country",
    "asset_class",
    "currency",
    "shares_outstanding",
]
"""Instrument columns carried into a holdings frame."""
HOLDING_COLUMNS = [
    "portfolio",
    "instrument",
    "quantity",
    "market_value_base",
    *INSTRUMENT_ATTRIBUTES,
]
VALUATION_COLUMNS = ["portfolio", "date", "net_assets", "unvalued_holdings"]
FLOW_COLUMNS = ["portfolio", "date", "amount"]
RETURN_COLUMNS = ["portfolio", "date", "return", "flow"]


@dataclass(frozen=True)
class PortfolioHistory:
    """Valuations, flows and returns (gaps as NaN) of some portfolios, long frames
    sorted by portfolio and date (see the module docstring for each column)."""

    valuations: pd.DataFrame  # VALUATION_COLUMNS
    flows: pd.DataFrame  # FLOW_COLUMNS
    returns: pd.DataFrame  # RETURN_COLUMNS; one row per valuation date after the first


def holdings_frame(*, dates: Mapping[int, dt.date]) -> pd.DataFrame:
    """Derived holdings of each portfolio at the close of its date in ``dates``
    (``HOLDING_COLUMNS``; ``market_value_base`` NaN where there is no base value)."""
    by_date: dict[dt.date, list[int]] = {}
    for portfolio_id, date in dates.items():
        by_date.setdefault(date, []).append(portfolio_id)
    fields = ["portfolio_id", "instrument_id", "quantity", "market_value_base"]
    records: list[tuple] = []
    for date, ids in by_date.items():
        records.extend(
            PositionSnapshot.objects.filter(portfolio_id__in=ids, date=date, source=DERIVED_SOURCE)
            .exclude(quantity=0)
            .values_list(*fields, *(f"instrument__{name}" for name in INSTRUMENT_ATTRIBUTES))
        )
    frame = pd.DataFrame.from_records(records, columns=HOLDING_COLUMNS)
    columns_as_float(frame, ["quantity", "market_value_base", "shares_outstanding"])
    return frame


def latest_position_dates(
    *, portfolio_ids: Iterable[int], on_or_before: dt.date | None = None
) -> dict[int, dt.date]:
    """The latest date with derived positions of each portfolio (on or before a
    date); a portfolio with none is absent."""
    positions = PositionSnapshot.objects.filter(
        portfolio_id__in=list(portfolio_ids), source=DERIVED_SOURCE
    )
    if on_or_before is not None:
        positions = positions.filter(date__lte=on_or_before)
    rows = positions.values("portfolio_id").annotate(latest=Max("date"))
    return {row["portfolio_id"]: row["latest"] for row in rows}


def valuation_totals(
    *, portfolio_ids: Iterable[int], last: dt.date | None = None, first: dt.date | None = None
) -> QuerySet[Any, Any]:
    """Per portfolio and date of its calendar in ``[first, last]``: ``total`` (the sum
    of the base values that exist, a Decimal), ``holdings`` and ``unvalued`` (how
    many holdings lack a base value), ordered by portfolio and date. The one query
    behind every valuation: :func:`valuations_frame` turns a date with ``unvalued``
    holdings into a gap; the values API reports the count beside the partial sum."""
    positions = PositionSnapshot.objects.filter(
        portfolio_id__in=list(portfolio_ids), source=DERIVED_SOURCE
    ).exclude(quantity=0)
    if first is not None:
        positions = positions.filter(date__gte=first)
    if last is not None:
        positions = positions.filter(date__lte=last)
    return (
        positions.values("portfolio_id", "date")
        .annotate(
            total=Sum("market_value_base"),
            holdings=Count("id"),
            unvalued=Count("id", filter=Q(market_value_base__isnull=True)),
        )
        .order_by("portfolio_id", "date")
    )


def valuations_frame(
    *, portfolio_ids: Iterable[int], last: dt.date, first: dt.date | None = None
) -> pd.DataFrame:
    """Net assets per date of each portfolio's calendar in ``[first, last]``
    (``VALUATION_COLUMNS``; NaN on a gap)."""
    rows = [
        (row["portfolio_id"], row["date"], row["total"], row["unvalued"])
        for row in valuation_totals(portfolio_ids=portfolio_ids, first=first, last=last)
    ]
    frame = pd.DataFrame.from_records(rows, columns=VALUATION_COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"])
    frame["unvalued_holdings"] = frame["unvalued_holdings"].astype(np.int64)
    columns_as_float(frame, ["net_assets"])
    # A date with an unvalued holding has no net assets (never a partial sum).
    frame["net_assets"] = frame["net_assets"].where(frame["unvalued_holdings"] == 0)
    return frame


def flows_frame(
    *, portfolio_ids: Iterable[int], last: dt.date, first: dt.date | None = None
) -> pd.DataFrame:
    """External flows in the base currency per portfolio and flow date in
    ``[first, last]`` (``FLOW_COLUMNS``; NaN where a flow of the date has no rate)."""
    flows = CashFlow.objects.filter(portfolio_id__in=list(portfolio_ids), date__lte=last)
    if first is not None:
        flows = flows.filter(date__gte=first)
    rows = pd.DataFrame.from_records(
        list(
            flows.values_list(
                "portfolio_id", "date", "amount", "currency", "portfolio__base_currency"
            )
        ),
        columns=["portfolio", "date", "amount", "currency", "base"],
    )
    columns_as_float(rows, ["amount"])
    converted = [
        in_base_currency(group, base=str(base), value="amount")
        for base, group in rows.groupby("base")
    ]
    if not converted:
        return pd.DataFrame(columns=FLOW_COLUMNS).astype(
            {"date": "datetime64[ns]", "amount": float}
        )
    rows = pd.concat(converted, ignore_index=True)
    totals = _sum_or_unknown(rows["amount_base"], by=[rows["portfolio"], rows["date"]])
    frame = totals.rename("amount").reset_index()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame[FLOW_COLUMNS].sort_values(["portfolio", "date"], ignore_index=True)


def interval_returns(*, valuations: pd.DataFrame, flows: pd.DataFrame) -> pd.DataFrame:
    """Returns of the valuation intervals of ``valuations`` (``RETURN_COLUMNS``; the
    formula, flow dating and NaN rules are in the module docstring). The calendar of
    each portfolio is the dates of its rows in ``valuations``."""
    rows = valuations.sort_values(["portfolio", "date"], ignore_index=True)
    if rows.empty:
        return pd.DataFrame(columns=RETURN_COLUMNS)
    rows["flow"] = _flows_per_interval(rows[["portfolio", "date"]], flows)
    # Rows are lined up by their position on each portfolio's own calendar (not by
    # date), so one engine call measures every portfolio without inventing a gap
    # where another portfolio has a valuation date and this one has none.
    rows["step"] = rows.groupby("portfolio").cumcount()
    values, counted = (
        rows.pivot_table(
            index="step", columns="portfolio", values=name, aggfunc="first", dropna=False
        )
        for name in ("net_assets", "flow")
    )
    table = daily_time_weighted_returns(values, counted.fillna(0.0), flow_timing="end")
    column = values.columns.get_indexer(rows["portfolio"])
    rows["return"] = table.to_numpy()[rows["step"].to_numpy(), column]
    # The engine reads a NaN flow as no flow; a flow without an FX rate is unknown.
    rows.loc[rows["flow"].isna(), "return"] = np.nan
    return rows.loc[rows["step"] > 0, RETURN_COLUMNS].reset_index(drop=True)


def returns_across_gaps(history: PortfolioHistory) -> pd.DataFrame:
    """The snapshots' treatment of gaps: :func:`interval_returns` on each calendar
    without its gap dates, so a return after a gap spans it (see the module docstring)."""
    valued = history.valuations[history.valuations["net_assets"].notna()]
    return interval_returns(valuations=valued, flows=history.flows)


def portfolio_history(
    *, portfolio_ids: Iterable[int], last: dt.date, first: dt.date | None = None
) -> PortfolioHistory:
    """Valuations, flows and returns (gaps as NaN) of the portfolios over ``[first, last]``
    (``first`` None: from inception). With ``first`` set, the first valuation in the
    window starts the first interval, so it has no return."""
    ids = list(portfolio_ids)
    valuations = valuations_frame(portfolio_ids=ids, last=last, first=first)
    flows = flows_frame(portfolio_ids=ids, last=last, first=first)
    return PortfolioHistory(
        valuations=valuations,
        flows=flows,
        returns=interval_returns(valuations=valuations, flows=flows),
    )


def _flows_per_interval(calendar: pd.DataFrame, flows: pd.DataFrame) -> pd.Series:
    """Per row of ``calendar`` (portfolio, date), the flows counted on it: 0.0 for
    none, NaN if one of them has no rate."""
    counted = pd.Series(0.0, index=calendar.index)
    if flows.empty:
        return counted
    dates = calendar.assign(valuation_date=calendar["date"], row=calendar.index)
    assigned = pd.merge_asof(
        flows.sort_values("date"),
        dates.sort_values("date"),
        on="date",
        by="portfolio",
        direction="forward",  # a flow counts on its own or the next valuation date
    ).dropna(subset=["row"])
    if assigned.empty:
        return counted
    totals = _sum_or_unknown(assigned["amount"], by=assigned["row"].astype(np.int64))
    counted.loc[totals.index] = totals.to_numpy()
    return counted


def _sum_or_unknown(values: pd.Series, *, by) -> pd.Series:
    """Sums per group, NaN for a group with a NaN (an unknown part makes the total unknown)."""
    grouped = values.groupby(by)
    return grouped.sum().where(~values.isna().groupby(by).any())


def columns_as_float(frame: pd.DataFrame, columns: list[str]) -> None:
    """Convert ``columns`` of ``frame`` to float64 in place (None becomes NaN)."""
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
