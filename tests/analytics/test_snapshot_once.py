"""Each change is computed once: an import's snapshot is requested after the
positions rebuild, for the final data version, and a rebuild that derives the rows
already stored changes nothing and requests nothing.

The world: four USD portfolios each get 1,000 USD and buy 10 AAA at 10 on Tuesday
2 January 2024; AAA closes 10 on Tuesday and 11 on Wednesday. Tasks run eagerly
and the test's on-commit callbacks are executed, as a worker would after commit.
"""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import AnalyticsSnapshot, Portfolio, PositionSnapshot, SnapshotStatus
from analytics.services.imports.runs import data_import
from analytics.services.positions import portfolio_positions_rebuild
from portal.celery import app
from tests.analytics.factories import CashFlowFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

TUE, WED, THU = dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)
BOOKS = 4


@pytest.fixture
def eager_tasks():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def aaa(db):
    return InstrumentFactory(identifier="AAA", currency="USD")


@pytest.fixture
def books(aaa):
    """Four portfolios holding AAA, with their positions derived (no snapshot yet:
    the test's transaction never commits, so nothing was requested)."""
    portfolios = []
    for number in range(BOOKS):
        book = PortfolioFactory(code=f"BOOK-{number}", base_currency="USD", inception_date=TUE)
        CashFlowFactory(portfolio=book, date=TUE, amount=Decimal("1000"))
        TradeFactory(portfolio=book, instrument=aaa, trade_date=TUE, quantity=10, price=10)
        portfolios.append(book)
    PriceFactory(instrument=aaa, date=TUE, close=Decimal("10"))
    PriceFactory(instrument=aaa, date=WED, close=Decimal("11"))
    for book in portfolios:
        portfolio_positions_rebuild(portfolio=book)
    assert not AnalyticsSnapshot.objects.exists()
    return portfolios


def versions() -> dict[int, int]:
    return dict(Portfolio.objects.values_list("pk", "data_version"))


def import_prices(rows: list[dict], *, source: str = "vendor"):
    return data_import(kind="prices", rows=rows, source=source)


def test_a_price_import_computes_one_snapshot_per_affected_portfolio(
    books, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = import_prices([{"instrument": "AAA", "date": "2024-01-04", "close": "12"}])
    assert sorted(run.portfolio_ids) == sorted(book.pk for book in books)

    assert AnalyticsSnapshot.objects.count() == BOOKS
    current = versions()
    for book in books:
        [snapshot] = AnalyticsSnapshot.objects.filter(portfolio=book)
        assert snapshot.status == SnapshotStatus.DONE
        assert (snapshot.as_of, snapshot.data_version) == (THU, current[book.pk])
        # 10 AAA at 12 and 900 USD cash: 1,020 on Thursday after 1,010 on Wednesday.
        assert snapshot.result["series"]["returns"]["values"][-1] == pytest.approx(1020 / 1010 - 1)


def test_a_repeated_identical_rebuild_keeps_the_version_and_requests_nothing(
    books, eager_tasks, django_capture_on_commit_callbacks
):
    book = books[0]
    before = versions()
    rows = set(PositionSnapshot.objects.filter(portfolio=book).values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        written = portfolio_positions_rebuild(portfolio=book)

    assert written == 4  # AAA and USD cash on Tuesday and Wednesday
    assert versions() == before
    assert callbacks == []  # no data-changed signal, so no snapshot and no evaluation
    assert not AnalyticsSnapshot.objects.exists()
    assert set(PositionSnapshot.objects.filter(portfolio=book).values_list("pk", flat=True)) == rows


def test_a_rebuild_rewrites_only_the_rows_that_differ(books):
    book = books[0]
    before = versions()[book.pk]
    aaa_rows = PositionSnapshot.objects.filter(portfolio=book, instrument__identifier="AAA")
    tuesday = aaa_rows.get(date=TUE).pk
    PriceFactory(instrument=book.trades.get().instrument, date=WED, close=Decimal("9"), source="a")

    portfolio_positions_rebuild(portfolio=book)

    assert aaa_rows.get(date=TUE).pk == tuesday  # unchanged: kept as stored
    wednesday = aaa_rows.get(date=WED)
    assert (wednesday.price, wednesday.market_value_base) == (Decimal(9), Decimal(90))
    assert versions()[book.pk] == before + 1


def test_an_import_whose_rebuild_changes_nothing_still_gets_one_snapshot(
    books, eager_tasks, django_capture_on_commit_callbacks
):
    """A second source's close for a day already priced (the first source wins):
    the derived rows stay as they are, the import's version is the final one, and
    it is computed once."""
    before = versions()
    with django_capture_on_commit_callbacks(execute=True):
        import_prices([{"instrument": "AAA", "date": "2024-01-03", "close": "99"}], source="zz")

    assert versions() == {pk: version + 1 for pk, version in before.items()}
    assert AnalyticsSnapshot.objects.count() == BOOKS
    for book in books:
        [snapshot] = AnalyticsSnapshot.objects.filter(portfolio=book)
        assert (snapshot.as_of, snapshot.data_version) == (WED, before[book.pk] + 1)
