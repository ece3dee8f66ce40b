"""Analytics snapshots: stored numbers computed from the database, recomputed when
data lands, idempotent, and honest about gaps.

The book: a USD portfolio gets 1,010 USD on Tuesday 2 January 2024 and buys 10 AAA
at 100 and 1 BBB at 10. AAA closes 100, 110, 99, —, 108.9 over Tuesday to
Monday; BBB closes 10 every day. On Thursday 500 USD more arrive. AAA has no close
on Friday, so Friday has no valuation (a gap, not a flat day).
"""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import AnalyticsSnapshot, SnapshotStatus
from analytics.selectors import portfolios as selectors
from analytics.services import snapshots
from analytics.services.positions import portfolio_positions_rebuild
from portal.celery import app
from tests.analytics.factories import CashFlowFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

TUE, WED, THU, FRI, MON, NEXT_TUE = (dt.date(2024, 1, d) for d in (2, 3, 4, 5, 8, 9))
AAA_CLOSES = {TUE: "100", WED: "110", THU: "99", MON: "108.9"}


@pytest.fixture
def eager_tasks():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def book(db):
    portfolio = PortfolioFactory(code="SNAP", base_currency="USD", inception_date=TUE)
    aaa = InstrumentFactory(identifier="AAA", currency="USD")
    bbb = InstrumentFactory(identifier="BBB", currency="USD", sector="Energy")
    CashFlowFactory(portfolio=portfolio, date=TUE, amount=Decimal("1010"))
    CashFlowFactory(portfolio=portfolio, date=THU, amount=Decimal("500"))
    TradeFactory(portfolio=portfolio, instrument=aaa, trade_date=TUE, quantity=10, price=100)
    TradeFactory(portfolio=portfolio, instrument=bbb, trade_date=TUE, quantity=1, price=10)
    for day, close in AAA_CLOSES.items():
        PriceFactory(instrument=aaa, date=day, close=Decimal(close))
    for day in (TUE, WED, THU, FRI, MON):
        PriceFactory(instrument=bbb, date=day, close=Decimal("10"))
    portfolio.aaa, portfolio.bbb = aaa, bbb
    return portfolio


def _land(portfolio, capture):
    """What every ingest path does after writing: rebuild positions and commit."""
    with capture(execute=True):
        portfolio_positions_rebuild(portfolio=portfolio)
    portfolio.refresh_from_db()


def test_snapshot_returns_follow_the_worked_example(
    book, eager_tasks, django_capture_on_commit_callbacks
):
    _land(book, django_capture_on_commit_callbacks)

    view = selectors.portfolio_snapshot(portfolio=book)
    assert view.snapshot.status == SnapshotStatus.DONE
    assert view.snapshot.as_of == MON
    assert not view.stale
    returns = view.section("series")["returns"]
    assert returns["dates"] == ["2024-01-03", "2024-01-04", "2024-01-08"]
    # Wednesday 1,110 / 1,010; Thursday (1,500 − 500 flow) / 1,110; Monday 1,599 / 1,500
    # spans the gap.
    assert returns["values"] == pytest.approx([1110 / 1010 - 1, 1000 / 1110 - 1, 1599 / 1500 - 1])
    assert view.section("data")["gaps"] == [
        {"date": "2024-01-05", "reason": "no valuation: 1 holding(s) without a base-currency value"}
    ]
    assert view.section("series")["net_assets"]["values"][3] is None  # Friday: not a zero


def test_snapshot_recomputed_after_new_prices_land(
    book, eager_tasks, django_capture_on_commit_callbacks
):
    _land(book, django_capture_on_commit_callbacks)
    first = selectors.portfolio_snapshot(portfolio=book).snapshot

    PriceFactory(instrument=book.aaa, date=NEXT_TUE, close=Decimal("119.79"))
    PriceFactory(instrument=book.bbb, date=NEXT_TUE, close=Decimal("10"))
    _land(book, django_capture_on_commit_callbacks)

    first.refresh_from_db()
    assert first.stale
    view = selectors.portfolio_snapshot(portfolio=book)
    assert view.snapshot.pk != first.pk
    assert (view.snapshot.as_of, view.snapshot.data_version) == (NEXT_TUE, book.data_version)
    assert not view.stale
    last_return = view.section("series")["returns"]["values"][-1]
    assert last_return == pytest.approx((1197.9 + 10 + 500) / 1599 - 1)
    assert AnalyticsSnapshot.objects.filter(portfolio=book).count() == 2


def test_old_numbers_are_flagged_stale_until_the_recompute_finishes(
    book, eager_tasks, django_capture_on_commit_callbacks
):
    _land(book, django_capture_on_commit_callbacks)
    app.conf.task_always_eager = False  # the worker has not picked the new key up yet
    PriceFactory(instrument=book.aaa, date=NEXT_TUE, close=Decimal("120"))
    with django_capture_on_commit_callbacks(execute=False):
        portfolio_positions_rebuild(portfolio=book)
    snapshots.snapshots_on_data_changed(portfolio_ids=[book.pk])  # without sending tasks
    book.refresh_from_db()

    view = selectors.portfolio_snapshot(portfolio=book)
    assert view.stale
    assert view.current_status == SnapshotStatus.PENDING
    assert view.snapshot.as_of == MON  # the last finished numbers are still shown


def test_computing_twice_does_nothing_the_second_time(book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        portfolio_positions_rebuild(portfolio=book)
    book.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        snapshot = snapshots.snapshot_request(portfolio=book)
        again = snapshots.snapshot_request(portfolio=book)
    assert again.pk == snapshot.pk
    assert len(sent) == 1  # one task for one key

    assert snapshots.snapshot_compute(snapshot_id=snapshot.pk).status == SnapshotStatus.DONE
    finished = AnalyticsSnapshot.objects.get(pk=snapshot.pk).finished_at
    assert snapshots.snapshot_compute(snapshot_id=snapshot.pk) is None
    assert AnalyticsSnapshot.objects.get(pk=snapshot.pk).finished_at == finished


def test_a_claim_held_by_a_dead_worker_is_taken_over(book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        portfolio_positions_rebuild(portfolio=book)
        snapshot = snapshots.snapshot_request(portfolio=book)
    started = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    AnalyticsSnapshot.objects.filter(pk=snapshot.pk).update(
        status=SnapshotStatus.RUNNING, started_at=started
    )
    assert snapshots.snapshot_compute(snapshot_id=snapshot.pk).status == SnapshotStatus.DONE


def test_a_failure_is_stored_and_retried_on_the_next_request(
    book, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        portfolio_positions_rebuild(portfolio=book)
        snapshot = snapshots.snapshot_request(portfolio=book)

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshots, "snapshot_result_compute", broken)
    failed = snapshots.snapshot_compute(snapshot_id=snapshot.pk)
    assert (failed.status, failed.error) == (SnapshotStatus.FAILED, "RuntimeError: disk full")
    assert selectors.portfolio_snapshot(portfolio=book).current_error == "RuntimeError: disk full"

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        retried = snapshots.snapshot_request(portfolio=book)
    assert (retried.pk, retried.status, len(sent)) == (snapshot.pk, SnapshotStatus.PENDING, 1)


def test_nightly_refresh_fans_out_in_chunks(book, eager_tasks, django_capture_on_commit_callbacks):
    other = PortfolioFactory(code="EMPTY", inception_date=TUE)  # no positions: nothing to compute
    with django_capture_on_commit_callbacks(execute=False):
        portfolio_positions_rebuild(portfolio=book)

    assert snapshots.snapshots_refresh_all(chunk_size=1) == 2
    assert AnalyticsSnapshot.objects.get(portfolio=book).status == SnapshotStatus.DONE
    assert not AnalyticsSnapshot.objects.filter(portfolio=other).exists()
    assert snapshots.snapshots_refresh_all(chunk_size=1) == 2  # done keys: no new rows
    assert AnalyticsSnapshot.objects.filter(portfolio=book).count() == 1


def test_sections_the_data_cannot_support_say_why(
    book, eager_tasks, django_capture_on_commit_callbacks
):
    _land(book, django_capture_on_commit_callbacks)
    view = selectors.portfolio_snapshot(portfolio=book)
    assert view.section("attribution") == {
        "available": False,
        "reason": "The portfolio has no benchmark.",
    }
    assert view.section("factors")["available"] is False
    exposures = view.section("exposures")
    sectors = {row["sector"]: row["net"] for row in exposures["dimensions"]["sector"]}
    assert sectors["Energy"] == pytest.approx(10 / 1599)
    assert exposures["totals"]["gross"] == pytest.approx(1099 / 1599)  # cash left out
