"""A task enqueued through the real broker (Redis on CI, the filesystem broker
otherwise) is executed by a real worker process, and its effect is visible in the
database the test reads."""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from analytics.models import AnalyticsSnapshot, CashFlow, PositionSnapshot, Price, Trade, TradeSide
from analytics.tasks import positions_rebuild, snapshot_compute
from tests.database_url import tests_database_url
from tests.factories import InstrumentFactory, PortfolioFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def worker_queue():
    """A worker process consuming one fresh queue, so no other worker (such as a
    running quickstart) can take the test's task."""
    queue = f"roundtrip-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": tests_database_url()}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield queue
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output[-4000:])  # shown by pytest when the test fails


def test_a_task_sent_through_the_broker_is_run_by_a_worker(worker_queue):
    portfolio = PortfolioFactory(code="ROUNDTRIP")
    stock = InstrumentFactory(identifier="RTRP")
    Trade.objects.create(
        portfolio=portfolio,
        instrument=stock,
        trade_date=dt.date(2024, 1, 2),
        settle_date=dt.date(2024, 1, 4),
        side=TradeSide.BUY,
        quantity=Decimal(10),
        price=Decimal(100),
        currency="USD",
        external_id="T1",
        source="test",
    )
    for day, close in ((2, "100"), (3, "101"), (4, "102")):
        Price.objects.create(
            instrument=stock, date=dt.date(2024, 1, day), close=Decimal(close), currency="USD"
        )
    version_before = portfolio.data_version

    positions_rebuild.apply_async(args=[portfolio.id], queue=worker_queue)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if PositionSnapshot.objects.filter(portfolio=portfolio, instrument=stock).count() == 3:
            break
        time.sleep(0.5)
    held = PositionSnapshot.objects.filter(portfolio=portfolio, instrument=stock).order_by("date")
    assert [(p.date.day, p.quantity, p.market_value_base) for p in held] == [
        (2, Decimal(10), Decimal(1000)),
        (3, Decimal(10), Decimal(1010)),
        (4, Decimal(10), Decimal(1020)),
    ]
    portfolio.refresh_from_db()
    assert portfolio.data_version > version_before


def test_new_data_queues_a_snapshot_that_a_worker_computes(worker_queue):
    portfolio = PortfolioFactory(code="SNAPTRIP")
    stock = InstrumentFactory(identifier="SNPT")
    Trade.objects.create(
        portfolio=portfolio,
        instrument=stock,
        trade_date=dt.date(2024, 1, 2),
        settle_date=dt.date(2024, 1, 4),
        side=TradeSide.BUY,
        quantity=Decimal(10),
        price=Decimal(100),
        currency="USD",
        external_id="S1",
        source="test",
    )
    CashFlow.objects.create(
        portfolio=portfolio,
        date=dt.date(2024, 1, 2),
        amount=Decimal(1000),
        currency="USD",
        kind="subscription",
        external_id="S1",
    )
    for day, close in ((2, "100"), (3, "110"), (4, "99")):
        Price.objects.create(
            instrument=stock, date=dt.date(2024, 1, day), close=Decimal(close), currency="USD"
        )

    positions_rebuild.apply_async(args=[portfolio.id], queue=worker_queue)
    # The rebuild's commit marks the data changed; the worker's receiver creates the
    # pending snapshot row for the new key (and sends its task to the analytics queue,
    # which this test's worker does not consume: it is sent again to the test queue).
    snapshot = _wait_for(lambda: AnalyticsSnapshot.objects.filter(portfolio=portfolio).first())
    snapshot_compute.apply_async(args=[snapshot.id], queue=worker_queue)
    done = _wait_for(
        lambda: AnalyticsSnapshot.objects.filter(pk=snapshot.pk, status="done").first()
    )
    assert done.as_of == dt.date(2024, 1, 4)
    assert done.result["series"]["returns"]["values"] == pytest.approx([0.10, -0.10])


def _wait_for(find, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := find():
            return found
        time.sleep(0.5)
    raise AssertionError("the worker did not get there in time")
