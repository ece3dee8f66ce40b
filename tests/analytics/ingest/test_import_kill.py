"""An import whose process is SIGKILLed half way never stays "running" for ever:
its data transaction rolls back, its lease runs out, and the lease sweeper either
imports a queued upload's kept file again (exactly once) or, for a command-line
import whose input died with it, fails the run with a clear message.

Real processes against the test database: a Celery worker (prefork, one pool
child to kill) on a fresh queue of the real broker, and ``manage.py
import_data``. Their first import sleeps inside its transaction (``processes``).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from analytics.models import ImportRun, ImportStatus, Trade
from analytics.services.imports.recovery import STOPPED_MESSAGE
from analytics.services.imports.upload import import_upload
from portal.celery import app
from portal.leases import leases_sweep
from portal.models import AuditAction, AuditEvent
from tests.analytics.ingest.processes import SlowPortal, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = "3"  # the killed process's lease runs out this soon after the kill
TRADES = 500


def trades_csv() -> str:
    """``TRADES`` buys of 1 to ``TRADES`` shares of AAA at 10, one a day from 2024."""
    lines = ["portfolio,instrument,trade_date,side,quantity,price,currency,external_id"]
    for number in range(1, TRADES + 1):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=number)
        lines.append(f"GROWTH,AAA,{day.isoformat()},buy,{number},10,USD,K-{number}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def portal(tmp_path):
    processes = SlowPortal(tmp_path, LEASE_IMPORT_SECONDS=LEASE_SECONDS)
    yield processes
    processes.stop()


@pytest.fixture
def worker_queue(portal):
    """A prefork worker with one pool child consuming a fresh queue, to which this
    process routes the import task (so no other worker can take it)."""
    queue = f"import-kill-{uuid.uuid4().hex[:8]}"
    portal.start(
        "worker",
        *("-A", "portal", "worker", "-Q", queue, "--pool", "prefork", "-c", "1"),
        *("--without-mingle", "--without-gossip", "--loglevel", "INFO"),
    )
    routes = app.conf.task_routes
    app.conf.task_routes = {"analytics.import_run_execute": {"queue": queue}, **routes}
    _routes_reload()
    yield queue
    app.conf.task_routes = routes
    _routes_reload()


def _routes_reload() -> None:
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)  # cached from the routes of its time


def _lease_run_out(run: ImportRun) -> None:
    wait_for(
        lambda: ImportRun.objects.filter(pk=run.pk, lease_expires_at__lt=timezone.now()).exists(),
        seconds=60,
    )


def test_a_queued_import_whose_worker_child_is_killed_is_imported_once(
    world, alice, settings, portal, worker_queue
):
    settings.INGEST_INLINE_MAX_BYTES = 1024  # the file is queued, not imported in the request
    upload = SimpleUploadedFile("trades.csv", trades_csv().encode())
    run = import_upload(kind="trades", upload=upload, file_format="csv", source="oms", actor=alice)
    stored = Path(settings.MEDIA_ROOT) / run.stored_file
    assert run.status == ImportStatus.PENDING and stored.is_file()

    child = portal.slow_import_pid()
    run.refresh_from_db()
    assert run.status == ImportStatus.RUNNING
    assert f":{child}:" in run.lease_holder  # the pool child holds the lease

    os.kill(child, signal.SIGKILL)
    killed_at = time.monotonic()
    # The redelivered task finds the dead child's lease live and leaves the run;
    # once the lease ran out, the sweeper re-sends it (or a late redelivery takes
    # it over by itself).
    _lease_run_out(run)
    leases_sweep()
    done = wait_for(
        lambda: ImportRun.objects.filter(pk=run.pk, status=ImportStatus.COMMITTED).first()
    )
    print(f"recovery of a queued import: {time.monotonic() - killed_at:.1f} s from kill to commit")

    assert (done.rows_total, done.rows_created) == (TRADES, TRADES)
    assert (done.lease_holder, done.lease_expires_at) == ("", None)
    assert Trade.objects.filter(portfolio=world, source="oms").count() == TRADES
    assert sum(Trade.objects.values_list("quantity", flat=True)) == TRADES * (TRADES + 1) // 2
    wait_for(lambda: not stored.exists(), seconds=30)  # removed just after the commit
    imported = AuditEvent.objects.filter(action=AuditAction.DATA_IMPORTED)
    assert list(imported.values_list("target_id", flat=True)) == [str(run.pk)]
    assert ImportRun.objects.count() == 1


def test_a_command_line_import_killed_half_way_ends_failed_with_nothing_imported(
    world, tmp_path, portal
):
    csv_file = tmp_path / "trades.csv"
    csv_file.write_text(trades_csv(), encoding="utf-8")
    command = portal.start("manage", "import_data", "trades", str(csv_file), "--source", "cli")

    assert portal.slow_import_pid() == command.pid
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.RUNNING and f":{command.pid}:" in run.lease_holder

    command.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    command.wait(timeout=30)
    _lease_run_out(run)
    assert leases_sweep()["import"] == 1
    print(f"a killed command's run was failed {time.monotonic() - killed_at:.1f} s after the kill")

    run.refresh_from_db()
    assert (run.status, run.message) == (ImportStatus.FAILED, STOPPED_MESSAGE)
    assert run.finished_at is not None and (run.lease_holder, run.lease_expires_at) == ("", None)
    assert Trade.objects.count() == 0
    assert not AuditEvent.objects.filter(action=AuditAction.DATA_IMPORTED).exists()
    assert leases_sweep()["import"] == 0  # done with: later sweeps leave it alone
