"""Missing data is a finding, never a silent number: a euro holding in a dollar
portfolio with no EUR/USD rate is not valued (and not converted at 1), and a
holding with no price at all is reported, not skipped."""

import datetime as dt
from decimal import Decimal

from analytics.models import DataQualityFinding, FindingKind, PortfolioDataStatus, PositionSnapshot
from analytics.services.positions import portfolio_positions_rebuild
from analytics.services.quality import portfolio_quality_scan
from tests.analytics.factories import FxRateFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory

DAY = dt.date(2024, 1, 2)


def test_missing_fx_is_a_finding_and_the_value_stays_empty(growth):
    sap = InstrumentFactory(identifier="SAP.DE", currency="EUR", exchange="XETR")
    TradeFactory(portfolio=growth, instrument=sap, trade_date=DAY, quantity=10, price=100)
    PriceFactory(instrument=sap, date=DAY, close=Decimal(101))
    portfolio_positions_rebuild(portfolio=growth)
    portfolio_quality_scan(portfolio=growth, as_of=DAY)

    position = PositionSnapshot.objects.get(portfolio=growth, instrument=sap, date=DAY)
    assert position.market_value_local == Decimal("1010.000000")
    assert position.market_value_base is None  # never converted at a silent 1.0
    findings = DataQualityFinding.objects.filter(kind=FindingKind.MISSING_FX, portfolio=growth)
    assert {f.details["currency"] for f in findings} == {"EUR"}
    status = PortfolioDataStatus.objects.get(portfolio=growth, date=DAY)
    assert status.completeness < 1 and status.valued < status.holdings

    FxRateFactory(date=DAY, base_currency="EUR", quote_currency="USD", rate=Decimal("1.1"))
    portfolio_positions_rebuild(portfolio=growth)
    portfolio_quality_scan(portfolio=growth, as_of=DAY)
    assert PositionSnapshot.objects.get(
        portfolio=growth, instrument=sap, date=DAY
    ).market_value_base == Decimal("1111.000000")
    assert not DataQualityFinding.objects.filter(
        kind=FindingKind.MISSING_FX, resolved_at=None
    ).exists()
    assert PortfolioDataStatus.objects.get(portfolio=growth, date=DAY).completeness == 1.0


def test_a_holding_without_any_price_is_reported(growth):
    aaa = InstrumentFactory(identifier="AAA", currency="USD", exchange="XNYS")
    TradeFactory(portfolio=growth, instrument=aaa, trade_date=DAY, quantity=10, price=100)
    portfolio_positions_rebuild(portfolio=growth)
    portfolio_quality_scan(portfolio=growth, as_of=DAY)
    assert DataQualityFinding.objects.filter(
        kind=FindingKind.MISSING_PRICE, instrument=aaa, date=DAY
    ).exists()
    stale = DataQualityFinding.objects.get(kind=FindingKind.STALE_PRICE, instrument=aaa)
    assert stale.message == "AAA has no price at all"
    status = PortfolioDataStatus.objects.get(portfolio=growth, date=DAY)
    assert status.priced < status.holdings and status.data_as_of is None
