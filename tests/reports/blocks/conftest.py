"""A small book with hand-computable returns and its stored snapshot.

Alice's portfolio "TRIO" gets 1,000 USD on Friday 29 December 2023 and buys 10 AAA
at 100. AAA closes 100, 101, 98.98 and 101.9494 at the ends of December, January,
February and March 2024 (the only trading days in the book), so the portfolio's
returns are +1 %, −2 % and +3 %. Its benchmark "BMK" returns +0.5 %, −1 % and +2 %
over the same months.
"""

import datetime as dt
import json
from decimal import Decimal

import pytest

from analytics.models import AnalyticsSnapshot, Benchmark, BenchmarkReturn, SnapshotStatus
from analytics.selectors.portfolios import SnapshotView, portfolio_snapshot
from analytics.services.positions import portfolio_positions_rebuild
from analytics.services.snapshots import snapshot_result_compute
from reports.blocks.base import BlockContext, PortfolioInput, ReportPeriod
from tests.analytics.factories import CashFlowFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

DEC, JAN, FEB, MAR = (
    dt.date(2023, 12, 29),
    dt.date(2024, 1, 31),
    dt.date(2024, 2, 29),
    dt.date(2024, 3, 28),
)
CLOSES = {DEC: "100", JAN: "101", FEB: "98.98", MAR: "101.9494"}
BENCHMARK = {DEC: 0.0, JAN: 0.005, FEB: -0.01, MAR: 0.02}
SINCE_INCEPTION = ReportPeriod("since_inception", "Since inception", None, MAR)
FEBRUARY_TO_MARCH = ReportPeriod("custom", "Custom range", dt.date(2024, 2, 1), MAR)


def stored_snapshot(portfolio, capture) -> SnapshotView:
    """Derive the positions, compute the snapshot and store it as the worker does."""
    with capture(execute=False):
        portfolio_positions_rebuild(portfolio=portfolio)
    portfolio.refresh_from_db()
    as_of = max(CLOSES)
    result = json.loads(json.dumps(snapshot_result_compute(portfolio=portfolio, as_of=as_of)))
    AnalyticsSnapshot.objects.update_or_create(
        portfolio=portfolio,
        as_of=as_of,
        data_version=portfolio.data_version,
        defaults={"status": SnapshotStatus.DONE, "result": result},
    )
    return portfolio_snapshot(portfolio=portfolio)


def context_for(user, portfolio, view, period, *, benchmark=None, **options) -> BlockContext:
    return BlockContext(
        user=user,
        portfolios=[PortfolioInput(portfolio=portfolio, snapshot=view, period=period)],
        period_key=period.key,
        benchmark=benchmark,
        reporting_currency=None,
        options=options,
    )


def table(section, name):
    """The named table of a section, its rows as dicts keyed by column."""
    found = next(t for t in section.tables if t.name == name)
    keys = [column.key for column in found.columns]
    return [dict(zip(keys, row, strict=True)) for row in found.rows]


@pytest.fixture
def trio(alice):
    benchmark = Benchmark.objects.create(code="BMK", name="Benchmark", currency="USD")
    for day, value in BENCHMARK.items():
        BenchmarkReturn.objects.create(benchmark=benchmark, date=day, value=value)
    portfolio = PortfolioFactory(
        code="TRIO", base_currency="USD", inception_date=DEC, owner=alice, benchmark=benchmark
    )
    aaa = InstrumentFactory(identifier="AAA", currency="USD", sector="Energy", country="GB")
    CashFlowFactory(portfolio=portfolio, date=DEC, amount=Decimal("1000"))
    TradeFactory(portfolio=portfolio, instrument=aaa, trade_date=DEC, quantity=10, price=100)
    for day, close in CLOSES.items():
        PriceFactory(instrument=aaa, date=day, close=Decimal(close))
    return portfolio


@pytest.fixture
def trio_view(trio, django_capture_on_commit_callbacks):
    return stored_snapshot(trio, django_capture_on_commit_callbacks)


@pytest.fixture
def empty_view():
    """What readers see before the first snapshot finishes."""
    return SnapshotView(snapshot=None, current_status="pending", current_error="", stale=False)
