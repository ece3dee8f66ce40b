"""Dashboard fixtures: a stored snapshot written by hand (the widgets only read
snapshots, so the numbers are chosen, not computed) and a few holdings."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache

from analytics.models import DERIVED_SOURCE, AnalyticsSnapshot, PositionSnapshot, SnapshotStatus
from tests.factories import InstrumentFactory

AS_OF = dt.date(2024, 3, 28)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def snapshot_for(portfolio, *, cumulative=(0.0, 0.10, 0.21), dates=None, daily=None):
    """A finished snapshot of ``portfolio`` at its current data version. The
    cumulative series 0 %, +10 %, +21 % is two daily returns of +10 % each."""
    dates = dates or ["2024-01-31", "2024-02-29", "2024-03-28"]
    result = {
        "data": {
            "base_currency": portfolio.base_currency,
            "benchmark": None,
            "last_valuation": dates[-1],
        },
        "series": {
            "cumulative": {"dates": dates, "values": list(cumulative)},
            "returns": {"dates": dates, "values": list(daily or [0.0] * len(dates))},
            "net_assets": {"dates": dates, "values": [100.0, 110.0, 121.0]},
        },
        "period_returns": {"portfolio": {"day": 0.01, "mtd": 0.02, "ytd": 0.21}},
        "risk_values": {"var_95": 0.015},
        "drawdowns": {
            "current_drawdown": -0.05,
            "episodes": [],
            "underwater": {"dates": dates, "values": [0.0, 0.0, -0.05]},
        },
        "exposures": {"net_assets": 121.0},
    }
    return AnalyticsSnapshot.objects.create(
        portfolio=portfolio,
        as_of=dt.date.fromisoformat(dates[-1]),
        data_version=portfolio.data_version,
        status=SnapshotStatus.DONE,
        result=result,
    )


def hold(portfolio, identifier, value, *, sector="Energy", on=AS_OF):
    PositionSnapshot.objects.create(
        portfolio=portfolio,
        instrument=InstrumentFactory(identifier=identifier, sector=sector),
        date=on,
        quantity=Decimal(1),
        price=Decimal(value),
        market_value_local=Decimal(value),
        market_value_base=Decimal(value),
        source=DERIVED_SOURCE,
    )
