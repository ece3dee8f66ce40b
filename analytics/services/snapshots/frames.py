"""Load one portfolio's frames for a snapshot.

Holdings, valuations and external flows come from the shared loader,
:mod:`analytics.selectors.frames`, which states their definitions (base currency,
gaps as NaN) and how snapshots treat a gap. This module adds what only snapshots
read:

* **Benchmark** returns converted into the base currency when the benchmark's
  currency differs: ``(1 + r_local) × fx_t / fx_{t−1} − 1`` on the benchmark's
  own dates; a date without a rate gives NaN.
* **Prices** for holdings-based attribution: closes converted into the base
  currency on the same date (:func:`analytics.selectors.fx.in_base_currency`).
* **Factor** returns: the monthly factor table.
* **Risk-free** rates: the monthly rates of the portfolio's risk-free factor
  (``Portfolio.risk_free_factor``, e.g. the Fama-French ``RF``), none when the
  portfolio names no factor (the constant ``ANALYTICS_RISK_FREE_RATE`` applies).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.models import (
    DERIVED_SOURCE,
    AssetClass,
    BenchmarkReturn,
    BenchmarkWeight,
    FactorReturn,
    Instrument,
    Portfolio,
    PositionSnapshot,
    Price,
)
from analytics.selectors.frames import (
    PortfolioHistory,
    columns_as_float,
    holdings_frame,
    portfolio_history,
)
from analytics.selectors.fx import in_base_currency

ATTRIBUTES = ["sector", "industry", "country", "asset_class", "currency", "issuer"]
"""Instrument attributes a snapshot's exposures are grouped by (holdings columns)."""


@dataclass(frozen=True)
class PortfolioFrames:
    """Everything a snapshot needs about one portfolio, as of ``as_of``."""

    portfolio_id: int
    base_currency: str
    as_of: dt.date
    history: PortfolioHistory  # valuations, flows and returns since inception, gaps as NaN
    net_assets: pd.Series  # net assets in base per valuation date (DatetimeIndex); NaN = a gap
    holdings: pd.DataFrame  # at as_of: the shared holdings frame (mv base NaN = unvalued)
    benchmark_code: str | None = None
    benchmark_returns: pd.Series | None = None  # daily, in base currency, benchmark's dates
    benchmark_has_weights: bool = False
    factor_returns: pd.DataFrame | None = None  # month-end × factor, monthly decimals
    risk_free_factor: str = ""  # the factor code of the risk-free series ("" = constant rate)
    risk_free_source: str = ""  # where the factor's rows came from (e.g. fama-french)
    risk_free_monthly: pd.Series | None = None  # monthly periods → the month's rate (fraction)


def _benchmark_returns(portfolio: Portfolio, as_of: dt.date) -> pd.Series | None:
    benchmark = portfolio.benchmark
    if benchmark is None:
        return None
    frame = pd.DataFrame.from_records(
        BenchmarkReturn.objects.filter(benchmark=benchmark, date__lte=as_of)
        .order_by("date")
        .values_list("date", "value"),
        columns=["date", "value"],
    )
    if benchmark.currency != portfolio.base_currency and not frame.empty:
        frame["currency"] = benchmark.currency
        frame = in_base_currency(
            frame.assign(level=1.0), base=portfolio.base_currency, value="level"
        )  # level_base is the rate itself
        rate = frame["level_base"]
        frame["value"] = (1.0 + frame["value"]) * rate / rate.shift(1) - 1.0
    return pd.Series(
        frame["value"].to_numpy(dtype=np.float64),
        index=pd.DatetimeIndex(pd.to_datetime(frame["date"]), name="date"),
        name=benchmark.code,
    )


def _factor_returns(as_of: dt.date) -> pd.DataFrame | None:
    frame = pd.DataFrame.from_records(
        FactorReturn.objects.filter(frequency="M", date__lte=as_of).values_list(
            "date", "factor", "value"
        ),
        columns=["date", "factor", "value"],
    )
    if frame.empty:
        return None
    table = frame.pivot_table(index="date", columns="factor", values="value", aggfunc="first")
    table.index = pd.DatetimeIndex(pd.to_datetime(table.index)).to_period("M")
    return table.sort_index()


def _risk_free_monthly(factor: str, as_of: dt.date) -> tuple[pd.Series | None, str]:
    """The monthly rates of the risk-free ``factor`` for the months up to and including
    ``as_of``'s and their source; (None, "") when the portfolio names no factor. A
    month's row is dated at its end, after ``as_of`` within the month: the rate (a
    one-month bill bought at the start of the month) is known from the month's start."""
    if not factor:
        return None, ""
    next_month = (pd.Timestamp(as_of) + pd.offsets.MonthBegin(1)).date()
    rows = list(
        FactorReturn.objects.filter(factor=factor, frequency="M", date__lt=next_month)
        .order_by("date")
        .values_list("date", "value", "source")
    )
    months = pd.DatetimeIndex([row[0] for row in rows]).to_period("M")
    rates = pd.Series([row[1] for row in rows], index=months, dtype=np.float64, name=factor)
    sources = sorted({row[2] for row in rows})
    return rates, ", ".join(sources)


def portfolio_frames_load(*, portfolio: Portfolio, as_of: dt.date) -> PortfolioFrames:
    """The frames of ``portfolio`` with data up to and including ``as_of``."""
    history = portfolio_history(portfolio_ids=[portfolio.pk], last=as_of)
    valuations = history.valuations
    benchmark = portfolio.benchmark
    risk_free_monthly, risk_free_source = _risk_free_monthly(portfolio.risk_free_factor, as_of)
    return PortfolioFrames(
        portfolio_id=portfolio.pk,
        base_currency=portfolio.base_currency,
        as_of=as_of,
        history=history,
        net_assets=pd.Series(
            valuations["net_assets"].to_numpy(),
            index=pd.DatetimeIndex(valuations["date"], name="date"),
            name="net_assets",
        ),
        holdings=holdings_frame(dates={portfolio.pk: as_of}),
        benchmark_code=benchmark.code if benchmark else None,
        benchmark_returns=_benchmark_returns(portfolio, as_of),
        benchmark_has_weights=bool(
            benchmark and BenchmarkWeight.objects.filter(benchmark=benchmark).exists()
        ),
        factor_returns=_factor_returns(as_of),
        risk_free_factor=portfolio.risk_free_factor,
        risk_free_source=risk_free_source,
        risk_free_monthly=risk_free_monthly,
    )


def month_end_weights_and_returns(
    *, portfolio: Portfolio, month_ends: list[dt.date]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inputs of monthly holdings-based Brinson attribution over consecutive month ends.

    For each period ``(month_ends[i-1], month_ends[i]]`` returns two frames with
    columns ``period`` (the end date), ``instrument``, ``sector``, ``country``,
    ``asset_class``, ``weight`` (beginning-of-period fraction of the side's total)
    and ``return`` (base-currency price return over the period; cash: the FX move):
    the portfolio's derived holdings and the benchmark's constituent weights (the
    latest weights dated on or before the period start). Rows whose return cannot
    be measured (no close or no rate at either end) are dropped and the remaining
    weights renormalised; the count dropped per period is in ``attrs["dropped"]``.
    """
    starts, ends = month_ends[:-1], month_ends[1:]
    held = pd.DataFrame.from_records(
        PositionSnapshot.objects.filter(portfolio=portfolio, source=DERIVED_SOURCE, date__in=starts)
        .exclude(quantity=0)
        .values_list("date", "instrument_id", "market_value_base"),
        columns=["start", "instrument", "value"],
    )
    columns_as_float(held, ["value"])
    bench = _benchmark_weights(portfolio, starts)
    instrument_ids = set(held["instrument"]) | set(bench["instrument"])
    prices = _base_closes(portfolio, instrument_ids, sorted(set(month_ends)))
    period_of = dict(zip(starts, ends, strict=True))
    sides = []
    for side in (held, bench):
        side = side.assign(period=side["start"].map(period_of))
        side = side.merge(
            prices.rename(columns={"date": "start", "close_base": "start_close"}),
            on=["start", "instrument"],
            how="left",
        ).merge(
            prices.rename(columns={"date": "period", "close_base": "end_close"}),
            on=["period", "instrument"],
            how="left",
        )
        side["return"] = side["end_close"] / side["start_close"] - 1.0
        measurable = side["return"].notna() & side["value"].notna()
        dropped = (~measurable).groupby(side["period"]).sum()
        side = side[measurable]
        side["weight"] = side["value"] / side.groupby("period")["value"].transform("sum")
        side = side.merge(_attributes(instrument_ids), on="instrument", how="left")
        side = side[
            ["period", "instrument", "sector", "country", "asset_class", "weight", "return"]
        ]
        side.attrs["dropped"] = {str(k): int(v) for k, v in dropped.items() if v}
        sides.append(side)
    return sides[0], sides[1]


def _benchmark_weights(portfolio: Portfolio, starts: list[dt.date]) -> pd.DataFrame:
    """The benchmark's weights dated on or before each start (the latest such date)."""
    columns = ["start", "instrument", "value"]
    if portfolio.benchmark_id is None or not starts:
        return pd.DataFrame(columns=columns)
    weights = BenchmarkWeight.objects.filter(benchmark_id=portfolio.benchmark_id)
    dates = sorted(weights.filter(date__lte=max(starts)).values_list("date", flat=True).distinct())
    chosen = {}
    for start in starts:
        position = bisect.bisect_right(dates, start)
        if position:
            chosen[start] = dates[position - 1]
    if not chosen:
        return pd.DataFrame(columns=columns)
    rows = pd.DataFrame.from_records(
        weights.filter(date__in=set(chosen.values())).values_list(
            "date", "instrument_id", "weight"
        ),
        columns=["date", "instrument", "value"],
    )
    by_date = dict(tuple(rows.groupby("date")))
    return pd.concat(
        [by_date[day].assign(start=start)[columns] for start, day in chosen.items()],
        ignore_index=True,
    )


def _base_closes(portfolio: Portfolio, instrument_ids: set[int], dates: list[dt.date]):
    closes = pd.DataFrame.from_records(
        Price.objects.filter(instrument_id__in=instrument_ids, date__in=dates)
        .order_by("instrument_id", "date", "source")
        .values_list("instrument_id", "date", "close", "currency"),
        columns=["instrument", "date", "close", "currency"],
    ).drop_duplicates(["instrument", "date"], keep="first")
    cash = Instrument.objects.filter(pk__in=instrument_ids, asset_class=AssetClass.CASH)
    cash_rows = pd.DataFrame(
        [(c.pk, day, 1.0, c.currency) for c in cash for day in dates],
        columns=["instrument", "date", "close", "currency"],
    )
    closes = pd.concat([closes, cash_rows], ignore_index=True)
    columns_as_float(closes, ["close"])
    closes = in_base_currency(closes, base=portfolio.base_currency, value="close")
    return closes[["instrument", "date", "close_base"]]


def _attributes(instrument_ids: set[int]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        Instrument.objects.filter(pk__in=instrument_ids).values_list(
            "pk", "sector", "country", "asset_class"
        ),
        columns=["instrument", "sector", "country", "asset_class"],
    )
