"""factory_boy factories for the analytics time series: trades, cash flows,
prices and FX rates. Instruments and portfolios come from ``tests.factories``."""

import datetime as dt
from decimal import Decimal

import factory

from analytics.models import CashFlow, CashFlowKind, FxRate, Price, Trade, TradeSide
from tests.factories import InstrumentFactory, PortfolioFactory


class TradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trade

    portfolio = factory.SubFactory(PortfolioFactory)
    instrument = factory.SubFactory(InstrumentFactory)
    trade_date = dt.date(2024, 1, 2)
    settle_date = factory.LazyAttribute(lambda t: t.trade_date + dt.timedelta(days=2))
    side = TradeSide.BUY
    quantity = Decimal("100")
    price = Decimal("10")
    fees = Decimal("0")
    currency = factory.LazyAttribute(lambda t: t.instrument.currency)
    external_id = factory.Sequence(lambda n: f"T{n:06d}")
    source = "test"


class CashFlowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CashFlow

    portfolio = factory.SubFactory(PortfolioFactory)
    date = dt.date(2024, 1, 2)
    amount = Decimal("10000")
    currency = factory.LazyAttribute(lambda f: f.portfolio.base_currency)
    kind = factory.LazyAttribute(
        lambda f: CashFlowKind.SUBSCRIPTION if f.amount >= 0 else CashFlowKind.REDEMPTION
    )
    external_id = factory.Sequence(lambda n: f"F{n:06d}")
    source = "test"


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Price

    instrument = factory.SubFactory(InstrumentFactory)
    date = dt.date(2024, 1, 2)
    close = Decimal("10")
    currency = factory.LazyAttribute(lambda p: p.instrument.currency)
    source = "test"


class FxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FxRate

    date = dt.date(2024, 1, 2)
    base_currency = "EUR"
    quote_currency = "USD"
    rate = Decimal("1.1")
    source = "test"


def allocation_months(periods, portfolio, benchmark) -> list[dict]:
    """Stored monthly Brinson rows (a snapshot's ``attribution … monthly``) for
    the given month ends and portfolio and benchmark returns, with all of each
    month's active return in allocation (no selection, no interaction)."""
    return [
        {
            "period": period,
            "portfolio_return": rp,
            "benchmark_return": rb,
            "active_return": rp - rb,
            "allocation": rp - rb,
            "selection": 0.0,
            "interaction": 0.0,
        }
        for period, rp, rb in zip(periods, portfolio, benchmark, strict=True)
    ]
