"""The trading review: is a strategy (or a trader) making money, and at what cost?

Pure pandas/numpy: the service (``analytics.services.trading``) loads the trades,
the closes and the net assets and calls :func:`trading_review`.

Inputs (long frames; amounts in one currency per portfolio, its base currency)
--------------------------------------------------------------------------------
* ``trades`` (:data:`TRADE_COLUMNS`): every fill of the portfolios up to the end
  of the period (earlier fills are needed to know the lots the period starts
  with). ``quantity`` is positive and ``side`` is ``"buy"`` or ``"sell"``;
  ``price`` is per unit and ``fees`` the fill's total fees; ``strategy`` and
  ``trader`` are labels (``""`` when the fill has none). ``trade`` is a unique id
  whose order breaks ties between fills of the same day.
* ``closes`` (:data:`CLOSE_COLUMNS`): closing prices per portfolio, instrument and
  date, in the same currency as the fills' prices.
* ``net_assets`` (:data:`NET_ASSET_COLUMNS`): each portfolio's net assets per
  valuation date (NaN on a gap).

Conventions
-----------
* **Lots.** Fills are matched per portfolio and instrument (the portfolio's actual
  holding, whatever the tags) in trade-date order, ties by ``trade``. A fill first
  closes open lots of the opposite direction, then opens a lot with what is left
  (a sale beyond the holding opens a short lot). ``method="fifo"`` (the default)
  closes the oldest lot first; ``method="average"`` keeps one pooled lot per
  holding at the quantity-weighted average cost (and average opening date).
* **Round trip.** Each (lot, closing fill) match is one closed round trip: a sale
  of 150 that closes lots of 100 and 50 is two round trips. Its P&L is
  ``direction × (exit − entry) × quantity`` minus the fees of both fills
  pro rata to the quantity matched (direction +1 long, −1 short). A round trip,
  and the unrealised P&L of an open lot, belong to the **strategy and trader of
  the opening fill** (the decision being reviewed). A round trip is in the period
  when its closing fill is.
* **Realised P&L of a fill** is the sum of the round trips it closed (NaN for a
  fill that closed nothing: it only opened a position).
* **Hit rate**: round trips with P&L > 0 ÷ all round trips. **Win/loss ratio**:
  mean P&L of the winners ÷ |mean P&L of the losers| (P&L < 0); NaN without a
  winner or a loser. **Average holding period**: calendar days from opening to
  closing, weighted by the quantity of each round trip.
* **Unrealised P&L** of an open lot at a date: ``direction × (mark − entry) ×
  quantity`` minus its share of the opening fees, the mark being the latest close
  on or before that date (NaN without one). The period's unrealised change is the
  value at the end minus the value at the day before the start (0 since inception).
* **Total P&L** = realised + unrealised change: the mark-to-market gain of the
  period. **Contribution to return** = total P&L ÷ the portfolio's average net
  assets over the period (the mean over its valued dates in the period; gaps are
  left out).
* **Turnover** = min(bought, sold) ÷ average net assets, where bought and sold are
  the notionals (price × quantity, fees excluded) of the period's fills. For a
  strategy or a trader the denominator is still the portfolio's average net assets.
* **Slippage** of a fill against the close of its trade date, in basis points,
  positive = cost: ``side × (price − close) ÷ close × 10 000`` with side +1 for a
  buy and −1 for a sale (buying above the close, or selling below it, costs).
  NaN without that day's close. A group's slippage is notional-weighted: the sum
  of ``side × (price − close) × quantity`` over the sum of ``close × quantity``.
* A NaN amount (a missing price, FX rate or mark) makes every sum it enters NaN:
  an unknown part makes the total unknown, never a silent zero.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

TRADE_COLUMNS = (
    "trade",
    "portfolio",
    "instrument",
    "date",
    "side",
    "quantity",
    "price",
    "fees",
    "strategy",
    "trader",
)
CLOSE_COLUMNS = ("portfolio", "instrument", "date", "close")
NET_ASSET_COLUMNS = ("portfolio", "date", "net_assets")
ROUND_TRIP_COLUMNS = (
    "portfolio",
    "instrument",
    "strategy",
    "trader",
    "direction",
    "opened",
    "closed",
    "quantity",
    "entry_price",
    "exit_price",
    "pnl",
    "holding_days",
    "opening_trade",
    "closing_trade",
)
LOT_COLUMNS = (
    "portfolio",
    "instrument",
    "strategy",
    "trader",
    "direction",
    "opened",
    "quantity",
    "entry_price",
    "entry_fees",
    "opening_trade",
)
SUMMARY_COLUMNS = (
    "realised_pnl",
    "unrealised_pnl_change",
    "total_pnl",
    "round_trips",
    "wins",
    "losses",
    "hit_rate",
    "win_loss_ratio",
    "average_holding_days",
    "bought",
    "sold",
    "turnover",
    "slippage_bps",
    "slippage_cost",
    "average_net_assets",
    "contribution",
)
LotMethod = Literal["fifo", "average"]
# Quantities below this are treated as zero (float residue of partial closes).
QUANTITY_EPSILON = 1e-9
_EPOCH = np.datetime64("1970-01-01", "D")


@dataclass
class _Lot:
    quantity: float  # signed: > 0 long, < 0 short
    price: float
    fee_per_unit: float
    opened: float  # days since 1970-01-01 (a float: the average method averages it)
    strategy: str
    trader: str
    trade: int


@dataclass(frozen=True)
class LotMatch:
    """What matching the fills gives: the closed round trips
    (:data:`ROUND_TRIP_COLUMNS`), the lots still open after the last fill
    (:data:`LOT_COLUMNS`) and the realised P&L of each closing fill (by ``trade``)."""

    round_trips: pd.DataFrame
    open_lots: pd.DataFrame
    realised_by_trade: pd.Series


def lots_match(trades: pd.DataFrame, *, method: LotMethod = "fifo") -> LotMatch:
    """Match ``trades`` (:data:`TRADE_COLUMNS`) into round trips and open lots by
    ``method`` (see the module docstring). Matching is path-dependent, so it walks
    each holding's fills in order; everything downstream is vectorised."""
    if method not in ("fifo", "average"):
        raise ValueError(f"unknown lot method {method!r} (fifo or average)")
    ordered = trades.sort_values(["portfolio", "instrument", "date", "trade"], kind="stable")
    days = (ordered["date"].to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)
    trips: list[tuple[Any, ...]] = []
    open_lots: list[tuple[Any, ...]] = []
    realised: dict[int, float] = {}
    columns = zip(
        ordered["portfolio"].to_numpy(),
        ordered["instrument"].to_numpy(),
        days,
        ordered["side"].to_numpy(),
        ordered["quantity"].to_numpy(dtype=np.float64),
        ordered["price"].to_numpy(dtype=np.float64),
        ordered["fees"].to_numpy(dtype=np.float64),
        ordered["strategy"].to_numpy(),
        ordered["trader"].to_numpy(),
        ordered["trade"].to_numpy(),
        strict=True,
    )
    holding: tuple[Any, Any] | None = None
    lots: deque[_Lot] = deque()
    for portfolio, instrument, day, side, quantity, price, fees, strategy, trader, trade in columns:
        if (portfolio, instrument) != holding:
            open_lots.extend(_lot_rows(holding, lots))
            holding, lots = (portfolio, instrument), deque()
        sign = 1.0 if side == "buy" else -1.0
        fee_per_unit = fees / quantity if quantity else 0.0
        remaining = float(quantity)
        while remaining > QUANTITY_EPSILON and lots and np.sign(lots[0].quantity) != sign:
            lot = lots[0]
            taken = min(remaining, abs(lot.quantity))
            direction = -sign  # the lot's direction
            pnl = (
                direction * (price - lot.price) * taken - (lot.fee_per_unit + fee_per_unit) * taken
            )
            trips.append(
                (
                    portfolio,
                    instrument,
                    lot.strategy,
                    lot.trader,
                    int(direction),
                    lot.opened,
                    float(day),
                    taken,
                    lot.price,
                    price,
                    pnl,
                    float(day) - lot.opened,
                    lot.trade,
                    trade,
                )
            )
            realised[int(trade)] = realised.get(int(trade), 0.0) + pnl
            lot.quantity -= direction * taken
            remaining -= taken
            if abs(lot.quantity) <= QUANTITY_EPSILON:
                lots.popleft()
        if remaining <= QUANTITY_EPSILON:
            continue
        new = _Lot(sign * remaining, price, fee_per_unit, float(day), strategy, trader, int(trade))
        if method == "average" and lots:
            _pool(lots[0], new)
        else:
            lots.append(new)
    open_lots.extend(_lot_rows(holding, lots))

    round_trips = pd.DataFrame(trips, columns=list(ROUND_TRIP_COLUMNS))
    for column in ("opened", "closed"):
        round_trips[column] = _as_dates(round_trips[column])
    lots_frame = pd.DataFrame(open_lots, columns=list(LOT_COLUMNS))
    lots_frame["opened"] = _as_dates(lots_frame["opened"])
    return LotMatch(
        round_trips=round_trips,
        open_lots=lots_frame,
        realised_by_trade=pd.Series(realised, dtype=np.float64, name="realised_pnl"),
    )


def _pool(pooled: _Lot, new: _Lot) -> None:
    """Add ``new`` (same direction) into the pooled lot at average cost; the pool
    keeps the tags and the opening trade of the fill that started it."""
    total = pooled.quantity + new.quantity
    weight_old, weight_new = pooled.quantity / total, new.quantity / total
    pooled.price = pooled.price * weight_old + new.price * weight_new
    pooled.fee_per_unit = pooled.fee_per_unit * weight_old + new.fee_per_unit * weight_new
    pooled.opened = pooled.opened * weight_old + new.opened * weight_new
    pooled.quantity = total


def _lot_rows(holding: tuple[Any, Any] | None, lots: deque[_Lot]) -> list[tuple[Any, ...]]:
    if holding is None:
        return []
    portfolio, instrument = holding
    return [
        (
            portfolio,
            instrument,
            lot.strategy,
            lot.trader,
            1 if lot.quantity > 0 else -1,
            lot.opened,
            abs(lot.quantity),
            lot.price,
            lot.fee_per_unit * abs(lot.quantity),
            lot.trade,
        )
        for lot in lots
    ]


def _as_dates(days: pd.Series) -> pd.Series:
    """Days since 1970-01-01 (floats, rounded down) as timestamps."""
    whole = np.floor(days.to_numpy(dtype=np.float64)).astype(np.int64)
    return pd.Series(pd.to_datetime(whole, unit="D"), index=days.index)


def unrealised_pnl(lots: pd.DataFrame, closes: pd.DataFrame, *, on: dt.date) -> pd.DataFrame:
    """``lots`` (:data:`LOT_COLUMNS`) with ``mark`` (the latest close on or before
    ``on``) and ``unrealised_pnl`` (see the module docstring; NaN without a mark)."""
    marks = (
        closes[closes["date"] <= pd.Timestamp(on)]
        .sort_values("date")
        .groupby(["portfolio", "instrument"], sort=False)["close"]
        .last()
        .rename("mark")
    )
    valued = lots.join(marks, on=["portfolio", "instrument"])
    valued["unrealised_pnl"] = (
        valued["direction"] * (valued["mark"] - valued["entry_price"]) * valued["quantity"]
        - valued["entry_fees"]
    )
    return valued


def fill_slippage(fills: pd.DataFrame, closes: pd.DataFrame) -> pd.DataFrame:
    """``fills`` with ``close`` (the close of the trade date, NaN without one),
    ``notional`` (price × quantity), ``slippage_bps`` and ``slippage_cost``
    (``side × (price − close) × quantity``), positive = cost."""
    day_close = closes.set_index(["portfolio", "instrument", "date"])["close"]
    day_close = day_close[~day_close.index.duplicated(keep="first")]
    keys = pd.MultiIndex.from_arrays([fills["portfolio"], fills["instrument"], fills["date"]])
    close = day_close.reindex(keys).to_numpy(dtype=np.float64)
    side = np.where(fills["side"].to_numpy() == "buy", 1.0, -1.0)
    price = fills["price"].to_numpy(dtype=np.float64)
    quantity = fills["quantity"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        bps = np.where(close > 0, side * (price - close) / close * 10_000.0, np.nan)
    return fills.assign(
        close=close,
        notional=price * quantity,
        slippage_bps=bps,
        slippage_cost=side * (price - close) * quantity,
    )


@dataclass(frozen=True)
class TradingReview:
    """The review of one period (see the module docstring for every convention).

    ``fills``: the period's fills with ``realised_pnl``, ``close``, ``notional``,
    ``slippage_bps`` and ``slippage_cost``; ``round_trips``: those closed in the
    period; ``open_lots``: the lots open at the end with ``mark`` and
    ``unrealised_pnl``; ``by_portfolio``, ``by_strategy``, ``by_trader``: the
    :data:`SUMMARY_COLUMNS` per portfolio, per (portfolio, strategy) and per
    (portfolio, trader)."""

    method: LotMethod
    start: dt.date | None
    end: dt.date
    fills: pd.DataFrame
    round_trips: pd.DataFrame
    open_lots: pd.DataFrame
    by_portfolio: pd.DataFrame
    by_strategy: pd.DataFrame
    by_trader: pd.DataFrame


def trading_review(
    trades: pd.DataFrame,
    closes: pd.DataFrame,
    net_assets: pd.DataFrame,
    *,
    start: dt.date | None,
    end: dt.date,
    method: LotMethod = "fifo",
) -> TradingReview:
    """The trading review of the period ``[start, end]`` (``start`` None: since
    the first fill) of every portfolio in ``trades``."""
    trades = trades[trades["date"] <= pd.Timestamp(end)]
    first = pd.Timestamp(start) if start is not None else None
    matched = lots_match(trades, method=method)
    in_period = trades if first is None else trades[trades["date"] >= first]
    fills = fill_slippage(in_period, closes)
    fills["realised_pnl"] = fills["trade"].map(matched.realised_by_trade).astype(np.float64)
    trips = matched.round_trips
    if first is not None:
        trips = trips[trips["closed"] >= first].reset_index(drop=True)

    open_end = unrealised_pnl(matched.open_lots, closes, on=end)
    if first is None:
        open_start = open_end.iloc[0:0]
    else:
        before = trades[trades["date"] < first]
        day_before = (first - pd.Timedelta(days=1)).date()
        open_start = unrealised_pnl(
            lots_match(before, method=method).open_lots, closes, on=day_before
        )

    average = _average_net_assets(net_assets, first=first, last=pd.Timestamp(end))
    summaries = {
        name: _summary(
            keys, fills=fills, trips=trips, end=open_end, start=open_start, average=average
        )
        for name, keys in (
            ("portfolio", ["portfolio"]),
            ("strategy", ["portfolio", "strategy"]),
            ("trader", ["portfolio", "trader"]),
        )
    }
    return TradingReview(
        method=method,
        start=start,
        end=end,
        fills=fills.reset_index(drop=True),
        round_trips=trips,
        open_lots=open_end.reset_index(drop=True),
        by_portfolio=summaries["portfolio"],
        by_strategy=summaries["strategy"],
        by_trader=summaries["trader"],
    )


def _average_net_assets(
    net_assets: pd.DataFrame, *, first: pd.Timestamp | None, last: pd.Timestamp
) -> pd.Series:
    window = net_assets[net_assets["date"] <= last]
    if first is not None:
        window = window[window["date"] >= first]
    return window.groupby("portfolio")["net_assets"].mean().rename("average_net_assets")


def _sum_or_unknown(values: pd.Series, by: list[pd.Series]) -> pd.Series:
    """Sums per group, NaN for a group holding a NaN (an unknown part makes the
    total unknown)."""
    grouped = values.groupby(by)
    return grouped.sum().where(~values.isna().groupby(by).any())


def _summary(
    keys: list[str],
    *,
    fills: pd.DataFrame,
    trips: pd.DataFrame,
    end: pd.DataFrame,
    start: pd.DataFrame,
    average: pd.Series,
) -> pd.DataFrame:
    def by(frame: pd.DataFrame) -> list[pd.Series]:
        return [frame[key] for key in keys]

    pnl = trips["pnl"]
    wins, losses = pnl.where(pnl > 0), pnl.where(pnl < 0)
    buys = fills["side"] == "buy"
    priced = fills["close"].notna()
    parts = {
        "realised_pnl": _sum_or_unknown(pnl, by(trips)),
        "unrealised_end": _sum_or_unknown(end["unrealised_pnl"], by(end)),
        "unrealised_start": _sum_or_unknown(start["unrealised_pnl"], by(start)),
        "round_trips": pnl.groupby(by(trips)).size(),
        "wins": wins.groupby(by(trips)).count(),
        "losses": losses.groupby(by(trips)).count(),
        "mean_win": wins.groupby(by(trips)).mean(),
        "mean_loss": losses.groupby(by(trips)).mean(),
        "weighted_days": (trips["holding_days"] * trips["quantity"]).groupby(by(trips)).sum(),
        "matched_quantity": trips["quantity"].groupby(by(trips)).sum(),
        "bought": _sum_or_unknown(fills["notional"].where(buys, 0.0), by(fills)),
        "sold": _sum_or_unknown(fills["notional"].where(~buys, 0.0), by(fills)),
        "slippage_cost": fills["slippage_cost"].where(priced).groupby(by(fills)).sum(),
        "closed_notional": (fills["close"] * fills["quantity"])
        .where(priced)
        .groupby(by(fills))
        .sum(),
        "priced_fills": priced.groupby(by(fills)).sum(),
    }
    table = pd.concat(parts, axis=1)
    if table.empty:
        return pd.DataFrame(columns=[*keys, *SUMMARY_COLUMNS])
    table.index.names = keys
    counts = ["round_trips", "wins", "losses", "priced_fills"]
    table[counts] = table[counts].fillna(0).astype(np.int64)
    for column in ("realised_pnl", "unrealised_end", "unrealised_start", "bought", "sold"):
        # A group with no row of that kind has nothing of it (0), unlike a NaN sum.
        present = parts[column].reindex(table.index)
        table[column] = present.where(present.index.isin(parts[column].index), 0.0)
    table["unrealised_pnl_change"] = table["unrealised_end"] - table["unrealised_start"]
    table["total_pnl"] = table["realised_pnl"] + table["unrealised_pnl_change"]
    table["hit_rate"] = (table["wins"] / table["round_trips"]).where(table["round_trips"] > 0)
    table["win_loss_ratio"] = table["mean_win"] / -table["mean_loss"]
    table["average_holding_days"] = table["weighted_days"] / table["matched_quantity"]
    table["average_net_assets"] = (
        table.index.get_level_values("portfolio").map(average).to_numpy(dtype=np.float64)
    )
    assets = table["average_net_assets"].where(table["average_net_assets"] > 0)
    table["turnover"] = np.minimum(table["bought"], table["sold"]) / assets
    table["contribution"] = table["total_pnl"] / assets
    table["slippage_bps"] = (table["slippage_cost"] / table["closed_notional"] * 10_000.0).where(
        table["priced_fills"] > 0
    )
    table["slippage_cost"] = table["slippage_cost"].where(table["priced_fills"] > 0)
    return table.reset_index()[[*keys, *SUMMARY_COLUMNS]]
