"""Daily position snapshots derived from the trade history, and their reconciliation.

Conventions of ``portfolio_positions_rebuild`` (source ``"derived"``):

* **Calendar.** A snapshot is written for every *trading day*: every date on which
  at least one of the portfolio's traded (non-cash) instruments has a price, from
  the first trade or cash flow up to the latest such price date. A trade or flow
  dated on a non-trading day (a weekend, a holiday) counts from the next trading
  day on; one dated after the latest price date is not yet reflected. A portfolio
  with flows but no priced instruments is snapshotted on its flow dates only.
* **Quantity** of a security is the cumulative signed trade quantity (buys
  positive, sells negative) by *trade* date, not settle date: the stored derived
  positions are on a trade-date basis. ``portfolio_positions_on`` derives them on
  either basis (on the settle-date basis a trade's security and cash legs move on
  its settle date), and ``position_breaks`` compares each reported source on the
  basis it reports (``PositionSource``).
* **Cash** is held as one cash instrument per currency (asset class ``cash``,
  identifier ``CASH-<ISO>``, price 1, created on demand). Its balance is the sum of
  the external flows in that currency (``CashFlow.amount``: + subscription,
  − redemption) − buy notional − fees + sell notional − fees of the trades settled
  in that currency, by trade date. A trade *in a cash instrument* is an FX spot
  deal: its quantity is added to that currency's cash and its notional and fees
  are paid in the trade's currency.
* **Exactness.** Quantities, cash, notionals and market values are summed and
  multiplied as ``Decimal`` (pandas object columns), then rounded half-even to
  the 6 decimal places of the columns, so a snapshot reconciles with the trades
  to the last stored digit.
* **Price** is the close on that exact date, and the local market value is in
  the currency of that close (the instrument's currency). Nothing is carried forward: when an
  instrument has no close on a date, ``price``, ``market_value_local`` and
  ``market_value_base`` of that row are NULL (the quantity is still stored). When
  several sources have a close for the same instrument and date, the source that
  sorts first is used, so the result is deterministic.
* **FX.** ``market_value_base = market_value_local × rate(local → base)`` where
  the rate on that exact date comes from the direct pair (``FxRate`` base=local,
  quote=base: multiply) or else the inverse pair (base=base, quote=local: divide).
  There is no triangulation through a third currency and no carry-forward; with no
  rate the base value is NULL, never a silent 1.0. The same currency converts at 1.
* **Splits** (``CorporateAction``, kind ``split``): from the ex-date on, the
  quantity held the evening before is multiplied by the ratio (2 for two-for-one);
  prices stay as the exchange printed them, so the market value is continuous.
  Trades keep the quantities they were booked with.
* Zero quantities (a closed position, a cash balance of exactly zero) are not stored.

The rebuild owns the rows with ``source="derived"`` of one portfolio from
``start`` onwards. It compares what it derives with what is stored, in one
transaction: rows that differ or are gone are deleted, rows that differ or are
new are inserted, and only then is ``Portfolio.data_version`` moved on (and the
change announced, which queues the snapshot of the new key). A rebuild that
derives exactly the stored rows writes nothing, keeps the version and queues
nothing. Snapshots of any other source (custodian or administrator files, ...)
are left alone; ``position_breaks`` compares them with the trade history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd
from django.db import transaction

from analytics.ingest.bulk_insert import bulk_insert_values
from analytics.models import (
    DERIVED_SOURCE,
    AssetClass,
    CashFlow,
    CorporateAction,
    CorporateActionKind,
    Instrument,
    Portfolio,
    PositionBasis,
    PositionSnapshot,
    PositionSource,
    Price,
    Trade,
    TradeSide,
)
from analytics.selectors.fx import rates_to_base
from analytics.services.versions import (
    portfolio_data_changed_announce,
    portfolio_data_changed_mark,
)

_MICRO = Decimal("0.000001")
_ZERO = Decimal(0)
_ONE = Decimal(1)


def cash_identifier(currency: str) -> str:
    """Identifier of the cash instrument that holds a currency, e.g. ``CASH-USD``."""
    return f"CASH-{currency.upper()}"


def cash_instruments_get_or_create(*, currencies) -> dict[str, Instrument]:
    """The cash instrument of each currency (asset class ``cash``, price 1), created
    on first use. Returns ``{currency: Instrument}``."""
    result = {}
    for currency in sorted(set(currencies)):
        instrument, _ = Instrument.objects.get_or_create(
            identifier=cash_identifier(currency),
            defaults={
                "name": f"{currency} cash",
                "issuer": "Cash",
                "sector": "",
                "asset_class": AssetClass.CASH,
                "currency": currency,
            },
        )
        result[currency] = instrument
    return result


def _quantize(value):
    return value.quantize(_MICRO, rounding=ROUND_HALF_EVEN)


def _holding_events(
    *, portfolio: Portfolio, basis: str = PositionBasis.TRADE_DATE
) -> tuple[pd.DataFrame, dict[int, str], set[int]]:
    """Every change to a holding as rows ``(date, instrument_id, delta)`` with an
    exact ``Decimal`` delta: trade quantities, the cash legs of trades, and flows.

    On the trade-date ``basis`` a trade's security and cash legs are dated on its
    trade date; on the settle-date basis both on its settle date (delivery versus
    payment). Flows have one date on either basis.

    Returns the events, the currency of every instrument involved and the ids of
    the cash instruments among them.
    """
    trades = pd.DataFrame.from_records(
        Trade.objects.filter(portfolio=portfolio).values_list(
            "instrument_id",
            "instrument__asset_class",
            "settle_date" if basis == PositionBasis.SETTLE_DATE else "trade_date",
            "side",
            "quantity",
            "price",
            "fees",
            "currency",
        ),
        columns=[
            "instrument_id",
            "asset_class",
            "date",
            "side",
            "quantity",
            "price",
            "fees",
            "currency",
        ],
    )
    flows = pd.DataFrame.from_records(
        CashFlow.objects.filter(portfolio=portfolio).values_list("date", "amount", "currency"),
        columns=["date", "amount", "currency"],
    )
    traded_cash_currencies = set(
        Instrument.objects.filter(
            id__in=set(trades["instrument_id"]), asset_class=AssetClass.CASH
        ).values_list("currency", flat=True)
    )
    cash = cash_instruments_get_or_create(
        currencies=set(trades["currency"]) | set(flows["currency"]) | traded_cash_currencies
    )
    cash_ids = {instrument.id for instrument in cash.values()}
    currency_of = {instrument.id: currency for currency, instrument in cash.items()}
    currency_of.update(
        Instrument.objects.filter(id__in=set(trades["instrument_id"])).values_list("id", "currency")
    )

    signed_quantity = trades["quantity"].where(trades["side"] == TradeSide.BUY, -trades["quantity"])
    # Notional is exact in Decimal; the cash leg pays notional and fees in the trade currency.
    cash_leg = -(signed_quantity * trades["price"]) - trades["fees"]
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": trades["date"],
                    "instrument_id": trades["instrument_id"],
                    "delta": signed_quantity,
                }
            ),
            pd.DataFrame(
                {
                    "date": trades["date"],
                    "instrument_id": trades["currency"].map(lambda c: cash[c].id),
                    "delta": cash_leg,
                }
            ),
            pd.DataFrame(
                {
                    "date": flows["date"],
                    "instrument_id": flows["currency"].map(lambda c: cash[c].id),
                    "delta": flows["amount"],
                }
            ),
        ],
        ignore_index=True,
    )
    events["delta"] = events["delta"].astype(object)
    events["instrument_id"] = events["instrument_id"].astype("int64")
    events = _with_split_events(events)
    return events, currency_of, cash_ids


def _with_split_events(events: pd.DataFrame) -> pd.DataFrame:
    """Add one event per split of a held instrument: on the ex-date the quantity
    held the evening before becomes ``ratio`` times as much (delta = held × (ratio
    − 1)), so quantity × the exchange's unadjusted close stays continuous."""
    if events.empty:
        return events
    splits = (
        CorporateAction.objects.filter(
            kind=CorporateActionKind.SPLIT, instrument_id__in=set(events["instrument_id"])
        )
        .order_by("instrument_id", "ex_date", "source")
        .values_list("instrument_id", "ex_date", "ratio")
    )
    extra: list[tuple[int, Date, Decimal]] = []  # (instrument id, ex-date, quantity added)
    seen: set[tuple[int, Date]] = set()
    for instrument_id, ex_date, ratio in splits:
        if (instrument_id, ex_date) in seen:
            continue  # the same split from two sources counts once
        seen.add((instrument_id, ex_date))
        mine = events["instrument_id"] == instrument_id
        before = events.loc[mine & (events["date"] < ex_date), "delta"]
        held = sum(before, _ZERO) + sum(
            (delta for i, day, delta in extra if i == instrument_id and day < ex_date), _ZERO
        )
        if held:
            extra.append((instrument_id, ex_date, held * (ratio - _ONE)))
    if not extra:
        return events
    added = pd.DataFrame(extra, columns=["instrument_id", "date", "delta"])
    added["delta"] = added["delta"].astype(object)
    events = pd.concat([events, added[["date", "instrument_id", "delta"]]], ignore_index=True)
    events["instrument_id"] = events["instrument_id"].astype("int64")
    return events


def _closes(*, instrument_ids, start: Date) -> pd.DataFrame:
    """Closes ``(instrument_id, date, close, currency)``, one per instrument and date
    (the source sorting first wins)."""
    closes = pd.DataFrame.from_records(
        Price.objects.filter(instrument_id__in=instrument_ids, date__gte=start)
        .order_by("instrument_id", "date", "source")
        .values_list("instrument_id", "date", "close", "currency"),
        columns=["instrument_id", "date", "close", "currency"],
    )
    # Typed even when empty, so that merging on it works with no price at all.
    closes = closes.astype({"instrument_id": "int64"})
    return closes.drop_duplicates(["instrument_id", "date"], keep="first")


def _snapshot_frame(*, portfolio: Portfolio, start: Date | None) -> pd.DataFrame:
    """The derived snapshots of a portfolio as a frame (one row per stored snapshot)."""
    columns = [
        "date",
        "instrument_id",
        "quantity",
        "price",
        "market_value_local",
        "market_value_base",
    ]
    events, currency_of, cash_ids = _holding_events(portfolio=portfolio)
    if events.empty:
        return pd.DataFrame(columns=columns)
    first_event = events["date"].min()
    securities = sorted(set(events["instrument_id"]) - cash_ids)
    closes = _closes(instrument_ids=securities, start=first_event)
    if closes.empty:
        calendar = np.array(sorted(set(events["date"])), dtype=object)
    else:
        calendar = np.array(sorted(set(closes["date"])), dtype=object)

    # Each event counts from the first trading day on or after its date.
    position = np.searchsorted(calendar, events["date"].to_numpy(), side="left")
    events = events.assign(position=position)[position < len(calendar)]
    if events.empty:
        return pd.DataFrame(columns=columns)
    holdings = (
        events.pivot_table(
            index="position",
            columns="instrument_id",
            values="delta",
            aggfunc="sum",
            fill_value=_ZERO,
        )
        .reindex(range(len(calendar)), fill_value=_ZERO)
        .cumsum()
    )
    long = (
        holdings.rename_axis(index="position")
        .reset_index()
        .melt(id_vars="position", var_name="instrument_id", value_name="quantity")
    )
    long["date"] = calendar[long["position"].to_numpy()]
    long = long[long["quantity"] != 0]
    if start is not None:
        long = long[long["date"] >= start]
    long["quantity"] = long["quantity"].map(_quantize)
    long = long[long["quantity"] != 0]

    is_cash = long["instrument_id"].isin(cash_ids)
    long = long.merge(
        closes[["instrument_id", "date", "close", "currency"]],
        on=["instrument_id", "date"],
        how="left",
    )
    long["price"] = long["close"].astype(object).where(~is_cash.to_numpy(), _ONE)
    long["price"] = long["price"].where(long["price"].notna(), None)
    instrument_currency = long["instrument_id"].map(currency_of)
    long["currency"] = long["currency"].where(long["currency"].notna(), instrument_currency)

    has_price = long["price"].notna()
    long["market_value_local"] = None
    long.loc[has_price, "market_value_local"] = [
        _quantize(quantity * price)
        for quantity, price in zip(
            long.loc[has_price, "quantity"], long.loc[has_price, "price"], strict=True
        )
    ]

    base = portfolio.base_currency
    rates = rates_to_base(
        base=base,
        currencies=set(long["currency"]),
        first=long["date"].min() if len(long) else first_event,
        last=long["date"].max() if len(long) else first_event,
    )
    long = long.merge(rates, on=["date", "currency"], how="left")
    long.loc[long["currency"] == base, "to_base"] = _ONE
    convertible = long["market_value_local"].notna() & long["to_base"].notna()
    long["market_value_base"] = None
    long.loc[convertible, "market_value_base"] = [
        _quantize(value * rate)
        for value, rate in zip(
            long.loc[convertible, "market_value_local"],
            long.loc[convertible, "to_base"],
            strict=True,
        )
    ]
    long = long[columns].astype(object)
    # Missing values must reach the database as NULL (PostgreSQL would store a
    # float NaN as the numeric 'NaN').
    return long.where(long.notna(), None)


# Ids per DELETE statement: well under SQLite's 32,766 bound parameters.
_DELETE_CHUNK = 10_000

# A derived snapshot: its key (date, instrument id) and its values, in this order.
_VALUE_COLUMNS = ("quantity", "price", "market_value_local", "market_value_base")
_Key = tuple[Date, int]
_Values = tuple[Decimal, Decimal | None, Decimal | None, Decimal | None]


@transaction.atomic
def portfolio_positions_rebuild(
    *, portfolio: Portfolio, start: Date | None = None, inputs_changed: bool = False
) -> int:
    """Re-derive the daily ``source="derived"`` snapshots of ``portfolio`` from its
    trades, external cash flows, prices and FX rates (conventions in the module
    docstring) and bring the stored ones dated ``start`` or later (all of them
    when ``start`` is None) in line, writing only the rows that differ. When any
    row changed, bumps ``portfolio.data_version`` and announces it; when none did,
    keeps the version and announces nothing, unless ``inputs_changed``: the
    caller moved the version on before without announcing it (an import whose
    rebuild this is, see ``analytics.services.versions``), so the rebuild
    announces that version. Returns the number of derived snapshots dated
    ``start`` or later.

    History before ``start`` is still read, because quantities are cumulative.
    Concurrent rebuilds of one portfolio are serialised by a row lock on it
    (on SQLite the IMMEDIATE transaction already serialises writers). Values are
    compared as decimals, so ``1.5`` and ``1.500000`` are the same value.
    """
    Portfolio.objects.select_for_update().filter(pk=portfolio.pk).first()
    snapshots = _snapshot_frame(portfolio=portfolio, start=start)
    wanted: dict[_Key, _Values] = {
        (day, int(instrument_id)): (quantity, price, local, base)
        for day, instrument_id, quantity, price, local, base in snapshots.itertuples(
            index=False, name=None
        )
    }
    stored = PositionSnapshot.objects.filter(portfolio=portfolio, source=DERIVED_SOURCE)
    if start is not None:
        stored = stored.filter(date__gte=start)
    kept: set[_Key] = set()
    stale_ids: list[int] = []
    for pk, day, instrument_id, *values in stored.values_list(
        "pk", "date", "instrument_id", *_VALUE_COLUMNS
    ):
        if wanted.get((day, instrument_id)) == tuple(values):
            kept.add((day, instrument_id))
        else:
            stale_ids.append(pk)
    for first in range(0, len(stale_ids), _DELETE_CHUNK):
        PositionSnapshot.objects.filter(pk__in=stale_ids[first : first + _DELETE_CHUNK]).delete()
    written = bulk_insert_values(
        PositionSnapshot,
        [
            "portfolio",
            "instrument",
            "date",
            "quantity",
            "price",
            "market_value_local",
            "market_value_base",
            "source",
        ],
        (
            (portfolio.pk, instrument_id, day, *values, DERIVED_SOURCE)
            for (day, instrument_id), values in wanted.items()
            if (day, instrument_id) not in kept
        ),
    )
    if stale_ids or written:
        portfolio_data_changed_mark(portfolio_ids=[portfolio.pk])
    elif inputs_changed:
        portfolio_data_changed_announce(portfolio_ids=[portfolio.pk])
    portfolio.refresh_from_db(fields=["data_version"])
    return len(wanted)


def _holdings_by_date(events: pd.DataFrame) -> pd.DataFrame:
    """Holdings after each event date: dates × instruments, cumulative ``Decimal``."""
    if events.empty:
        return pd.DataFrame()
    return (
        events.pivot_table(
            index="date", columns="instrument_id", values="delta", aggfunc="sum", fill_value=_ZERO
        )
        .sort_index()
        .cumsum()
    )


def _holdings_on(holdings: pd.DataFrame, day: Date) -> pd.Series:
    """The holdings at the close of ``day`` (events dated on or before it)."""
    known = holdings[holdings.index <= day] if len(holdings) else holdings
    return known.iloc[-1] if len(known) else pd.Series(dtype=object)


def portfolio_positions_on(
    *, portfolio: Portfolio, date: Date, basis: str = PositionBasis.TRADE_DATE
) -> dict[int, Decimal]:
    """The quantity of every instrument held at the close of ``date`` on the trade-date
    or settle-date ``basis`` (securities and cash, splits applied; zeros left out),
    from the trades and flows: the positions a source reporting on that basis
    should show."""
    events, _, _ = _holding_events(portfolio=portfolio, basis=basis)
    held = _holdings_on(_holdings_by_date(events), date)
    return {
        int(instrument_id): _quantize(quantity)
        for instrument_id, quantity in held.items()
        if _quantize(quantity) != _ZERO
    }


def position_source_basis(source: str) -> str:
    """The basis a reported position source counts trades on (its
    :class:`~analytics.models.PositionSource` row; trade date when it has none)."""
    basis = PositionSource.objects.filter(name=source).values_list("basis", flat=True).first()
    return basis or PositionBasis.TRADE_DATE


@dataclass(frozen=True)
class PositionBreak:
    """A stored (non-derived) holding that disagrees with the trade history on the
    source's ``basis``.

    ``other_basis_expected`` is the quantity on the other basis (settle date for a
    trade-date source and vice versa). When the reported quantity equals it, the
    difference is only settlement timing (trades done but not yet settled, or the
    source counting them on the other basis): ``settlement_timing`` is true.
    Otherwise it is a true break.
    """

    date: Date
    instrument_id: int
    source: str
    expected: Decimal
    reported: Decimal
    basis: str = PositionBasis.TRADE_DATE
    other_basis_expected: Decimal | None = None

    @property
    def difference(self) -> Decimal:
        return self.reported - self.expected

    @property
    def settlement_timing(self) -> bool:
        return self.other_basis_expected is not None and self.reported == self.other_basis_expected


def position_breaks(
    *, portfolio: Portfolio, date: Date | None = None, source: str | None = None
) -> list[PositionBreak]:
    """Compare the quantities reported by every non-derived source (or by
    ``source``) with those implied by the trades and flows, on every reported
    date (or on ``date`` only), like with like: each source on its own basis
    (:func:`position_source_basis`, trade date unless the source is registered
    as settle date).

    The expected quantity of an instrument on a date is the cumulative signed
    trade quantity (cash: flows and trade cash legs) of events dated on or before
    it, on the source's basis. An instrument expected but not reported counts as
    reported zero, and vice versa. Each break also carries the quantity on the
    other basis, which tells a settlement-timing difference from a true break
    (:class:`PositionBreak`). Returns the breaks ordered by date, source and
    instrument. (Like the rebuild, it creates a missing ``CASH-<ISO>`` instrument
    for a currency that the trades or flows use.)
    """
    reported = PositionSnapshot.objects.filter(portfolio=portfolio).exclude(source=DERIVED_SOURCE)
    if source is not None:
        reported = reported.filter(source=source)
    if date is not None:
        reported = reported.filter(date=date)
    reported = pd.DataFrame.from_records(
        reported.values_list("date", "source", "instrument_id", "quantity"),
        columns=["date", "source", "instrument_id", "reported"],
    )
    if reported.empty:
        return []
    holdings = {
        basis: _holdings_by_date(_holding_events(portfolio=portfolio, basis=basis)[0])
        for basis in PositionBasis.values
    }
    bases = {name: position_source_basis(name) for name in reported["source"].unique()}
    breaks = []
    for (day, day_source), rows in reported.groupby(["date", "source"], sort=True):
        basis = bases[day_source]
        other = next(b for b in PositionBasis.values if b != basis)
        expected_today = _holdings_on(holdings[basis], day)
        other_today = _holdings_on(holdings[other], day)
        reported_today = rows.set_index("instrument_id")["reported"]
        instruments = sorted(set(expected_today.index) | set(reported_today.index))
        for instrument_id in instruments:
            want = _quantize(expected_today.get(instrument_id, _ZERO))
            got = reported_today.get(instrument_id, _ZERO)
            if want != got:
                breaks.append(
                    PositionBreak(
                        date=day,
                        instrument_id=int(instrument_id),
                        source=day_source,
                        expected=want,
                        reported=got,
                        basis=basis,
                        other_basis_expected=_quantize(other_today.get(instrument_id, _ZERO)),
                    )
                )
    return breaks
