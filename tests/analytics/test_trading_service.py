"""The trading review service: it reads only the portfolios given, converts
fills and closes into the base currency at their own dates' rates, and leaves
FX spot deals in cash instruments out.

EUR portfolio EUROPE buys 100 XUS (a USD stock) at 10.10 USD on 2 January 2024
(close 10, EURUSD 1.25: 8.08 EUR a share) and sells them at 11 USD on 9 January
(close 11, EURUSD 1.10: 10 EUR): realised 100 × (10 − 8.08) = 192 EUR, of which
the currency's move is part. The buy's slippage is 0.10 / 10 = 100 bp whatever
the rate.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from analytics.models import Portfolio
from analytics.services.trading import trading_review_for
from tests.analytics.factories import FxRateFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

JAN_2, JAN_9 = dt.date(2024, 1, 2), dt.date(2024, 1, 9)


@pytest.fixture
def europe(alice):
    portfolio = PortfolioFactory(code="EUROPE", base_currency="EUR", owner=alice)
    stock = InstrumentFactory(identifier="XUS", currency="USD")
    cash = InstrumentFactory(identifier="CASH-USD", currency="USD", asset_class="cash")
    for day, rate, close in ((JAN_2, "1.25", "10"), (JAN_9, "1.10", "11")):
        FxRateFactory(date=day, base_currency="EUR", quote_currency="USD", rate=Decimal(rate))
        PriceFactory(instrument=stock, date=day, close=Decimal(close))
    TradeFactory(
        portfolio=portfolio, instrument=stock, trade_date=JAN_2, side="buy", price=Decimal("10.10")
    )
    TradeFactory(
        portfolio=portfolio, instrument=stock, trade_date=JAN_9, side="sell", price=Decimal("11")
    )
    TradeFactory(portfolio=portfolio, instrument=cash, trade_date=JAN_2, price=Decimal("0.8"))
    other = PortfolioFactory(code="OTHER", base_currency="EUR", owner=alice)
    TradeFactory(portfolio=other, instrument=stock, trade_date=JAN_2, price=Decimal("10"))
    return portfolio


def test_amounts_in_the_base_currency_at_each_dates_rate(europe):
    data = trading_review_for(portfolios=[europe], start=None, end=JAN_9)
    review = data.review

    [summary] = review.by_portfolio.to_dict("records")
    assert summary["portfolio"] == europe.pk
    assert summary["realised_pnl"] == pytest.approx(100 * (11 / 1.10 - 10.10 / 1.25))
    fills = review.fills.sort_values("date")
    assert fills["slippage_bps"].tolist() == pytest.approx([100.0, 0.0])
    assert fills["price_local"].tolist() == pytest.approx([10.10, 11.0])
    assert fills["currency"].tolist() == ["USD", "USD"]
    assert {label.identifier for label in data.instruments.values()} == {"XUS"}


def test_only_the_portfolios_given_and_no_cash_deals(europe):
    review = trading_review_for(portfolios=[europe], start=None, end=JAN_9).review
    assert set(review.fills["portfolio"]) == {europe.pk}
    assert len(review.fills) == 2  # the CASH-USD deal is left out


def test_a_period_starting_later_lists_only_its_fills(europe):
    review = trading_review_for(portfolios=[europe], start=dt.date(2024, 1, 3), end=JAN_9).review
    assert review.fills["date"].dt.date.tolist() == [JAN_9]
    # The lot bought before the period is matched; marked at the close of 2 January
    # (10 USD at 1.25 = 8 EUR) the period's gain is 100 × (10 − 8) = 200 EUR.
    [summary] = review.by_portfolio.to_dict("records")
    assert summary["total_pnl"] == pytest.approx(100 * (11 / 1.10 - 10 / 1.25))


def test_no_trades_gives_an_empty_review(alice):
    quiet = PortfolioFactory(code="QUIET", owner=alice)
    review = trading_review_for(portfolios=[quiet], start=None, end=JAN_9).review
    assert review.fills.empty and review.by_portfolio.empty


def test_the_demo_book_has_strategies_traders_and_slippage(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", instruments=60, portfolios=2, days=260, verbosity=0)
    growth = Portfolio.objects.get(code="EQ-US-GROWTH")
    review = trading_review_for(portfolios=[growth], start=None, end=dt.date(2014, 1, 13)).review

    assert set(review.by_strategy["strategy"]) == {"momentum", "value", "rebalance"}
    # Rebalancing trades are the desk trader's, the sleeves' own the manager's.
    traders = review.fills.groupby("strategy")["trader"].unique()
    assert list(traders["rebalance"]) == ["trader"]
    assert list(traders["momentum"]) == ["pm"]
    # The demo's execution slippage is −2 to +8 bp (prices kept to 6 decimals).
    assert review.fills["slippage_bps"].between(-2.01, 8.01).all()
    assert review.fills["slippage_bps"].mean() > 0
    assert (review.by_strategy["round_trips"] > 0).any()
