"""A two-for-one split: the quantity doubles on the ex-date, the exchange's
close halves, the value is continuous, a custodian reporting the new quantity
reconciles, and the price scan does not call the halving a spike."""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.engine.quality import trading_sessions
from analytics.models import DERIVED_SOURCE, DataQualityFinding, FindingKind, PositionSnapshot
from analytics.services.corporate_actions import split_record
from analytics.services.positions import (
    cash_instruments_get_or_create,
    portfolio_positions_rebuild,
    position_breaks,
)
from analytics.services.quality import market_data_quality_scan
from tests.analytics.factories import PriceFactory, TradeFactory
from tests.factories import InstrumentFactory

EX_DATE = dt.date(2024, 3, 1)


@pytest.fixture
def split_world(growth):
    stock = InstrumentFactory(identifier="SPLT", currency="USD", exchange="XNYS")
    TradeFactory(
        portfolio=growth,
        instrument=stock,
        trade_date=dt.date(2024, 1, 2),
        quantity=100,
        price=100,
        external_id="S-1",
    )
    for i, day in enumerate(trading_sessions("XNYS", dt.date(2024, 1, 2), dt.date(2024, 3, 28))):
        close = Decimal(100) + (Decimal("0.5") if i % 2 else Decimal("-0.5"))
        if day.date() >= EX_DATE:
            close /= 2
        PriceFactory(instrument=stock, date=day.date(), close=close)
    split_record(instrument=stock, ex_date=EX_DATE, ratio=Decimal(2), source="exchange")
    portfolio_positions_rebuild(portfolio=growth)
    return growth, stock


def derived(portfolio, stock, day):
    return PositionSnapshot.objects.get(
        portfolio=portfolio, instrument=stock, date=day, source=DERIVED_SOURCE
    )


def test_quantity_doubles_and_value_is_continuous(split_world):
    portfolio, stock = split_world
    before = derived(portfolio, stock, dt.date(2024, 2, 29))
    after = derived(portfolio, stock, EX_DATE)
    assert (before.quantity, after.quantity) == (Decimal(100), Decimal(200))
    assert before.market_value_local == Decimal("9950.000000")  # 100 × 99.5
    assert after.market_value_local == Decimal("10050.000000")  # 200 × 50.25 (100.5 ÷ 2)


def test_custodian_with_the_post_split_quantity_reconciles(split_world):
    portfolio, stock = split_world
    cash = cash_instruments_get_or_create(currencies=["USD"])["USD"]
    for instrument, quantity in ((stock, 200), (cash, -10000)):
        PositionSnapshot.objects.create(
            portfolio=portfolio,
            instrument=instrument,
            date=EX_DATE,
            quantity=quantity,
            source="custodian",
        )
    assert position_breaks(portfolio=portfolio, source="custodian") == []


def test_the_split_is_not_a_price_spike(split_world):
    _, stock = split_world
    market_data_quality_scan(instrument_ids=[stock.id], as_of=dt.date(2024, 3, 28))
    assert not DataQualityFinding.objects.filter(kind=FindingKind.PRICE_SPIKE).exists()


def test_recording_the_same_split_twice_changes_nothing(split_world):
    portfolio, stock = split_world
    split_record(instrument=stock, ex_date=EX_DATE, ratio=Decimal(2), source="exchange")
    portfolio_positions_rebuild(portfolio=portfolio)
    assert derived(portfolio, stock, EX_DATE).quantity == Decimal(200)


def test_a_ratio_must_be_positive(split_world):
    _, stock = split_world
    with pytest.raises(ValueError, match="positive"):
        split_record(instrument=stock, ex_date=EX_DATE, ratio=Decimal(0))
