"""The trading review of some portfolios over a period, for reports and pages.

``trading_review_for`` loads what :func:`analytics.engine.trading.trading_review`
needs and calls it; every convention (lots, round trips, hit rate, turnover,
slippage, contribution) is stated in that module. What this service decides:

* **Which portfolios.** Only those given, which the caller has already
  authorised (``analytics.selectors.entitlements``); nothing else is read.
* **Which trades.** Every trade of those portfolios up to the end of the period
  (the lots the period starts with come from earlier trades), except FX spot deals
  in cash instruments (asset class ``cash``): they move cash between currencies
  and are not trading decisions, so they would only inflate turnover.
* **Currency.** Amounts are in each portfolio's base currency: a fill's price and
  fees converted at the FX rate of its trade date, a close at the rate of its own
  date (``analytics.selectors.fx``: no carry-forward, NaN without a rate), so
  realised P&L includes the currency effect. Slippage is a ratio of a price to the
  same day's close, both converted at that day's rate, so the rate cancels.
* **Closes.** One per instrument and date, the source sorting first winning (as
  the positions rebuild does): the closes of the period's trade dates, for
  slippage, and each instrument's latest close on or before the end and on or
  before the day before the start, for the marks.
* **Net assets.** The valuations of the one frame loader
  (``analytics.selectors.frames.valuations_frame``), gaps as NaN.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Max, QuerySet

from analytics.engine.trading import LotMethod, TradingReview, trading_review
from analytics.models import AssetClass, Instrument, Portfolio, Price, Trade
from analytics.selectors.frames import columns_as_float, valuations_frame
from analytics.selectors.fx import in_base_currency


@dataclass(frozen=True)
class InstrumentLabel:
    identifier: str
    name: str
    currency: str


@dataclass(frozen=True)
class TradingReviewData:
    """The engine's review (portfolios and instruments by id; ``fills`` also carry
    ``price_local``, ``fees_local`` and ``currency``: the fill as traded) with the
    labels to show them."""

    review: TradingReview
    portfolios: dict[int, Portfolio]
    instruments: dict[int, InstrumentLabel]


_TRADE_FIELDS = (
    "id",
    "portfolio_id",
    "instrument_id",
    "trade_date",
    "side",
    "quantity",
    "price",
    "fees",
    "currency",
    "strategy",
    "trader__username",
)


def trading_review_for(
    *,
    portfolios: Sequence[Portfolio],
    start: dt.date | None,
    end: dt.date,
    method: LotMethod = "fifo",
) -> TradingReviewData:
    """The trading review of ``portfolios`` (already authorised) over
    ``[start, end]`` (``start`` None: since the first trade), lots by ``method``."""
    by_id = {portfolio.pk: portfolio for portfolio in portfolios}
    trades = _trades(by_id, end=end)
    instrument_ids = sorted(set(trades["instrument"]))
    closes = _closes(by_id, trades, instrument_ids=instrument_ids, start=start, end=end)
    net_assets = valuations_frame(portfolio_ids=list(by_id), first=start, last=end)
    review = trading_review(
        trades,
        closes,
        net_assets[["portfolio", "date", "net_assets"]],
        start=start,
        end=end,
        method=method,
    )
    labels = {
        pk: InstrumentLabel(identifier, name, currency)
        for pk, identifier, name, currency in Instrument.objects.filter(
            pk__in=instrument_ids
        ).values_list("pk", "identifier", "name", "currency")
    }
    return TradingReviewData(review=review, portfolios=by_id, instruments=labels)


def _trades(portfolios: dict[int, Portfolio], *, end: dt.date) -> pd.DataFrame:
    """The portfolios' non-cash trades up to ``end`` as the engine's frame, with
    price and fees in the base currency (and as traded, ``*_local``)."""
    rows = (
        Trade.objects.filter(portfolio_id__in=list(portfolios), trade_date__lte=end)
        .exclude(instrument__asset_class=AssetClass.CASH)
        .order_by("portfolio_id", "trade_date", "id")
        .values_list(*_TRADE_FIELDS)
    )
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=[
            "trade",
            "portfolio",
            "instrument",
            "date",
            "side",
            "quantity",
            "price_local",
            "fees_local",
            "currency",
            "strategy",
            "trader",
        ],
    )
    columns_as_float(frame, ["quantity", "price_local", "fees_local"])
    frame["trader"] = frame["trader"].fillna("")
    frame["base"] = frame["portfolio"].map({pk: p.base_currency for pk, p in portfolios.items()})
    converted = [
        in_base_currency(
            in_base_currency(group, base=str(base), value="price_local"),
            base=str(base),
            value="fees_local",
        )
        for base, group in frame.groupby("base")
    ]
    if converted:
        frame = pd.concat(converted, ignore_index=True)
    else:
        frame = frame.assign(price_local_base=np.float64(0), fees_local_base=np.float64(0))
    frame = frame.rename(columns={"price_local_base": "price", "fees_local_base": "fees"})
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.drop(columns="base")


def _closes(
    portfolios: dict[int, Portfolio],
    trades: pd.DataFrame,
    *,
    instrument_ids: list[int],
    start: dt.date | None,
    end: dt.date,
) -> pd.DataFrame:
    """Closes per portfolio, instrument and date in the portfolio's base currency:
    the period's trade dates and the marks (see the module docstring)."""
    columns = ["portfolio", "instrument", "date", "close"]
    if not instrument_ids:
        return pd.DataFrame(columns=columns).astype({"date": "datetime64[ns]", "close": float})
    traded = trades if start is None else trades[trades["date"] >= pd.Timestamp(start)]
    trade_dates = sorted({timestamp.date() for timestamp in traded["date"]})
    mark_dates = [end] if start is None else [end, start - dt.timedelta(days=1)]
    wanted = _prices(Price.objects.filter(instrument_id__in=instrument_ids, date__in=trade_dates))
    for mark in mark_dates:
        latest = (
            Price.objects.filter(instrument_id__in=instrument_ids, date__lte=mark)
            .values("instrument_id")
            .annotate(latest=Max("date"))
        )
        pairs = {(row["instrument_id"], row["latest"]) for row in latest}
        dates = {date for _, date in pairs}
        found = _prices(Price.objects.filter(instrument_id__in=instrument_ids, date__in=dates))
        keep = [pair in pairs for pair in zip(found["instrument"], found["date"], strict=True)]
        wanted = pd.concat([wanted, found[keep]], ignore_index=True)
    wanted = wanted.drop_duplicates(["instrument", "date"], keep="first")

    held = trades[["portfolio", "instrument"]].drop_duplicates()
    held["base"] = held["portfolio"].map({pk: p.base_currency for pk, p in portfolios.items()})
    frames = []
    for base, group in held.groupby("base"):
        converted = in_base_currency(
            wanted[wanted["instrument"].isin(group["instrument"])], base=str(base), value="close"
        )
        frames.append(
            group.merge(converted, on="instrument")[
                ["portfolio", "instrument", "date", "close_base"]
            ]
        )
    closes = pd.concat(frames, ignore_index=True).rename(columns={"close_base": "close"})
    closes["date"] = pd.to_datetime(closes["date"])
    return closes[columns]


def _prices(prices: QuerySet[Price]) -> pd.DataFrame:
    """Price rows ``(instrument, date, close, currency)``, one per instrument and
    date: the source sorting first wins."""
    records = list(
        prices.order_by("instrument_id", "date", "source").values_list(
            "instrument_id", "date", "close", "currency"
        )
    )
    frame = pd.DataFrame.from_records(records, columns=["instrument", "date", "close", "currency"])
    columns_as_float(frame, ["close"])
    return frame.drop_duplicates(["instrument", "date"], keep="first")
