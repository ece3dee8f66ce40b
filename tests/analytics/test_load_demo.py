"""The demo load: idempotent, reconciled with its own trades, built on the real
index and factor data, and entitled differently for every role.

A quick load (60 instruments, the first 4 portfolios, the first 260 trading
days of 2013-2014) keeps this under a few seconds; the portfolios are
EQ-US-GROWTH (owned by pm), MA-BALANCED-EUR (pm3), EQ-EUROPE (pm2) and
MA-GROWTH-GBP (pm3).
"""

import datetime as dt
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command

from analytics.demo.load import demo_counts
from analytics.models import (
    AssetClass,
    BenchmarkReturn,
    BenchmarkWeight,
    CashFlow,
    FactorReturn,
    Portfolio,
    PositionSnapshot,
    Price,
    Trade,
)
from analytics.selectors.entitlements import portfolio_list_visible_to
from portal.models import AuditAction, AuditEvent, User

QUICK = {"instruments": 60, "portfolios": 4, "days": 260}
ALL = {"EQ-US-GROWTH", "MA-BALANCED-EUR", "EQ-EUROPE", "MA-GROWTH-GBP"}


def load(**options):
    out = StringIO()
    call_command("load_demo", **{**QUICK, **options}, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db, settings):
    # The demo sets eight passwords; a fast hasher keeps the test quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return load()


def _fingerprint():
    """Values that must not change between two loads with the same seed."""
    trades = list(
        Trade.objects.order_by("external_id").values_list(
            "external_id",
            "portfolio__code",
            "instrument__identifier",
            "trade_date",
            "side",
            "quantity",
            "price",
            "fees",
        )
    )
    closes = list(
        Price.objects.order_by("instrument__identifier", "date").values_list(
            "instrument__identifier", "date", "close"
        )[::97]
    )
    positions = list(
        PositionSnapshot.objects.order_by(
            "portfolio__code", "date", "instrument__identifier"
        ).values_list(
            "portfolio__code", "date", "instrument__identifier", "quantity", "market_value_base"
        )[::53]
    )
    return trades, closes, positions


def test_loading_twice_leaves_one_identical_copy(demo):
    counts, fingerprint = demo_counts(), _fingerprint()

    output = load()

    assert demo_counts() == counts
    assert _fingerprint() == fingerprint
    assert AuditEvent.objects.filter(action=AuditAction.DATA_LOADED).count() == 2
    assert "password 'portal-demo'" in output


def test_the_quick_load_has_what_it_promises(demo):
    counts = demo_counts()

    assert counts["analytics.Instrument"] == 60 + 6  # and one cash instrument per currency
    assert counts["analytics.Price"] == 60 * 260
    assert set(Portfolio.objects.values_list("code", flat=True)) == ALL
    assert counts["portal.User"] == 8
    assert CashFlow.objects.filter(kind="subscription").count() >= 4

    # Real data: on 2 January 2013 the S&P 500 rose 2.54 % after the US "fiscal
    # cliff" deal; the Fama-French market excess return of October 2018 was -7.68 %.
    sp500 = BenchmarkReturn.objects.get(benchmark__code="SP500", date=dt.date(2013, 1, 2))
    assert sp500.value == pytest.approx(0.0254, abs=1e-4)
    october = FactorReturn.objects.get(factor="Mkt-RF", date=dt.date(2018, 10, 31))
    assert october.value == pytest.approx(-0.0768)

    # Global Equity weights: at each month end (and the data's last day) they sum to 1.
    weights = pd.DataFrame.from_records(
        BenchmarkWeight.objects.filter(benchmark__code="GLOBAL-EQ").values_list("date", "weight"),
        columns=["date", "weight"],
    )
    assert weights["date"].nunique() == 12 + 1  # 2013's month ends and 2014-01-13
    assert weights.groupby("date")["weight"].sum().to_numpy() == pytest.approx(1.0)


def _micro(quantities):
    return quantities.map(lambda quantity: int(quantity * 10**6))


def test_positions_reconcile_with_trades_for_every_portfolio_instrument_and_date(demo):
    """Independently of the rebuild service: quantity = cumulative signed trades."""
    trades = pd.DataFrame.from_records(
        Trade.objects.exclude(instrument__asset_class=AssetClass.CASH).values_list(
            "portfolio_id", "instrument_id", "trade_date", "side", "quantity"
        ),
        columns=["portfolio", "instrument", "date", "side", "quantity"],
    )
    trades["signed"] = _micro(trades["quantity"]).where(
        trades["side"] == "buy", -_micro(trades["quantity"])
    )
    held = (
        trades.groupby(["portfolio", "instrument", "date"])["signed"]
        .sum()
        .groupby(level=["portfolio", "instrument"])
        .cumsum()
        .rename("held")
        .reset_index()
    )
    days = sorted(set(Price.objects.values_list("date", flat=True)))
    grid = (
        held[["portfolio", "instrument"]]
        .drop_duplicates()
        .merge(pd.DataFrame({"date": days}), how="cross")
    )
    for frame in (held, grid):
        frame["date"] = pd.to_datetime(frame["date"])
    expected = pd.merge_asof(
        grid.sort_values("date"),
        held.sort_values("date"),
        on="date",
        by=["portfolio", "instrument"],
    )
    expected = expected[expected["held"].fillna(0) != 0]
    stored = pd.DataFrame.from_records(
        PositionSnapshot.objects.filter(source="derived")
        .exclude(instrument__asset_class=AssetClass.CASH)
        .values_list("portfolio_id", "instrument_id", "date", "quantity"),
        columns=["portfolio", "instrument", "date", "quantity"],
    )

    found = {
        (row.portfolio, row.instrument, row.date): int(row.quantity * 10**6)
        for row in stored.itertuples(index=False)
    }
    wanted = {
        (row.portfolio, row.instrument, row.date.date()): int(row.held)
        for row in expected.itertuples(index=False)
    }
    assert len(wanted) > 1000
    assert found == wanted
    # Cash never goes negative and every value converts to the base currency.
    cash = PositionSnapshot.objects.filter(instrument__asset_class=AssetClass.CASH)
    assert min(cash.values_list("quantity", flat=True)) >= 0
    assert not PositionSnapshot.objects.filter(market_value_base__isnull=True).exists()


def test_each_role_sees_its_own_set_of_portfolios(demo):
    visible = {
        user.username: (
            set(portfolio_list_visible_to(user=user).values_list("code", flat=True)),
            set(portfolio_list_visible_to(user=user, manage=True).values_list("code", flat=True)),
        )
        for user in User.objects.all()
    }

    assert visible == {
        # username: (visible, managed)
        "pm": ({"EQ-US-GROWTH", "EQ-EUROPE", "MA-BALANCED-EUR"}, {"EQ-US-GROWTH"}),
        "pm2": ({"EQ-US-GROWTH", "EQ-EUROPE"}, {"EQ-EUROPE"}),
        "pm3": ({"MA-BALANCED-EUR", "MA-GROWTH-GBP"}, {"MA-BALANCED-EUR", "MA-GROWTH-GBP"}),
        "trader": ({"EQ-US-GROWTH", "EQ-EUROPE"}, set()),
        "risk": (ALL, set()),
        "compliance": (ALL, set()),
        "exec": (ALL, set()),
        "admin": (ALL, ALL),
    }


def test_demo_users_log_in_with_the_documented_password(demo, client):
    assert client.login(username="trader", password="portal-demo")
    assert User.objects.get(username="admin").is_superuser
