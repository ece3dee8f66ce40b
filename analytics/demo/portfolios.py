"""The demo's ten portfolios and the simulation of their trading history. Pure
numpy/pandas: the output is frames of trades and cash flows that ``load`` writes.

How a portfolio trades
----------------------
* On its inception day it receives an initial subscription in its base currency
  and runs a buy program into its target weights (equities drawn from its
  eligible universe with a preference for large caps, plus bonds and ETFs for
  the multi-asset portfolios), keeping about 2 % in cash.
* On the first trading day of every month (or quarter) it rebalances: any
  holding more than 8 % away from its target value is traded back to target,
  and at quarterly rebalances one equity may be replaced by another. Some
  rebalance days also bring a subscription or a redemption (−8 % to +12 % of
  the value), always on a rebalance day so that the trades absorb it.
* Trades are executed near that day's close, in whole units, with fees of 5 bp
  of the notional (rounded to cents) in the trade's currency. The execution
  slippage is deterministic (a hash of portfolio, instrument and day, drawing no
  random number): −2 to +8 bp, positive a cost (a buy above the close, a sale
  below it).
* Every equity and bond trade carries a strategy tag: ``rebalance`` for a trade
  that brings a holding back to its target weight, else the holding's sleeve
  (``momentum`` or ``value`` for an equity, by a hash of its identifier;
  ``allocation`` for bonds and ETFs). FX spot deals carry none.
* Buys are sized from the available cash: when skipped small sells would leave
  too little cash, the buys are scaled down, so cash never goes negative.
* Foreign-currency trades are funded by FX spot deals booked as trades of the
  currency's cash instrument (``CASH-EUR`` bought or sold at the day's rate,
  paid in the base currency), which bring the foreign cash back to zero (to
  the cent) on each trading day: a buy in euros is preceded by buying euros.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEMO_SOURCE = "demo"
FEE_RATE = 0.0005
REBALANCE_BAND = 0.08
CASH_TARGET = 0.02
CASH_FLOOR = 0.002  # of the value: what sizing keeps back for fees and rounding
SLIPPAGE_BPS = (-2, 8)  # execution slippage range, positive a cost


@dataclass(frozen=True)
class PortfolioSpec:
    code: str
    name: str
    base_currency: str
    benchmark: str
    inception: dt.date
    strategy: str
    desk: str  # "equity" or "multi_asset": which desk team sees it
    owner: str  # username of the responsible portfolio manager
    equities: int
    rebalance: str  # "M" monthly or "Q" quarterly
    initial: float  # initial subscription in the base currency
    countries: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    bond_weight: float = 0.0
    fund_weight: float = 0.0


# Ordered so that the first few (a small test load) span both desks and all owners.
PORTFOLIOS = [
    PortfolioSpec(
        "EQ-US-GROWTH",
        "US Growth Equity",
        "USD",
        "NASDAQ-COMP",
        dt.date(2013, 1, 15),
        "US large-cap growth: technology, communication, consumer and health care leaders",
        "equity",
        "pm",
        40,
        "M",
        250e6,
        ("US",),
        (
            "Information Technology",
            "Communication Services",
            "Consumer Discretionary",
            "Health Care",
        ),
    ),
    PortfolioSpec(
        "MA-BALANCED-EUR",
        "Balanced Multi-Asset (EUR)",
        "EUR",
        "GLOBAL-60-40",
        dt.date(2013, 4, 2),
        "Global equities, government bonds and ETFs, balanced",
        "multi_asset",
        "pm3",
        30,
        "Q",
        120e6,
        bond_weight=0.30,
        fund_weight=0.10,
    ),
    PortfolioSpec(
        "EQ-EUROPE",
        "European Equity",
        "EUR",
        "GLOBAL-EQ",
        dt.date(2013, 3, 1),
        "Continental European and UK equities, all sectors",
        "equity",
        "pm2",
        45,
        "M",
        180e6,
        ("DE", "FR", "NL", "CH", "GB"),
    ),
    PortfolioSpec(
        "MA-GROWTH-GBP",
        "Multi-Asset Growth (GBP)",
        "GBP",
        "GLOBAL-80-20",
        dt.date(2013, 9, 2),
        "Growth-oriented multi-asset: mostly global equities",
        "multi_asset",
        "pm3",
        40,
        "Q",
        90e6,
        bond_weight=0.15,
        fund_weight=0.10,
    ),
    PortfolioSpec(
        "EQ-US-VALUE",
        "US Value Equity",
        "USD",
        "SP500",
        dt.date(2013, 2, 1),
        "US value: financials, energy, industrials, materials, staples and utilities",
        "equity",
        "pm",
        50,
        "Q",
        300e6,
        ("US",),
        ("Financials", "Energy", "Industrials", "Materials", "Consumer Staples", "Utilities"),
    ),
    PortfolioSpec(
        "EQ-UK-INCOME",
        "UK Equity Income",
        "GBP",
        "GLOBAL-EQ",
        dt.date(2013, 7, 1),
        "UK and European dividend payers",
        "equity",
        "pm2",
        30,
        "Q",
        75e6,
        ("GB", "NL", "FR", "CH"),
    ),
    PortfolioSpec(
        "MA-INCOME-USD",
        "Multi-Asset Income (USD)",
        "USD",
        "GLOBAL-60-40",
        dt.date(2013, 10, 1),
        "Income: defensive equities, government bonds, bond ETFs",
        "multi_asset",
        "pm3",
        25,
        "Q",
        60e6,
        (),
        ("Utilities", "Consumer Staples", "Real Estate", "Health Care", "Financials"),
        bond_weight=0.35,
        fund_weight=0.10,
    ),
    PortfolioSpec(
        "EQ-GLOBAL-QUALITY",
        "Global Quality Equity",
        "USD",
        "GLOBAL-EQ",
        dt.date(2013, 6, 3),
        "Global quality compounders, all regions",
        "equity",
        "pm",
        55,
        "M",
        400e6,
    ),
    PortfolioSpec(
        "EQ-JAPAN",
        "Japan Equity",
        "USD",
        "GLOBAL-EQ",
        dt.date(2013, 11, 1),
        "Japanese equities, unhedged",
        "equity",
        "pm2",
        30,
        "Q",
        50e6,
        ("JP",),
    ),
    PortfolioSpec(
        "MA-CONSERVATIVE-EUR",
        "Conservative Multi-Asset (EUR)",
        "EUR",
        "GLOBAL-60-40",
        dt.date(2013, 12, 2),
        "Capital preservation: bonds first, some equities",
        "multi_asset",
        "pm3",
        25,
        "Q",
        80e6,
        bond_weight=0.45,
        fund_weight=0.10,
    ),
]


def inception_index(calendar: pd.DatetimeIndex, spec: PortfolioSpec) -> int:
    """Position in ``calendar`` of the portfolio's first day: the first trading day
    on or after its inception date, but no later than the middle of the calendar
    (which only matters for the shortened calendars of quick test loads)."""
    return min(int(calendar.searchsorted(pd.Timestamp(spec.inception))), len(calendar) // 2)


def _rebalance_days(calendar: pd.DatetimeIndex, start: int, frequency: str) -> list[int]:
    """Positions in ``calendar`` of the inception day and of the first trading day
    of every later month (``M``) or calendar quarter (``Q``)."""
    periods = calendar.to_period(frequency)
    firsts = np.flatnonzero(np.r_[True, periods[1:] != periods[:-1]])
    return [start, *[int(day) for day in firsts if day > start]]


def _pick(rng, candidates: np.ndarray, caps: np.ndarray, count: int) -> np.ndarray:
    """``count`` candidates drawn without replacement, favouring large caps."""
    count = min(count, len(candidates))
    weights = np.sqrt(np.nan_to_num(caps, nan=1e9))
    return rng.choice(candidates, size=count, replace=False, p=weights / weights.sum())


def _eligible_equities(spec: PortfolioSpec, universe: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the equities the portfolio's mandate allows."""
    eligible = (universe["asset_class"] == "equity").to_numpy().copy()
    if spec.countries:
        eligible &= universe["country"].isin(spec.countries).to_numpy()
    if spec.sectors:
        eligible &= universe["sector"].isin(spec.sectors).to_numpy()
    return eligible


def _target_weights(spec: PortfolioSpec, universe: pd.DataFrame, rng) -> np.ndarray:
    """Target weight of every universe row (zeros for non-holdings); they sum to
    1 − the cash target."""
    equity = (universe["asset_class"] == "equity").to_numpy()
    eligible = _eligible_equities(spec, universe)
    caps = universe["market_cap_usd"].to_numpy()
    chosen = _pick(rng, np.flatnonzero(eligible), caps[eligible], spec.equities)
    if len(chosen) < spec.equities:  # a small universe: top up from any equity
        others = np.setdiff1d(np.flatnonzero(equity), chosen)
        chosen = np.r_[chosen, _pick(rng, others, caps[others], spec.equities - len(chosen))]

    weights = np.zeros(len(universe))
    equity_share = 1.0 - CASH_TARGET - spec.bond_weight - spec.fund_weight
    raw = rng.gamma(4.0, 1.0, len(chosen))
    weights[chosen] = equity_share * raw / raw.sum()

    currency = universe["currency"].to_numpy()
    for asset_class, follows, share in (
        ("fixed_income", None, spec.bond_weight),
        ("fund", "bond", spec.fund_weight / 2),
        ("fund", "equity_index", spec.fund_weight / 2),
    ):
        if share <= 0:
            continue
        mask = (universe["asset_class"] == asset_class).to_numpy()
        if follows == "bond":
            mask = mask & (universe["follows"] == "bond").to_numpy()
        elif follows == "equity_index":
            mask = mask & (universe["follows"] != "bond").to_numpy()
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            continue
        # Prefer instruments in the base currency: they get twice the weight.
        tilt = np.where(currency[rows] == spec.base_currency, 2.0, 1.0)
        weights[rows] += share * tilt / tilt.sum()
    return weights * (1.0 - CASH_TARGET) / weights.sum()


def _slippage_bps(portfolio: str, identifier: str, day: dt.date) -> int:
    """The demo's execution slippage of a trade in basis points (positive a
    cost), from a hash so that it draws no random number."""
    low, high = SLIPPAGE_BPS
    return low + zlib.crc32(f"{portfolio}:{identifier}:{day}".encode()) % (high - low + 1)


def _sleeve(identifier: str, is_equity: bool) -> str:
    """The strategy a holding belongs to (see the module docstring)."""
    if not is_equity:
        return "allocation"
    return ("momentum", "value")[zlib.crc32(identifier.encode()) % 2]


def simulate_portfolio(
    *,
    spec: PortfolioSpec,
    universe: pd.DataFrame,
    closes: np.ndarray,
    usd_per_unit: pd.DataFrame,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trades and cash flows of one portfolio over the demo calendar.

    ``closes`` is days × universe rows (local currency); ``usd_per_unit`` is the
    USD value of one unit of each currency per day. Returns (trades, flows) frames;
    trades name their instrument by ``identifier`` (``CASH-XXX`` for FX deals).
    """
    calendar = usd_per_unit.index
    base = spec.base_currency
    currencies = universe["currency"].to_numpy()
    identifiers = universe["identifier"].to_numpy()
    is_equity = (universe["asset_class"] == "equity").to_numpy()
    eligible = _eligible_equities(spec, universe)
    start = inception_index(calendar, spec)
    weights = _target_weights(spec, universe, rng)

    quantity = np.zeros(len(universe))
    cash: dict[str, float] = {}
    trades: list[tuple] = []
    flows: list[tuple] = []
    days = _rebalance_days(calendar, start, spec.rebalance)
    fx_table = usd_per_unit.to_numpy()
    fx_column = {currency: i for i, currency in enumerate(usd_per_unit.columns)}

    def settle(t: int) -> dt.date:
        return calendar[min(t + 2, len(calendar) - 1)].date()

    for number, t in enumerate(days):
        day = calendar[t].date()
        usd = fx_table[t]
        to_base = usd[[fx_column[c] for c in currencies]] / usd[fx_column[base]]
        price = closes[t]
        unit_value = price * to_base
        nav = float((quantity * unit_value).sum()) + sum(
            amount * usd[fx_column[c]] / usd[fx_column[base]] for c, amount in cash.items()
        )

        amount = 0.0
        if number == 0:
            amount = spec.initial
        elif rng.random() < (0.12 if spec.rebalance == "M" else 0.35):
            amount = round(nav * rng.uniform(-0.08, 0.12), -4)
        if amount:
            kind = "subscription" if amount > 0 else "redemption"
            flows.append((day, amount, base, kind, f"{spec.code}-F{len(flows) + 1:03d}"))
            cash[base] = cash.get(base, 0.0) + amount
            nav += amount

        if number and spec.rebalance == "Q" and rng.random() < 0.5:
            held = np.flatnonzero(is_equity & (weights > 0))
            candidates = np.flatnonzero(eligible & (weights == 0))
            if len(held) and len(candidates):
                dropped, added = rng.choice(held), rng.choice(candidates)
                weights[added], weights[dropped] = weights[dropped], 0.0

        target = np.floor(nav * weights / unit_value)
        delta = target - quantity
        drift = np.abs(delta) * unit_value >= REBALANCE_BAND * nav * weights
        trade = (delta != 0) & ((number == 0) | (weights == 0) | drift)
        sells = trade & (delta < 0)
        buys = trade & (delta > 0)
        worst = SLIPPAGE_BPS[1] / 10_000
        proceeds = float((-delta[sells] * unit_value[sells]).sum()) * (1 - FEE_RATE - worst)
        cost = float((delta[buys] * unit_value[buys]).sum()) * (1 + FEE_RATE + worst)
        cash_value = sum(
            amount * usd[fx_column[c]] / usd[fx_column[base]] for c, amount in cash.items()
        )
        available = cash_value + proceeds - CASH_FLOOR * nav
        if cost > available:
            delta[buys] = np.floor(delta[buys] * max(available, 0.0) / cost)
            buys &= delta > 0

        for row in np.flatnonzero(sells | buys):
            units = abs(float(delta[row]))
            side = "buy" if delta[row] > 0 else "sell"
            slippage = _slippage_bps(spec.code, identifiers[row], day) / 10_000
            fill = round(float(price[row]) * (1 + slippage if side == "buy" else 1 - slippage), 6)
            notional = units * fill
            fees = round(notional * FEE_RATE, 2)
            currency = currencies[row]
            cash[currency] = cash.get(currency, 0.0) + (-notional if side == "buy" else notional)
            cash[currency] -= fees
            rebalancing = number > 0 and weights[row] > 0 and quantity[row] != 0
            strategy = "rebalance" if rebalancing else _sleeve(identifiers[row], is_equity[row])
            quantity[row] += delta[row]
            trades.append(
                (identifiers[row], day, settle(t), side, units, fill, fees, currency, strategy)
            )

        # FX spot deals bring every foreign balance back to (just above) zero.
        for currency in sorted(c for c in cash if c != base):
            rate = round(float(usd[fx_column[currency]] / usd[fx_column[base]]), 6)
            balance = cash[currency]
            if balance < 0:
                units = math.ceil(-balance * 100) / 100
                side = "buy"
            else:
                units = math.floor(balance * 100) / 100
                side = "sell"
            if units <= 0:
                continue
            signed = units if side == "buy" else -units
            cash[currency] += signed
            cash[base] = cash.get(base, 0.0) - signed * rate
            trades.append((f"CASH-{currency}", day, settle(t), side, units, rate, 0.0, base, ""))

    trades_frame = pd.DataFrame(
        trades,
        columns=[
            "identifier",
            "trade_date",
            "settle_date",
            "side",
            "quantity",
            "price",
            "fees",
            "currency",
            "strategy",
        ],
    )
    trades_frame.insert(0, "portfolio", spec.code)
    trades_frame["external_id"] = [f"{spec.code}-T{i + 1:05d}" for i in range(len(trades))]
    flows_frame = pd.DataFrame(flows, columns=["date", "amount", "currency", "kind", "external_id"])
    flows_frame.insert(0, "portfolio", spec.code)
    return trades_frame, flows_frame
