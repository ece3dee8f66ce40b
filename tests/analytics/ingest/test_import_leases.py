"""Every running import holds a lease: a duplicated task leaves a live one alone,
an expired one is taken over, the sweeper re-sends queued uploads and fails the
runs whose input died with their process, and a run whose lease was taken over
commits nothing. (The same with real processes killed: ``test_import_kill``.)"""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from analytics.ingest import bulk
from analytics.models import ImportOrigin, ImportRun, ImportStatus, Trade
from analytics.services.imports.recovery import STOPPED_MESSAGE
from analytics.services.imports.runs import ImportLeaseLost, data_import, import_run_create
from analytics.services.imports.upload import import_run_execute_queued, import_upload
from portal.celery import app
from portal.leases import leases_sweep
from portal.models import AuditAction, AuditEvent

TRADES = (
    "portfolio,instrument,trade_date,side,quantity,price,external_id\n"
    "GROWTH,AAA,2024-01-02,buy,100,10.5,L-1\n"
    "GROWTH,SAP.DE,2024-01-03,buy,20,150.25,L-2\n"
)
DEAD_HOLDER = "worker-1:4242:0badf00d"  # a worker child that was killed


@pytest.fixture
def queued(world, alice, settings, django_capture_on_commit_callbacks):
    """A queued upload of two trades (its task not sent)."""
    settings.INGEST_INLINE_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False):
        run = import_upload(
            kind="trades",
            upload=SimpleUploadedFile("trades.csv", TRADES.encode()),
            file_format="csv",
            source="oms",
            actor=alice,
        )
    return run


def held_by_the_dead_worker(run: ImportRun, *, expires_in: dt.timedelta) -> None:
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.RUNNING,
        lease_holder=DEAD_HOLDER,
        lease_expires_at=timezone.now() + expires_in,
    )


def stored_file(run: ImportRun) -> Path:
    return Path(settings.MEDIA_ROOT) / run.stored_file


def test_a_duplicated_task_leaves_a_run_with_a_live_lease_alone(queued):
    held_by_the_dead_worker(queued, expires_in=dt.timedelta(minutes=1))
    assert import_run_execute_queued(run_id=queued.pk) is None
    queued.refresh_from_db()
    assert (queued.status, queued.lease_holder) == (ImportStatus.RUNNING, DEAD_HOLDER)
    assert stored_file(queued).is_file() and Trade.objects.count() == 0


def test_a_task_that_finds_the_lease_expired_takes_over_and_imports_the_kept_file(queued):
    held_by_the_dead_worker(queued, expires_in=dt.timedelta(seconds=-1))
    run = import_run_execute_queued(run_id=queued.pk)
    assert run is not None and (run.status, run.rows_created) == (ImportStatus.COMMITTED, 2)
    run.refresh_from_db()
    assert (run.lease_holder, run.lease_expires_at) == ("", None)
    assert not stored_file(queued).exists() and Trade.objects.count() == 2


def test_a_queued_run_whose_file_is_gone_fails_instead_of_coming_back(queued):
    stored_file(queued).unlink()
    held_by_the_dead_worker(queued, expires_in=dt.timedelta(seconds=-1))
    assert import_run_execute_queued(run_id=queued.pk) is None
    queued.refresh_from_db()
    assert queued.status == ImportStatus.FAILED and "no longer kept" in queued.message
    assert queued.lease_expires_at is None


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_sweeper_imports_a_queued_run_again_and_fails_a_command_line_one(queued, eager):
    held_by_the_dead_worker(queued, expires_in=dt.timedelta(seconds=-1))
    command_line = import_run_create(
        kind="trades", origin=ImportOrigin.CLI, source="file", actor=None
    )
    held_by_the_dead_worker(command_line, expires_in=dt.timedelta(seconds=-1))
    finished = import_run_create(kind="trades", origin=ImportOrigin.CLI, source="file", actor=None)
    ImportRun.objects.filter(pk=finished.pk).update(status=ImportStatus.COMMITTED)

    assert leases_sweep()["import"] == 2

    queued.refresh_from_db()
    command_line.refresh_from_db()
    assert (queued.status, queued.rows_created) == (ImportStatus.COMMITTED, 2)
    assert (command_line.status, command_line.message) == (ImportStatus.FAILED, STOPPED_MESSAGE)
    assert command_line.lease_expires_at is None
    assert ImportRun.objects.get(pk=finished.pk).status == ImportStatus.COMMITTED
    assert Trade.objects.count() == 2 and not stored_file(queued).exists()
    assert leases_sweep()["import"] == 0


def test_a_run_taken_over_while_it_ran_commits_nothing(world, alice, monkeypatch):
    original = bulk.staging_lock

    def taken_over_meanwhile(**kwargs):
        original(**kwargs)
        ImportRun.objects.filter(status=ImportStatus.RUNNING).update(lease_holder=DEAD_HOLDER)

    monkeypatch.setattr(bulk, "staging_lock", taken_over_meanwhile)
    with pytest.raises(ImportLeaseLost):
        data_import(
            kind="trades",
            rows=[
                {
                    "portfolio": "GROWTH",
                    "instrument": "AAA",
                    "trade_date": "2024-01-02",
                    "side": "buy",
                    "quantity": "1",
                    "price": "10",
                    "external_id": "L-9",
                }
            ],
            source="oms",
            actor=alice,
        )
    assert Trade.objects.count() == 0
    assert not AuditEvent.objects.filter(action=AuditAction.DATA_IMPORTED).exists()
