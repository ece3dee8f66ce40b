"""A snapshot whose worker is killed mid-compute is finished, once, by someone else.

Real processes, real broker (Redis on CI, the filesystem broker otherwise), the
test database: a prefork worker with one pool child computes a snapshot whose
first compute is made slow; the test SIGKILLs the process computing it and
watches the row recover through the lease machinery:

* the pool child is killed and its parent lives on: the lease expires, and the
  lease sweeper (a real celery-beat sending ``portal.leases_sweep``) re-sends it;
* the whole worker is killed (its message waits for the broker's visibility
  timeout): once the lease expired, ``POST …/analytics/refresh/`` re-sends it at once.

The worker and beat run through a small wrapper written to ``tmp_path`` (not
product code): it routes every task to the test's fresh queue, keeps only the
sweep in beat's schedule, and makes the first ``snapshot_result_compute`` of the
run sleep, appending one line per compute (the pool child's pid) to a file.
The seconds from the kill to ``done`` are printed (``-s`` shows them); the bound
asserted is a liveness bound, not a timing test.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.models import AnalyticsSnapshot, CashFlow, Price, SnapshotStatus, Trade, TradeSide
from analytics.services import snapshots
from analytics.services.positions import portfolio_positions_rebuild
from tests.database_url import tests_database_url
from tests.factories import InstrumentFactory, PortfolioFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
LEASE_SECONDS = 3
SWEEP_SECONDS = 1
RECOVERY_BOUND_SECONDS = 60

WRAPPER = '''"""Celery for the kill test: every task on the test's queue, only the lease
sweep in beat's schedule, and a first snapshot compute that sleeps."""

import os
import time

from celery import signals
from django.conf import settings

from portal.celery import app

app.conf.task_routes = {"*": {"queue": os.environ["KILL_TEST_QUEUE"]}}
app.conf.beat_schedule = {"sweep": settings.CELERY_BEAT_SCHEDULE["portal-leases-sweep"]}


@signals.worker_process_init.connect
def slow_first_compute(**kwargs):
    from analytics.services import snapshots

    original = snapshots.snapshot_result_compute

    def compute(**arguments):
        with open(os.environ["KILL_TEST_CALLS"], "a") as calls:
            first = calls.tell() == 0
            calls.write(f"{os.getpid()}\\n")
        if first:
            time.sleep(600)  # killed long before
        return original(**arguments)

    snapshots.snapshot_result_compute = compute
'''


class Celery:
    """Worker and beat processes of one test, on one fresh queue."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.queue = f"kill-{uuid.uuid4().hex[:8]}"
        self.calls = folder / "computes.txt"
        (folder / "kill_test_celery.py").write_text(WRAPPER)
        self.env = {
            **os.environ,
            "DATABASE_URL": tests_database_url(),
            "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
            "KILL_TEST_QUEUE": self.queue,
            "KILL_TEST_CALLS": str(self.calls),
            "LEASE_SNAPSHOT_SECONDS": str(LEASE_SECONDS),
            "LEASE_SWEEP_SECONDS": str(SWEEP_SECONDS),
        }
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def _start(self, name: str, *arguments: str) -> subprocess.Popen:
        log = self.folder / f"{name}-{len(self.processes)}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import kill_test_celery; from celery.__main__ import main; main()",
                "-A",
                "portal",
                *arguments,
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.processes.append((process, log))
        return process

    def worker(self) -> subprocess.Popen:
        """A prefork worker with one pool child (the process to kill)."""
        return self._start(
            "worker",
            "worker",
            "-Q",
            self.queue,
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--without-mingle",
            "--without-gossip",
        )

    def beat(self) -> subprocess.Popen:
        return self._start(
            "beat",
            "beat",
            "--scheduler",
            "celery.beat:PersistentScheduler",
            "--schedule",
            str(self.folder / "beat-schedule"),
            "--max-interval",
            str(SWEEP_SECONDS),
        )

    def wait_until_ready(self) -> None:
        """Until the latest process says it is ready (a worker consuming its queue)."""
        log = self.processes[-1][1]
        _wait_for(lambda: " ready." in log.read_text())

    def computes(self) -> list[int]:
        """The pids of the pool children that started a compute, in order."""
        return [int(line) for line in self.calls.read_text().split()] if self.calls.exists() else []

    def stop(self) -> None:
        for process, _log in self.processes:
            if process.poll() is None:
                process.terminate()
        for process, log in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")  # shown when a test fails


@pytest.fixture
def celery(tmp_path, monkeypatch):
    """The worker processes, and this process's snapshot sends on the same queue."""
    processes = Celery(tmp_path)

    def send(name, *args):
        current_app.signature(name, args=args, queue=processes.queue).delay()

    monkeypatch.setattr(snapshots, "task_send", send)
    monkeypatch.setattr(
        snapshots,
        "task_send_on_commit",
        lambda name, *args: transaction.on_commit(lambda: send(name, *args)),
    )
    yield processes
    processes.stop()


@pytest.fixture
def short_leases(settings):
    """The test process keeps the worker's lease length (re-arming on refresh)."""
    settings.LEASE_SECONDS = {**settings.LEASE_SECONDS, "snapshot": LEASE_SECONDS}


def _booked_portfolio(code: str):
    """10 shares bought at 100 with 1,000 subscribed; closes 100, 110, 99."""
    portfolio = PortfolioFactory(code=code)
    stock = InstrumentFactory(identifier=f"{code}-STOCK")
    Trade.objects.create(
        portfolio=portfolio,
        instrument=stock,
        trade_date=dt.date(2024, 1, 2),
        settle_date=dt.date(2024, 1, 4),
        side=TradeSide.BUY,
        quantity=Decimal(10),
        price=Decimal(100),
        currency="USD",
        external_id=f"{code}-1",
        source="test",
    )
    CashFlow.objects.create(
        portfolio=portfolio,
        date=dt.date(2024, 1, 2),
        amount=Decimal(1000),
        currency="USD",
        kind="subscription",
        external_id=f"{code}-1",
    )
    for day, close in ((2, "100"), (3, "110"), (4, "99")):
        Price.objects.create(
            instrument=stock, date=dt.date(2024, 1, day), close=Decimal(close), currency="USD"
        )
    return portfolio


def _wait_for(find, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := find():
            return found
        time.sleep(0.1)
    raise AssertionError("the processes did not get there in time")


def _children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return {int(child) for child in found.stdout.split()}


def _computing(portfolio, worker: subprocess.Popen) -> tuple[AnalyticsSnapshot, int]:
    """The snapshot once a pool child of ``worker`` holds its lease, and that child."""
    snapshot = _wait_for(
        lambda: AnalyticsSnapshot.objects.filter(
            portfolio=portfolio, status=SnapshotStatus.RUNNING, lease_holder__contains=":"
        ).first()
    )
    child = int(snapshot.lease_holder.split(":")[1])
    assert child in _children(worker.pid)
    return snapshot, child


def _done(snapshot, seconds: float = RECOVERY_BOUND_SECONDS) -> AnalyticsSnapshot:
    return _wait_for(
        lambda: AnalyticsSnapshot.objects.filter(pk=snapshot.pk, status="done").first(), seconds
    )


def test_a_killed_pool_child_s_snapshot_is_resent_by_the_sweeper(celery, short_leases):
    portfolio = _booked_portfolio("KILLED")
    worker = celery.worker()
    celery.beat()
    portfolio_positions_rebuild(portfolio=portfolio)  # the commit requests the snapshot
    snapshot, child = _computing(portfolio, worker)

    os.kill(child, signal.SIGKILL)
    killed_at = time.monotonic()
    done = _done(snapshot)
    recovery = time.monotonic() - killed_at
    print(f"\nrecovered by the lease sweeper {recovery:.1f} s after the kill")

    assert recovery < RECOVERY_BOUND_SECONDS
    assert AnalyticsSnapshot.objects.filter(portfolio=portfolio).count() == 1
    assert (done.status, done.lease_holder, done.lease_expires_at) == ("done", "", None)
    assert done.result["series"]["returns"]["values"] == pytest.approx([0.10, -0.10])
    # One compute before the kill, one after it by a new pool child, and none more
    # in the sweeps of the next two lease lengths.
    time.sleep(2 * LEASE_SECONDS + SWEEP_SECONDS)
    computes = celery.computes()
    assert len(computes) == 2
    assert computes[0] == child != computes[1]
    assert AnalyticsSnapshot.objects.get(pk=snapshot.pk).finished_at == done.finished_at


def test_refresh_after_the_lease_expired_resends_a_killed_worker_s_snapshot(celery, short_leases):
    portfolio = _booked_portfolio("REFRESHED")
    first = celery.worker()
    portfolio_positions_rebuild(portfolio=portfolio)
    snapshot, child = _computing(portfolio, first)

    # The whole worker dies: its message waits for the broker's visibility timeout.
    os.kill(first.pid, signal.SIGKILL)
    os.kill(child, signal.SIGKILL)
    killed_at = time.monotonic()
    celery.worker()
    celery.wait_until_ready()
    _wait_for(
        lambda: AnalyticsSnapshot.objects.filter(
            pk=snapshot.pk, lease_expires_at__lt=timezone.now()
        ).first()
    )
    assert AnalyticsSnapshot.objects.get(pk=snapshot.pk).status == SnapshotStatus.RUNNING

    client = APIClient()
    client.force_authenticate(portfolio.owner)
    url = reverse("api-portfolio-analytics-refresh", kwargs={"portfolio_id": portfolio.pk})
    refreshed_at = time.monotonic()
    response = client.post(url)
    assert response.status_code == 202
    # Re-armed for the task just sent (or already claimed by the new worker).
    assert AnalyticsSnapshot.objects.get(pk=snapshot.pk).lease_holder != snapshot.lease_holder

    done = _done(snapshot)
    finished = time.monotonic()
    print(
        f"\nrecovered by refresh {finished - refreshed_at:.1f} s after the request, "
        f"{finished - killed_at:.1f} s after the kill"
    )
    assert finished - refreshed_at < RECOVERY_BOUND_SECONDS
    assert AnalyticsSnapshot.objects.filter(portfolio=portfolio).count() == 1
    assert (done.status, done.lease_holder) == ("done", "")
    assert len(celery.computes()) == 2
