"""Positions on a trade-date and a settle-date basis, and reconciliation that compares
like with like.

The story: a USD portfolio gets a 10,000 USD subscription on Monday 8 January 2024.
On Monday it buys 100 AAA at 10 (settling Wednesday 10th, T+2); on Tuesday it buys
50 BBB at 20 (settling Thursday 11th). At Tuesday's close, by hand:

* trade-date basis: AAA 100, BBB 50, cash 10,000 − 1,000 − 1,000 = 8,000;
* settle-date basis: nothing has settled yet, so AAA 0, BBB 0, cash 10,000.

By Thursday's close both trades have settled and the two bases agree: AAA 100,
BBB 50, cash 8,000.
"""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import (
    DataQualityFinding,
    FindingKind,
    Instrument,
    PositionBasis,
    PositionSnapshot,
    PositionSource,
    Severity,
)
from analytics.services.positions import (
    cash_instruments_get_or_create,
    portfolio_positions_on,
    position_breaks,
    position_source_basis,
)
from analytics.services.quality import portfolio_quality_scan
from tests.analytics.factories import CashFlowFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

MON, TUE, WED, THU = (dt.date(2024, 1, day) for day in (8, 9, 10, 11))


@pytest.fixture
def book(db):
    portfolio = PortfolioFactory(code="SETTLE", base_currency="USD", inception_date=MON)
    aaa = InstrumentFactory(identifier="AAA", currency="USD")
    bbb = InstrumentFactory(identifier="BBB", currency="USD")
    cash_instruments_get_or_create(currencies=["USD"])
    CashFlowFactory(portfolio=portfolio, date=MON, amount=Decimal(10000), currency="USD")
    TradeFactory(
        portfolio=portfolio,
        instrument=aaa,
        trade_date=MON,
        settle_date=WED,
        quantity=Decimal(100),
        price=Decimal(10),
    )
    TradeFactory(
        portfolio=portfolio,
        instrument=bbb,
        trade_date=TUE,
        settle_date=THU,
        quantity=Decimal(50),
        price=Decimal(20),
    )
    return portfolio


def _ids():
    return {name: Instrument.objects.get(identifier=name).id for name in ("AAA", "BBB", "CASH-USD")}


def _report(portfolio, source, day, quantities):
    ids = _ids()
    for name, quantity in quantities.items():
        PositionSnapshot.objects.create(
            portfolio=portfolio,
            instrument_id=ids[name],
            date=day,
            quantity=Decimal(quantity),
            source=source,
        )


def test_positions_are_derived_on_either_basis(book):
    traded = portfolio_positions_on(portfolio=book, date=TUE, basis=PositionBasis.TRADE_DATE)
    settled = portfolio_positions_on(portfolio=book, date=TUE, basis=PositionBasis.SETTLE_DATE)
    ids = _ids()

    assert traded == {ids["AAA"]: Decimal(100), ids["BBB"]: Decimal(50), ids["CASH-USD"]: 8000}
    assert settled == {ids["CASH-USD"]: Decimal(10000)}
    after_settlement = {
        basis: portfolio_positions_on(portfolio=book, date=THU, basis=basis)
        for basis in PositionBasis.values
    }
    assert after_settlement[PositionBasis.TRADE_DATE] == traded
    assert after_settlement[PositionBasis.SETTLE_DATE] == traded


def test_a_source_states_its_basis_and_an_unregistered_one_is_trade_date(book):
    PositionSource.objects.create(name="custodian", basis=PositionBasis.SETTLE_DATE)

    assert position_source_basis("custodian") == PositionBasis.SETTLE_DATE
    assert position_source_basis("administrator") == PositionBasis.TRADE_DATE


def test_a_settle_date_custodian_reconciles_with_settled_trades(book):
    PositionSource.objects.create(name="custodian", basis=PositionBasis.SETTLE_DATE)
    # Tuesday: the custodian holds only the subscription's cash; nothing has settled.
    _report(book, "custodian", TUE, {"CASH-USD": 10000})

    assert position_breaks(portfolio=book, source="custodian") == []


def test_a_settlement_timing_difference_is_told_apart_from_a_true_break(book):
    # A trade-date administrator on Tuesday misses Monday's AAA purchase (it only
    # books it once settled) and has 45 BBB where the trades give 50.
    _report(book, "administrator", TUE, {"AAA": 0, "BBB": 45, "CASH-USD": 8000})

    breaks = {b.instrument_id: b for b in position_breaks(portfolio=book, date=TUE)}
    ids = _ids()

    assert set(breaks) == {ids["AAA"], ids["BBB"]}
    aaa, bbb = breaks[ids["AAA"]], breaks[ids["BBB"]]
    # AAA: 100 on a trade-date basis, 0 reported = the settle-date quantity.
    assert (aaa.basis, aaa.expected, aaa.reported) == (PositionBasis.TRADE_DATE, 100, 0)
    assert aaa.other_basis_expected == 0 and aaa.settlement_timing
    # BBB: 50 expected, 45 reported, 0 on a settle-date basis: neither basis explains it.
    assert (bbb.expected, bbb.reported, bbb.other_basis_expected) == (50, 45, 0)
    assert not bbb.settlement_timing


def test_the_quality_scan_files_timing_apart_from_true_breaks(book):
    _report(book, "administrator", TUE, {"AAA": 0, "BBB": 45, "CASH-USD": 8000})

    portfolio_quality_scan(portfolio=book, as_of=THU)

    [timing] = DataQualityFinding.objects.filter(kind=FindingKind.SETTLEMENT_TIMING)
    [true_break] = DataQualityFinding.objects.filter(kind=FindingKind.POSITION_BREAK)
    assert timing.instrument.identifier == "AAA" and timing.severity == Severity.INFO
    assert "settlement timing only" in timing.message
    assert timing.details["settlement_timing"] is True
    assert true_break.instrument.identifier == "BBB" and true_break.severity == Severity.ERROR
    assert true_break.details["difference"] == "-5.000000"
