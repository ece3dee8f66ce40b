"""A portfolio's risk-free series reaches its snapshot's ratios, and the snapshot
states the rate it used.

The book: a USD portfolio gets 1,000 USD on Tuesday 2 January 2024 and buys 10 AAA
at 100. AAA closes 100, 110, 99 and 108.9 on Tuesday, Wednesday, Thursday and
Friday, so the daily returns are +10 %, −10 % and +10 %. The risk-free series is
the factor RF with 0.46 % for January 2024: January has 23 weekdays, so each day
earns rf = 1.0046^(1/23) − 1. By hand, the excess returns are 0.1 − rf, −0.1 − rf
and 0.1 − rf: a constant rf moves the mean, not the spread, so
Sharpe = (0.1/3 − rf) / std(0.1, −0.1, 0.1) × √252 with std = √((2 × (0.2/3)² +
(0.4/3)²) / 2).
"""

import datetime as dt
import math
from decimal import Decimal

import pytest

from analytics.models import FactorReturn
from analytics.services.positions import portfolio_positions_rebuild
from analytics.services.snapshots import snapshot_result_compute
from tests.analytics.factories import CashFlowFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

TUE, WED, THU, FRI = (dt.date(2024, 1, d) for d in (2, 3, 4, 5))
DAILY_RF = 1.0046 ** (1 / 23) - 1


@pytest.fixture
def book(db):
    portfolio = PortfolioFactory(
        code="RISKFREE", base_currency="USD", inception_date=TUE, risk_free_factor="RF"
    )
    aaa = InstrumentFactory(identifier="AAA", currency="USD")
    CashFlowFactory(portfolio=portfolio, date=TUE, amount=Decimal("1000"))
    TradeFactory(portfolio=portfolio, instrument=aaa, trade_date=TUE, quantity=10, price=100)
    for day, close in ((TUE, "100"), (WED, "110"), (THU, "99"), (FRI, "108.9")):
        PriceFactory(instrument=aaa, date=day, close=Decimal(close))
    FactorReturn.objects.create(factor="RF", date=dt.date(2024, 1, 31), value=0.0046)
    portfolio_positions_rebuild(portfolio=portfolio)
    return portfolio


def test_sharpe_uses_the_portfolios_risk_free_series(book):
    result = snapshot_result_compute(portfolio=book, as_of=FRI)

    spread = math.sqrt((2 * (0.2 / 3) ** 2 + (0.4 / 3) ** 2) / 2)
    expected = (0.1 / 3 - DAILY_RF) / spread * math.sqrt(252)
    since_inception = result["metrics"]["windows"]["SI"]
    assert since_inception["portfolio"]["sharpe"] == pytest.approx(expected)
    assert since_inception["risk_free_rate"] == pytest.approx((1 + DAILY_RF) ** 252 - 1)


def test_the_snapshot_states_the_series_it_used(book):
    result = snapshot_result_compute(portfolio=book, as_of=FRI)

    stated = result["data"]["risk_free"]
    assert stated["kind"] == "series"
    assert stated["factor"] == "RF" and stated["source"] == "fama-french"
    assert stated["first_month"] == stated["last_month"] == "2024-01"
    assert stated["carried_forward_from"] is None
    assert result["data"]["risk_free_rate"] == pytest.approx((1 + DAILY_RF) ** 252 - 1)


def test_without_a_series_the_constant_rate_is_stated(book, settings):
    book.risk_free_factor = ""
    settings.ANALYTICS_RISK_FREE_RATE = 0.0

    result = snapshot_result_compute(portfolio=book, as_of=FRI)

    assert result["data"]["risk_free"] == {"kind": "constant", "annual_rate": 0.0}
    spread = math.sqrt((2 * (0.2 / 3) ** 2 + (0.4 / 3) ** 2) / 2)
    sharpe = result["metrics"]["windows"]["SI"]["portfolio"]["sharpe"]
    assert sharpe == pytest.approx(0.1 / 3 / spread * math.sqrt(252))
