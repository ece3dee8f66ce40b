"""Frames for the compliance engine, for many portfolios at once.

Holdings, valuations, flows and realised returns come from the shared loader,
:mod:`analytics.selectors.frames` (its module docstring states the definitions and
how compliance treats a gap); this module adds what only compliance needs.

Conventions (see also :mod:`compliance.engine.rules`):

* Holdings are the derived position snapshots of each portfolio (from its trades)
  at the close of its evaluation date; positions reported by other sources are
  reconciled, not evaluated. A holding without a base value (missing FX) cannot be
  weighed: it is left out and counted in ``unvalued`` so results can say so.
* Government securities are fixed-income instruments whose sector starts with
  "Government" (the demo universe's and most vendors' classification).
* Trade legs: each trade of the evaluation date is a security leg (signed
  quantity, base value = quantity × trade price × the base/local ratio of the
  position's valuation) and a cash leg of the opposite value on the cash
  instrument of the trade's currency (``CASH-<ccy>``), as the position derivation
  books it.
* Return histories for VaR rules: instrument daily returns are close-to-close
  changes of ``Price`` converted into the portfolio's base currency (so FX moves
  count, and foreign cash earns them); a price or rate missing on a date is
  carried over at most 5 days so exchanges' different holidays do not empty the
  window, and longer gaps stay missing. The realised
  returns the backtest uses are the shared loader's flow-adjusted (time-weighted)
  daily returns of net assets, flows in the base currency at the flow date's rate,
  measured across valuation gaps exactly as the snapshots measure them
  (:func:`analytics.selectors.frames.returns_across_gaps`): the backtest rule and
  the Risk tab test the same series. An interval that cannot be measured (a flow
  without a rate, no capital) is missing.
* Look-backs are counted in trading days; the calendar span loaded for ``days``
  of them allows ``CALENDAR_DAYS_PER_TRADING_DAY`` calendar days each (a trading
  year of at least 240 sessions, so weekends and up to 20 holidays a year) plus a
  margin, and the frame keeps the last ``days`` rows. ``days × 7 / 5`` alone would
  fall short on any exchange calendar with holidays (about 992 NYSE sessions in
  the span meant for 1,007).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analytics.models import (
    DERIVED_SOURCE,
    AssetClass,
    BenchmarkReturn,
    Instrument,
    IssuerType,
    Portfolio,
    PositionSnapshot,
    Price,
    Trade,
    TradeSide,
)
from analytics.selectors import frames as shared_frames
from analytics.selectors.fx import rate_to_base_latest, rates_to_base
from analytics.services.positions import cash_identifier
from compliance.engine.risk import holdings_returns

HOLDING_COLUMNS = [
    "portfolio",
    "instrument",
    "identifier",
    "market_value_base",
    "quantity",
    "issuer",
    "issuer_group",
    "issuer_type",
    "sector",
    "country",
    "asset_class",
    "currency",
    "shares_outstanding",
    "is_government",
]
PRICE_CARRY_DAYS = 5
CALENDAR_DAYS_PER_TRADING_DAY = 365 / 240
LOOKBACK_MARGIN_DAYS = 30


def lookback_start(*, end: dt.date, trading_days: int) -> dt.date:
    """The first calendar date to load so that ``trading_days`` sessions up to
    ``end`` are covered on any calendar with at least 240 sessions a year."""
    return end - dt.timedelta(
        days=math.ceil(trading_days * CALENDAR_DAYS_PER_TRADING_DAY) + LOOKBACK_MARGIN_DAYS
    )


US_COUNTRY = "US"


def _government(frame: pd.DataFrame) -> pd.Series:
    """Government securities in the sense of the Investment Company Act of 1940,
    §2(a)(16): issued or guaranteed by the United States or its instrumentalities.
    Decided by the instrument's ``issuer_type`` (``government``) and its country
    (ISO code ``US``), never by a sector name: a foreign sovereign or a bank called
    "Government ..." does not qualify for the 75-5-10 basket. The instrument model
    does not tell federal from local issuers, so a US local authority's issue
    marked ``government`` counts too."""
    issuer_type = frame["issuer_type"].fillna("").astype(str)
    country = frame["country"].fillna("").astype(str).str.upper()
    return (issuer_type == IssuerType.GOVERNMENT) & (country == US_COUNTRY)


def instrument_rows(instruments: Iterable[Instrument]) -> dict[int, dict]:
    """Attribute columns of instruments, for legs of instruments not yet held."""
    return {
        i.id: {
            "identifier": i.identifier,
            "issuer": i.issuer,
            "issuer_group": i.issuer_group,
            "issuer_type": i.issuer_type,
            "sector": i.sector,
            "country": i.country,
            "asset_class": i.asset_class,
            "currency": i.currency,
            "shares_outstanding": (
                float(i.shares_outstanding) if i.shares_outstanding is not None else np.nan
            ),
        }
        for i in instruments
    }


def holdings_frame(*, dates: dict[int, dt.date]) -> tuple[pd.DataFrame, dict[int, int]]:
    """Holdings of each portfolio at the close of its date in ``dates``, from the shared
    loader (:func:`analytics.selectors.frames.holdings_frame`).

    Returns the frame (``HOLDING_COLUMNS``) and, per portfolio, the number of holdings
    left out because they have no base value (compliance's treatment of that gap).
    """
    frame = shared_frames.holdings_frame(dates=dates)
    unvalued = frame[frame["market_value_base"].isna()].groupby("portfolio").size().to_dict()
    frame = frame[frame["market_value_base"].notna()].copy()
    frame["is_government"] = _government(frame) if len(frame) else pd.Series(dtype=bool)
    return frame[HOLDING_COLUMNS].reset_index(drop=True), {
        int(k): int(v) for k, v in unvalued.items()
    }


def _base_per_local(portfolio: int, instrument: int, date: dt.date) -> float | None:
    position = (
        PositionSnapshot.objects.filter(
            portfolio_id=portfolio,
            source=DERIVED_SOURCE,
            instrument_id=instrument,
            date__lte=date,
            market_value_base__isnull=False,
            market_value_local__isnull=False,
        )
        .exclude(market_value_local=0)
        .order_by("-date")
        .values_list("market_value_base", "market_value_local")
        .first()
    )
    if position is None or position[0] is None or position[1] is None:
        return None
    return float(position[0] / position[1])


def legs_for_trade(
    *,
    portfolio: Portfolio,
    instrument: Instrument,
    signed_quantity: float,
    price: float,
    currency: str,
    on: dt.date,
    cash: Instrument | None = None,
) -> pd.DataFrame:
    """The security and cash legs of one trade (see the module docstring).

    Raises ``ValueError`` when the trade cannot be valued in the base currency."""
    ratio = _base_per_local(portfolio.id, instrument.id, on)
    if ratio is None:
        ratio = rate_to_base_latest(currency=currency, base=portfolio.base_currency, on=on)
    if ratio is None:
        raise ValueError(f"no FX rate from {currency} to {portfolio.base_currency} on {on}")
    value = signed_quantity * price * ratio
    attributes = instrument_rows([instrument])[instrument.id]
    security = {
        "portfolio": portfolio.id,
        "instrument": instrument.id,
        "market_value_base": value,
        "quantity": signed_quantity,
        **attributes,
    }
    if cash is None:
        cash = Instrument.objects.filter(identifier=cash_identifier(currency)).first()
    cash_leg = {
        "portfolio": portfolio.id,
        "instrument": cash.id if cash else -1,  # an in-memory cash line when none exists yet
        "market_value_base": -value,
        "quantity": -signed_quantity * price,
        "identifier": cash_identifier(currency),
        "issuer": "",
        "issuer_group": "",
        "issuer_type": IssuerType.CORPORATE,
        "sector": "",
        "country": "",
        "asset_class": AssetClass.CASH,
        "currency": currency,
        "shares_outstanding": np.nan,
    }
    frame = pd.DataFrame([security, cash_leg])
    frame["is_government"] = _government(frame)
    return frame[HOLDING_COLUMNS]


def trade_legs_frame(*, dates: dict[int, dt.date]) -> pd.DataFrame:
    """Legs of every trade booked on each portfolio's evaluation date."""
    if not dates:
        return pd.DataFrame(columns=HOLDING_COLUMNS)
    trades = list(
        Trade.objects.filter(
            portfolio_id__in=list(dates), trade_date__in=set(dates.values())
        ).select_related("instrument", "portfolio")
    )
    trades = [t for t in trades if dates.get(t.portfolio_id) == t.trade_date]
    if not trades:
        return pd.DataFrame(columns=HOLDING_COLUMNS)
    cash = {
        i.identifier: i
        for i in Instrument.objects.filter(
            identifier__in={cash_identifier(t.currency) for t in trades}
        )
    }
    legs = []
    for trade in trades:
        if trade.instrument.asset_class == AssetClass.CASH:
            continue  # an FX spot deal moves cash between currencies, not exposures
        signed = float(trade.quantity) * (1 if trade.side == TradeSide.BUY else -1)
        try:
            legs.append(
                legs_for_trade(
                    portfolio=trade.portfolio,
                    instrument=trade.instrument,
                    signed_quantity=signed,
                    price=float(trade.price),
                    currency=trade.currency,
                    on=trade.trade_date,
                    cash=cash.get(cash_identifier(trade.currency)),
                )
            )
        except ValueError:
            continue  # cannot be valued: the day counts as without this trade
    if not legs:
        return pd.DataFrame(columns=HOLDING_COLUMNS)
    return pd.concat(legs, ignore_index=True)


def security_trades(legs: pd.DataFrame) -> pd.DataFrame:
    """The security legs as the engine's ``trades`` frame (``value_base`` signed)."""
    securities = legs[legs["asset_class"] != AssetClass.CASH]
    return pd.DataFrame(
        {
            "portfolio": securities["portfolio"].to_numpy(),
            "instrument": securities["instrument"].to_numpy(),
            "identifier": securities["identifier"].to_numpy(),
            "issuer": securities["issuer"].to_numpy(),
            "value_base": securities["market_value_base"].to_numpy(dtype=float),
        }
    )


def weights_frame(holdings: pd.DataFrame) -> pd.DataFrame:
    """portfolio × instrument weights (fractions of net assets) of a holdings frame."""
    if holdings.empty:
        return pd.DataFrame()
    nav = holdings.groupby("portfolio")["market_value_base"].transform("sum")
    weights = holdings.assign(weight=holdings["market_value_base"] / nav.where(nav > 0))
    return weights.pivot_table(
        index="portfolio", columns="instrument", values="weight", aggfunc="sum", fill_value=0.0
    )


def instrument_returns(
    *, instrument_ids: Iterable[int], end: dt.date, days: int, base: str
) -> pd.DataFrame:
    """Daily returns in ``base`` currency (dates × instrument) over roughly the last
    ``days`` trading days.

    Closes are converted into ``base`` at each date's rate before the change is
    taken, so a foreign holding's return includes the currency move, and a cash
    instrument in another currency earns the currency move (base-currency cash
    earns 0). Closes and rates are carried over at most ``PRICE_CARRY_DAYS``; a
    longer gap, or no rate at all, leaves the return missing (never converted at 1).
    """
    ids = list(set(instrument_ids))
    if not ids:
        return pd.DataFrame()
    start = lookback_start(end=end, trading_days=days + 1)
    rows = Price.objects.filter(instrument_id__in=ids, date__gte=start, date__lte=end).values_list(
        "date", "instrument_id", "close"
    )
    prices = pd.DataFrame.from_records(list(rows), columns=["date", "instrument", "close"])
    if prices.empty:
        return pd.DataFrame()
    prices["close"] = prices["close"].astype(np.float64)
    table = prices.pivot_table(index="date", columns="instrument", values="close", aggfunc="last")
    table = table.sort_index().ffill(limit=PRICE_CARRY_DAYS)
    instruments = Instrument.objects.filter(pk__in=ids)
    currency_of = dict(instruments.values_list("pk", "currency"))
    for pk in instruments.filter(asset_class=AssetClass.CASH).values_list("pk", flat=True):
        table[pk] = 1.0
    foreign = sorted({currency_of[c] for c in table.columns} - {base})
    if foreign:
        rates = rates_to_base(base=base, currencies=foreign, first=start, last=end)
        rates["to_base"] = rates["to_base"].astype(np.float64)
        fx = rates.pivot_table(index="date", columns="currency", values="to_base", aggfunc="last")
        fx = fx.reindex(fx.index.union(table.index)).sort_index().ffill(limit=PRICE_CARRY_DAYS)
        fx = fx.reindex(index=table.index, columns=foreign)
        factor = pd.DataFrame(
            {
                column: fx[currency_of[column]] if currency_of[column] != base else 1.0
                for column in table.columns
            },
            index=table.index,
        )
        table = table * factor
    return table.pct_change(fill_method=None).iloc[1:].tail(days)


def hypothetical_returns(
    *,
    holdings: pd.DataFrame,
    end: dt.date,
    days: int,
    returns_by_base: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Daily base-currency returns of each portfolio's current holdings over the last
    ``days`` days (``returns_by_base``: instrument returns per base currency, loaded
    when not given)."""
    weights = weights_frame(holdings)
    if weights.empty:
        return pd.DataFrame()
    bases = dict(Portfolio.objects.filter(pk__in=weights.index).values_list("pk", "base_currency"))
    parts = []
    for base in sorted(set(bases.values())):
        ids = [p for p in weights.index if bases[p] == base]
        returns = (returns_by_base or {}).get(base)
        if returns is None:
            returns = instrument_returns(
                instrument_ids=weights.columns, end=end, days=days, base=base
            )
        if returns.empty:
            parts.append(pd.DataFrame(columns=ids))
        else:
            parts.append(holdings_returns(weights.loc[ids], returns))
    return pd.concat(parts, axis=1).reindex(columns=weights.index)


def benchmark_returns(*, benchmark_ids: Iterable[int], end: dt.date, days: int) -> pd.DataFrame:
    """Daily benchmark returns (dates × ``benchmark:<code>``)."""
    rows = BenchmarkReturn.objects.filter(
        benchmark_id__in=list(benchmark_ids), date__lte=end
    ).values_list("date", "benchmark__code", "value")
    frame = pd.DataFrame.from_records(list(rows), columns=["date", "code", "value"])
    if frame.empty:
        return pd.DataFrame()
    table = frame.pivot_table(index="date", columns="code", values="value", aggfunc="last")
    table.columns = [f"benchmark:{code}" for code in table.columns]
    return table.sort_index().tail(days)


def realised_returns(*, portfolio_ids: Iterable[int], end: dt.date, days: int) -> pd.DataFrame:
    """Flow-adjusted daily returns of net assets (dates × portfolio), the last ``days``
    measured returns of each portfolio.

    The snapshots' series (:func:`analytics.selectors.frames.returns_across_gaps` over
    :func:`analytics.selectors.frames.portfolio_history`): a return after a valuation
    gap spans it; an interval that cannot be measured is NaN. Rows are
    ``datetime.date`` like the other return frames here; a date on one portfolio's
    calendar and not on another's is NaN for the other.
    """
    start = lookback_start(end=end, trading_days=days + 1)
    history = shared_frames.portfolio_history(portfolio_ids=portfolio_ids, last=end, first=start)
    returns = shared_frames.returns_across_gaps(history)
    if returns.empty:
        return pd.DataFrame()
    # Each portfolio keeps its own last ``days`` returns: on the union of several
    # calendars the last ``days`` rows could hold fewer of one portfolio's.
    returns = returns.groupby("portfolio").tail(days)
    table = returns.pivot_table(
        index="date", columns="portfolio", values="return", aggfunc="first", dropna=False
    )
    table.index = pd.Index(table.index.date, name="date")
    return table
