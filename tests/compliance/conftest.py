"""Compliance personas on top of the shared ones: olivia is a compliance officer
entitled to alice's portfolios (growth, income) but not to hidden; bob (trader,
equity desk) sees growth but may not decide; and helpers that book a small
portfolio through the real position derivation."""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import CashFlow, CashFlowKind, Price, Trade, TradeSide
from analytics.services.positions import portfolio_positions_rebuild
from portal.models import AccessLevel, Role
from portal.services import entitlement_grant
from tests.factories import InstrumentFactory, TeamFactory, UserFactory

START = dt.date(2024, 3, 4)  # a Monday


def business_days(count, start=START):
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@pytest.fixture
def olivia(db, growth, income):
    officer = UserFactory(username="olivia", role=Role.COMPLIANCE_OFFICER)
    team = TeamFactory(name="Compliance")
    team.members.add(officer)
    for portfolio in (growth, income):
        entitlement_grant(actor=None, portfolio=portfolio, user=officer, level=AccessLevel.VIEW)
    return officer


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", role=Role.ADMIN, is_superuser=True, is_staff=True)


@pytest.fixture
def eager_celery():
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


def book(portfolio, *, days, closes, trades=(), subscription=Decimal(100_000)):
    """Book a subscription on day 0, ``trades`` (day index, ticker, side, quantity),
    daily closes per ticker, and derive positions. Returns the instruments."""
    instruments = {}
    for ticker, series in closes.items():
        instrument = InstrumentFactory(identifier=ticker, issuer=f"{ticker} Inc")
        instruments[ticker] = instrument
        Price.objects.bulk_create(
            Price(instrument=instrument, date=day, close=Decimal(str(close)), currency="USD")
            for day, close in zip(days, series, strict=True)
        )
    CashFlow.objects.create(
        portfolio=portfolio,
        date=days[0],
        amount=subscription,
        currency="USD",
        kind=CashFlowKind.SUBSCRIPTION,
        external_id=f"SUB-{portfolio.code}",
        source="test",
    )
    for n, (day_index, ticker, side, quantity) in enumerate(trades):
        trade_trade(
            portfolio,
            instruments[ticker],
            days[day_index],
            side,
            quantity,
            closes,
            days,
            external_id=f"{portfolio.code}-T{n}",
        )
    portfolio_positions_rebuild(portfolio=portfolio)
    return instruments


def trade_trade(portfolio, instrument, day, side, quantity, closes, days, external_id):
    price = closes[instrument.identifier][days.index(day)]
    return Trade.objects.create(
        portfolio=portfolio,
        instrument=instrument,
        trade_date=day,
        settle_date=day + dt.timedelta(days=2),
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(str(price)),
        currency="USD",
        external_id=external_id,
        source="test",
    )


BUY, SELL = TradeSide.BUY, TradeSide.SELL
