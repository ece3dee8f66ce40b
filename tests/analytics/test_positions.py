"""Deriving daily position snapshots from trades, flows, prices and FX rates.

The story: a USD portfolio gets a 10,000 USD subscription on Tuesday 2 January
2024 and buys 100 AAA at 10 (fee 1). On Wednesday it buys 50 BBB, a euro stock,
at 20 without first buying euros, so its euro cash goes to -1,000. On Thursday it
sells 40 AAA at 12 (fee 1). AAA has no close on Friday, and on Friday there is no
EUR/USD rate either. Thursday's rate is only stored as USD/EUR (the inverse pair).
"""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import AssetClass, Instrument, PositionSnapshot
from analytics.services.positions import (
    portfolio_positions_rebuild,
    position_breaks,
)
from tests.analytics.factories import (
    CashFlowFactory,
    FxRateFactory,
    PriceFactory,
    TradeFactory,
)
from tests.factories import InstrumentFactory, PortfolioFactory

TUE, WED, THU, FRI = (dt.date(2024, 1, day) for day in (2, 3, 4, 5))


@pytest.fixture
def book(db):
    portfolio = PortfolioFactory(code="BOOK", base_currency="USD", inception_date=TUE)
    aaa = InstrumentFactory(identifier="AAA", currency="USD")
    bbb = InstrumentFactory(identifier="BBB", currency="EUR", country="DE", exchange="XETR")
    CashFlowFactory(portfolio=portfolio, date=TUE, amount=Decimal("10000"), currency="USD")
    TradeFactory(
        portfolio=portfolio,
        instrument=aaa,
        trade_date=TUE,
        side="buy",
        quantity=Decimal(100),
        price=Decimal(10),
        fees=Decimal(1),
    )
    TradeFactory(
        portfolio=portfolio,
        instrument=bbb,
        trade_date=WED,
        side="buy",
        quantity=Decimal(50),
        price=Decimal(20),
        fees=Decimal(0),
    )
    TradeFactory(
        portfolio=portfolio,
        instrument=aaa,
        trade_date=THU,
        side="sell",
        quantity=Decimal(40),
        price=Decimal(12),
        fees=Decimal(1),
    )
    for day, close in ((TUE, 10), (WED, 11), (THU, 12)):  # no AAA close on Friday
        PriceFactory(instrument=aaa, date=day, close=Decimal(close))
    for day, close in ((TUE, 20), (WED, 20), (THU, 21), (FRI, 22)):
        PriceFactory(instrument=bbb, date=day, close=Decimal(close))
    FxRateFactory(date=WED, base_currency="EUR", quote_currency="USD", rate=Decimal("1.1"))
    FxRateFactory(date=THU, base_currency="USD", quote_currency="EUR", rate=Decimal("0.8"))
    return portfolio


def _rows(portfolio):
    def number(value):
        return None if value is None else Decimal(value).normalize()

    return {
        (row.date, row.instrument.identifier): (
            number(row.quantity),
            number(row.price),
            number(row.market_value_local),
            number(row.market_value_base),
        )
        for row in PositionSnapshot.objects.filter(
            portfolio=portfolio, source="derived"
        ).select_related("instrument")
    }


def D(value):
    return Decimal(value).normalize()


EXPECTED = {
    (TUE, "AAA"): (D(100), D(10), D(1000), D(1000)),
    (TUE, "CASH-USD"): (D(8999), D(1), D(8999), D(8999)),
    (WED, "AAA"): (D(100), D(11), D(1100), D(1100)),
    (WED, "BBB"): (D(50), D(20), D(1000), D(1100)),  # EUR/USD 1.1, direct pair
    (WED, "CASH-USD"): (D(8999), D(1), D(8999), D(8999)),
    (WED, "CASH-EUR"): (D(-1000), D(1), D(-1000), D(-1100)),
    (THU, "AAA"): (D(60), D(12), D(720), D(720)),
    (THU, "BBB"): (D(50), D(21), D(1050), D("1312.5")),  # 1 / 0.8, inverse pair
    (THU, "CASH-USD"): (D(9478), D(1), D(9478), D(9478)),
    (THU, "CASH-EUR"): (D(-1000), D(1), D(-1000), D(-1250)),
    (FRI, "AAA"): (D(60), None, None, None),  # no close: values NULL, not carried
    (FRI, "BBB"): (D(50), D(22), D(1100), None),  # no EUR/USD rate: base NULL, not 1.0
    (FRI, "CASH-USD"): (D(9478), D(1), D(9478), D(9478)),
    (FRI, "CASH-EUR"): (D(-1000), D(1), D(-1000), None),
}


def test_rebuild_derives_quantities_cash_and_values_for_every_trading_day(book):
    written = portfolio_positions_rebuild(portfolio=book)

    assert written == len(EXPECTED)
    assert _rows(book) == EXPECTED


def test_cash_is_held_in_one_cash_instrument_per_currency(book):
    portfolio_positions_rebuild(portfolio=book)

    cash = Instrument.objects.filter(asset_class=AssetClass.CASH).order_by("identifier")
    assert [(i.identifier, i.currency) for i in cash] == [("CASH-EUR", "EUR"), ("CASH-USD", "USD")]


def test_rebuild_twice_gives_the_same_rows_and_keeps_the_data_version(book):
    portfolio_positions_rebuild(portfolio=book)
    first = _rows(book)
    ids = set(PositionSnapshot.objects.filter(portfolio=book).values_list("pk", flat=True))
    version = book.data_version

    portfolio_positions_rebuild(portfolio=book)

    assert _rows(book) == first
    assert set(PositionSnapshot.objects.filter(portfolio=book).values_list("pk", flat=True)) == ids
    assert book.data_version == version  # nothing changed: nothing to recompute


def test_rebuild_from_a_start_date_keeps_earlier_rows_and_reads_earlier_trades(book):
    portfolio_positions_rebuild(portfolio=book)
    PositionSnapshot.objects.filter(portfolio=book, date=TUE).update(quantity=Decimal(7))

    written = portfolio_positions_rebuild(portfolio=book, start=THU)

    assert written == 8
    rows = _rows(book)
    assert rows[(TUE, "AAA")][0] == 7  # before start: not touched
    assert rows[(THU, "AAA")] == EXPECTED[(THU, "AAA")]  # cumulative from the first trade


def test_closed_positions_are_not_stored(book):
    aaa = Instrument.objects.get(identifier="AAA")
    TradeFactory(
        portfolio=book,
        instrument=aaa,
        trade_date=FRI,
        side="sell",
        quantity=Decimal(60),
        price=Decimal(12),
        fees=Decimal(0),
    )

    portfolio_positions_rebuild(portfolio=book)

    rows = _rows(book)
    assert (FRI, "AAA") not in rows
    assert rows[(FRI, "CASH-USD")][0] == 9478 + 720


def test_a_trade_on_a_weekend_counts_from_the_next_trading_day(book):
    aaa = Instrument.objects.get(identifier="AAA")
    saturday, monday = dt.date(2024, 1, 6), dt.date(2024, 1, 8)
    TradeFactory(
        portfolio=book,
        instrument=aaa,
        trade_date=saturday,
        side="buy",
        quantity=Decimal(5),
        price=Decimal(12),
        fees=Decimal(0),
    )
    PriceFactory(instrument=aaa, date=monday, close=Decimal(13))

    portfolio_positions_rebuild(portfolio=book)

    rows = _rows(book)
    assert not any(day == saturday for day, _ in rows)
    assert rows[(monday, "AAA")] == (D(65), D(13), D(845), D(845))


def test_position_breaks_compare_a_custodian_file_with_the_trades(book):
    aaa = Instrument.objects.get(identifier="AAA")
    bbb = Instrument.objects.get(identifier="BBB")
    for instrument, quantity in ((aaa, 60), (bbb, 45)):  # custodian misses 5 BBB
        PositionSnapshot.objects.create(
            portfolio=book,
            instrument=instrument,
            date=THU,
            quantity=Decimal(quantity),
            source="custodian",
        )

    breaks = position_breaks(portfolio=book, date=THU)

    found = {(b.instrument_id, b.expected, b.reported) for b in breaks}
    cash_usd = Instrument.objects.get(identifier="CASH-USD")
    cash_eur = Instrument.objects.get(identifier="CASH-EUR")
    assert found == {
        (bbb.id, Decimal(50), Decimal(45)),
        # cash was not reported at all: expected balances against zero
        (cash_usd.id, Decimal(9478), Decimal(0)),
        (cash_eur.id, Decimal(-1000), Decimal(0)),
    }
    assert all(b.source == "custodian" for b in breaks)


def test_an_fx_spot_trade_in_a_cash_instrument_moves_cash_between_currencies(book):
    # Before buying BBB on Wednesday, the desk buys 1,000 EUR at 1.1 USD each.
    cash_eur = Instrument.objects.create(
        identifier="CASH-EUR",
        name="EUR cash",
        issuer="Cash",
        asset_class=AssetClass.CASH,
        currency="EUR",
    )
    TradeFactory(
        portfolio=book,
        instrument=cash_eur,
        trade_date=WED,
        side="buy",
        quantity=Decimal(1000),
        price=Decimal("1.1"),
        currency="USD",
    )

    portfolio_positions_rebuild(portfolio=book)

    rows = _rows(book)
    assert (WED, "CASH-EUR") not in rows  # +1,000 bought, -1,000 paid for BBB
    assert rows[(WED, "CASH-USD")] == (D(7899), D(1), D(7899), D(7899))


def test_a_reconciled_custodian_file_has_no_breaks(book):
    for identifier, quantity in (("AAA", 60), ("BBB", 50), ("CASH-USD", 9478), ("CASH-EUR", -1000)):
        instrument = Instrument.objects.filter(identifier=identifier).first() or InstrumentFactory(
            identifier=identifier, asset_class=AssetClass.CASH, currency=identifier[-3:]
        )
        PositionSnapshot.objects.create(
            portfolio=book,
            instrument=instrument,
            date=THU,
            quantity=Decimal(quantity),
            source="custodian",
        )

    assert position_breaks(portfolio=book) == []
