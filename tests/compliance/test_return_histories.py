"""Return histories for VaR rules and the backtest: foreign holdings, cash and flows
count in the base currency, and a day that cannot be valued or converted is missing,
never a partial number."""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.services.positions import portfolio_positions_rebuild
from compliance.services.frames import instrument_returns, lookback_start, realised_returns
from tests.analytics.factories import CashFlowFactory, FxRateFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

MON, TUE, WED = (dt.date(2024, 1, d) for d in (8, 9, 10))


@pytest.fixture
def book(db):
    portfolio = PortfolioFactory(code="FXFLOW", base_currency="USD", inception_date=MON)
    stock = InstrumentFactory(identifier="FXF", currency="USD")
    CashFlowFactory(portfolio=portfolio, date=MON, amount=Decimal(1000), currency="USD")
    TradeFactory(portfolio=portfolio, instrument=stock, trade_date=MON, quantity=10, price=100)
    for day, close in ((MON, "100"), (TUE, "110"), (WED, "99")):
        PriceFactory(instrument=stock, date=day, close=Decimal(close))
    return portfolio


def test_a_foreign_currency_flow_counts_at_its_base_value(book):
    for day in (MON, TUE, WED):
        FxRateFactory(date=day, base_currency="EUR", quote_currency="USD", rate=Decimal("1.1"))
    CashFlowFactory(portfolio=book, date=TUE, amount=Decimal(100), currency="EUR")
    portfolio_positions_rebuild(portfolio=book)

    returns = realised_returns(portfolio_ids=[book.pk], end=WED, days=10)[book.pk]
    # Tuesday: (1,100 + 110 EUR cash − 110 flow) / 1,000; Wednesday: (990 + 110) / 1,210.
    assert returns.to_numpy() == pytest.approx([0.10, 1100 / 1210 - 1])


def test_a_flow_without_a_rate_leaves_its_day_missing(book):
    FxRateFactory(date=WED, base_currency="EUR", quote_currency="USD", rate=Decimal("1.1"))
    CashFlowFactory(portfolio=book, date=WED, amount=Decimal(100), currency="JPY")
    portfolio_positions_rebuild(portfolio=book)

    returns = realised_returns(portfolio_ids=[book.pk], end=WED, days=10)[book.pk]
    assert returns[TUE] == pytest.approx(0.10)
    # The JPY cash has no base value that day either: Wednesday is a valuation gap,
    # not measured (as on the Risk tab, the next valued day's return would span it).
    assert list(returns.dropna().index) == [TUE]


def test_instrument_returns_include_the_currency_move(db):
    stock = InstrumentFactory(identifier="EURSTK", currency="EUR")
    cash = InstrumentFactory(identifier="CASH-EUR", currency="EUR", asset_class="cash")
    for day, close, rate in ((MON, "50", "1.10"), (TUE, "50", "1.21"), (WED, "55", "1.21")):
        PriceFactory(instrument=stock, date=day, close=Decimal(close))
        FxRateFactory(date=day, base_currency="EUR", quote_currency="USD", rate=Decimal(rate))

    in_usd = instrument_returns(instrument_ids=[stock.pk, cash.pk], end=WED, days=10, base="USD")
    assert in_usd[stock.pk].to_numpy() == pytest.approx([0.10, 0.10])  # FX, then price
    assert in_usd[cash.pk].to_numpy() == pytest.approx([0.10, 0.0])  # euro cash earns the FX
    in_eur = instrument_returns(instrument_ids=[stock.pk, cash.pk], end=WED, days=10, base="EUR")
    assert in_eur[stock.pk].to_numpy() == pytest.approx([0.0, 0.10])
    assert in_eur[cash.pk].to_numpy() == pytest.approx([0.0, 0.0])


@pytest.mark.parametrize("trading_days", [501, 757, 1007])
def test_the_look_back_covers_the_sessions_of_a_calendar_with_holidays(trading_days):
    import exchange_calendars

    end = dt.date(2018, 12, 31)
    start = lookback_start(end=end, trading_days=trading_days)
    sessions = exchange_calendars.get_calendar("XNYS").sessions_in_range(start, end)
    assert len(sessions) >= trading_days


def test_weekdays_plus_a_month_fall_short_of_three_years_of_nyse_sessions():
    # NYSE closes on about 9 weekdays a year: 757 sessions (three years of returns
    # and the close before them) span more than 757 × 7/5 + 30 calendar days.
    import exchange_calendars

    end = dt.date(2018, 12, 31)
    weekdays_only = end - dt.timedelta(days=int(757 * 7 / 5) + 30)
    sessions = exchange_calendars.get_calendar("XNYS").sessions_in_range(weekdays_only, end)
    assert len(sessions) < 757
