"""Runs: a row before its task, claimed under a lease, rendered once, stored by
its holder only; failures readable; incomplete data rendered with the gaps named.

Another worker is simulated by writing ``lease_holder`` and ``lease_expires_at``
directly, as its claim would have."""

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analytics.models import DataQualityFinding, FindingKind, PortfolioDataStatus, Severity
from portal import leases
from portal.models import AuditAction, AuditEvent
from reports.document import Section
from reports.errors import ReportInvalid
from reports.models import ReportFile, ReportRun, RunStatus
from reports.services import runs
from reports.services.templates import report_template_create
from reports.storage import report_storage
from tests.database_url import tests_database_url
from tests.reports.core_support import (
    probe_block,
    probe_build,
    probe_install,
    renderers_install,
    snapshot_done,
)

AS_OF = dt.date(2024, 3, 28)
ELSEWHERE = "elsewhere:4242:cafe0001"


@pytest.fixture(autouse=True)
def probe(monkeypatch):
    return probe_install(monkeypatch)


@pytest.fixture
def rendered(monkeypatch):
    return renderers_install(monkeypatch)


@pytest.fixture
def sent(monkeypatch):
    """The tasks the run services send (at once or after commit)."""
    tasks: list[tuple[str, tuple]] = []
    monkeypatch.setattr(runs, "task_send", lambda name, *args: tasks.append((name, args)))
    monkeypatch.setattr(runs, "task_send_on_commit", lambda name, *args: tasks.append((name, args)))
    return tasks


@pytest.fixture
def template(alice, growth):
    snapshot_done(growth, as_of=AS_OF)
    return report_template_create(
        user=alice,
        name="Growth",
        blocks=["probe"],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH"], "period": "ytd"},
    )


def _request(user, template, **kwargs):
    kwargs.setdefault("formats", ["pdf", "json"])
    return runs.report_run_request(user=user, template=template, **kwargs)


def _stored_bytes(file):
    with report_storage().open(file.storage_name, "rb") as handle:
        return handle.read()


def test_a_request_creates_the_queued_row_audits_it_and_sends_its_task(alice, template, sent):
    run = _request(alice, template, parameters={"period": "1y"})

    assert run.status == RunStatus.QUEUED
    assert run.key.startswith(f"user:{alice.pk}:")
    assert (run.run_as, run.requested_by, run.version.number) == (alice, alice, 1)
    assert run.formats == ["pdf", "json"]
    assert run.parameters["period"] == "1y"
    assert run.progress_total == 3  # one block, two formats
    assert sent == [("reports.report_run_execute", (run.pk,))]
    [event] = AuditEvent.objects.filter(action=AuditAction.REPORT_RUN_REQUESTED)
    assert event.target_id == str(run.pk)
    assert event.details["formats"] == ["pdf", "json"]
    assert event.details["template"] == "growth"


def test_a_repeated_idempotency_key_finds_the_same_run(alice, template, sent):
    first = _request(alice, template, idempotency_key="click-1")
    second = _request(alice, template, idempotency_key="click-1")

    assert first.pk == second.pk
    assert len(sent) == 1
    assert AuditEvent.objects.filter(action=AuditAction.REPORT_RUN_REQUESTED).count() == 1


def test_an_unknown_format_is_refused_and_nothing_is_created(alice, template, sent):
    with pytest.raises(ReportInvalid) as error:
        _request(alice, template, formats=["pdf", "docx"])

    assert error.value.field == "formats"
    assert "There is no format “docx”" in error.value.message
    assert not ReportRun.objects.exists()
    assert sent == []


def test_an_ad_hoc_definition_runs_without_a_template(alice, growth, rendered, sent):
    snapshot_done(growth, as_of=AS_OF)
    run = runs.report_run_request(
        user=alice,
        definition={"name": "Quick look", "blocks": [{"kind": "probe"}]},
        parameters={"portfolios": ["GROWTH"]},
        formats=["json"],
    )

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.template, run.version, run.title) == (
        RunStatus.SUCCEEDED,
        None,
        None,
        "Quick look",
    )
    assert run.definition["blocks"] == [{"kind": "probe", "options": {}}]
    assert json.loads(_stored_bytes(run.files.get()))["portfolios"] == ["GROWTH"]


def test_a_run_stores_each_file_with_its_size_and_checksum(alice, template, rendered, sent):
    run = _request(alice, template)

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert (run.progress_done, run.progress_total) == (3, 3)
    assert run.attempts == 1
    assert (run.lease_holder, run.lease_expires_at) == ("", None)
    assert run.started_at <= run.finished_at
    files = {file.format: file for file in run.files.all()}
    assert set(files) == {"pdf", "json"}
    for file in files.values():
        content = _stored_bytes(file)
        assert file.size == len(content)
        assert file.sha256 == hashlib.sha256(content).hexdigest()
    assert (files["pdf"].pages, files["pdf"].name, files["pdf"].content_type) == (
        1,
        "report.pdf",
        "application/pdf",
    )


def test_a_task_delivered_twice_renders_once(alice, template, rendered, sent):
    run = _request(alice, template, formats=["json"])

    runs.report_run_execute(run_id=run.pk)
    again = runs.report_run_execute(run_id=run.pk)

    assert again is None
    assert len(rendered.calls) == 1
    assert ReportFile.objects.filter(run=run).count() == 1


def test_a_run_a_live_worker_holds_is_left_alone(alice, template, rendered, sent):
    run = _request(alice, template, formats=["json"])
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        lease_holder=ELSEWHERE,
        lease_expires_at=timezone.now() + dt.timedelta(seconds=60),
    )

    assert runs.report_run_execute(run_id=run.pk) is None
    assert rendered.calls == []
    assert ReportRun.objects.get(pk=run.pk).lease_holder == ELSEWHERE


def test_a_run_whose_lease_expired_is_taken_over(alice, template, rendered, sent):
    run = _request(alice, template, formats=["json"])
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        attempts=1,
        lease_holder=ELSEWHERE,
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1),
    )

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 2)
    assert len(rendered.calls) == 1


def test_the_sweeper_resends_a_run_whose_worker_died(alice, template, sent):
    run = _request(alice, template, formats=["json"])
    sent.clear()
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        lease_holder=ELSEWHERE,
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1),
    )

    recovered = leases.leases_sweep()

    assert recovered["report_run"] == 1
    assert sent == [("reports.report_run_execute", (run.pk,))]
    assert ReportRun.objects.get(pk=run.pk).lease_holder == leases.RESENT


def test_a_queued_run_whose_task_never_started_is_resent(alice, template, sent):
    run = _request(alice, template, formats=["json"])
    sent.clear()
    # The row is created with a lease held by the sweeper's name: after one length
    # with no worker claiming it, the sweeper sends the task again.
    ReportRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    leases.leases_sweep()

    assert sent == [("reports.report_run_execute", (run.pk,))]


def test_a_run_interrupted_too_often_fails_readably(alice, template, rendered, sent):
    run = _request(alice, template, formats=["json"])
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        attempts=runs.MAX_ATTEMPTS,
        lease_holder=leases.RESENT,
        lease_expires_at=timezone.now() + dt.timedelta(seconds=60),
    )

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "The report was interrupted 3 times and was not finished."
    assert rendered.calls == []


def test_a_failing_block_fails_the_run_with_a_readable_message(
    alice, template, rendered, sent, monkeypatch
):
    def build(context):
        return [Section(key="probe", block="probe", title="x")] if 1 / 0 else []

    probe_install(monkeypatch, probe_block(build))
    run = _request(alice, template, formats=["json"])

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "The block “Probe” failed: division by zero"
    assert "ZeroDivisionError" in run.traceback
    assert rendered.calls == []
    assert not run.files.exists()
    assert (run.lease_holder, run.lease_expires_at) == ("", None)


def test_a_failing_renderer_names_the_format(alice, template, sent, monkeypatch):
    def broken(file_format):
        def render(document, *, directory):
            raise RuntimeError("no fonts")

        return render

    monkeypatch.setattr(runs, "renderer_get", broken)
    run = _request(alice, template, formats=["pdf"])

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.FAILED, "Rendering the PDF file failed: no fonts")


def test_a_holder_that_lost_its_lease_stores_nothing(alice, template, rendered, sent, monkeypatch):
    def build(context):
        # Meanwhile the lease expired and another worker took the run over.
        ReportRun.objects.update(lease_holder=ELSEWHERE)
        return probe_build(context)

    probe_install(monkeypatch, probe_block(build))
    run = _request(alice, template, formats=["json"])

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.lease_holder) == (RunStatus.RUNNING, ELSEWHERE)
    assert not run.files.exists()
    assert not report_storage().exists(f"runs/{run.pk}/1/report.json")


def test_progress_is_written_block_by_block(alice, template, rendered, sent, monkeypatch):
    seen = []

    def build(context):
        row = ReportRun.objects.get()
        seen.append((row.progress_done, row.progress_total, row.progress_label))
        return probe_build(context)

    probe_install(monkeypatch, probe_block(build))
    probe_install(monkeypatch, probe_block(build, kind="second_probe"))
    template = report_template_create(
        user=alice,
        name="Two blocks",
        blocks=["probe", "second_probe"],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH"]},
    )
    run = _request(alice, template, formats=["json"])

    runs.report_run_execute(run_id=run.pk)

    assert seen == [(0, 3, "Building “Probe”"), (1, 3, "Building “Second probe”")]


def test_incomplete_data_still_renders_with_the_gaps_named(alice, growth, income, rendered, sent):
    snapshot_done(growth, as_of=AS_OF)
    growth.data_version = 3  # newer data than the snapshot's, not analysed yet
    growth.save()
    PortfolioDataStatus.objects.create(
        portfolio=growth,
        date=AS_OF,
        holdings=5,
        priced=4,
        valued=4,
        completeness=0.8,
        data_as_of=dt.date(2024, 3, 27),
        computed_at=timezone.now(),
    )
    DataQualityFinding.objects.create(
        kind=FindingKind.STALE_PRICE,
        severity=Severity.WARNING,
        portfolio=growth,
        date=AS_OF,
        message="A price has not moved for 5 days.",
        fingerprint="stale:growth:1",
        last_seen_at=timezone.now(),
    )
    template = report_template_create(
        user=alice,
        name="Book",
        blocks=["probe"],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH", "INCOME"]},
    )
    run = _request(alice, template, formats=["json"])

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    banner = json.loads(_stored_bytes(run.files.get()))["incomplete"]
    assert banner == [
        "Global Growth (GROWTH): figures are from the data as of 2024-03-28; newer data has "
        "not been analysed yet.",
        "Global Growth (GROWTH): 1 day of the period with incomplete data "
        "(latest 2024-03-28, 80% complete).",
        "Global Growth (GROWTH): the latest data is as of 2024-03-27, before the report "
        "date 2024-03-28.",
        "Global Growth (GROWTH): open data-quality findings (1 warning).",
        "Global Income (INCOME): no analytics have been computed yet, so its figures are missing.",
    ]
    assert run.data["GROWTH"]["stale"] is True
    assert run.data["INCOME"] == {
        "data_version": 0,
        "snapshot_id": None,
        "as_of": None,
        "stale": True,
        "period_start": f"{timezone.localdate().year}-01-01",
        "period_end": timezone.localdate().isoformat(),
    }
    assert run.quality["GROWTH"]["completeness"] == 0.8
    assert run.quality["GROWTH"]["findings"]["warning"] == 1


def test_a_run_through_celery_renders_in_the_task(
    alice, template, rendered, django_capture_on_commit_callbacks
):
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = _request(alice, template, formats=["json"])
    finally:
        app.conf.task_always_eager = previous

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert len(rendered.calls) == 1


@pytest.fixture
def worker_queue():
    """A real worker process consuming one fresh queue (so no other worker takes
    the test's task), against the test database and the real broker."""
    queue = f"reports-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": tests_database_url()}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queue,
            "--pool", "solo", "--without-mingle", "--without-gossip", "--loglevel", "INFO",
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    yield queue
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output[-4000:])  # shown by pytest when the test fails


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_requested_run_is_rendered_by_a_real_worker(alice, growth, worker_queue, monkeypatch):
    from portal.celery import app

    snapshot_done(growth, as_of=AS_OF)
    monkeypatch.setattr(
        runs,
        "task_send_on_commit",
        lambda name, *args: transaction.on_commit(
            lambda: app.signature(name, args=args).apply_async(queue=worker_queue)
        ),
    )
    template = report_template_create(
        user=alice,
        name="Holdings",
        blocks=["data_quality"],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH"]},
    )

    run = _request(alice, template, formats=["json"])

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.5)
    assert (run.status, run.error) == (RunStatus.SUCCEEDED, "")
    assert run.attempts == 1
    file = run.files.get()
    assert file.format == "json"
    assert file.sha256 == hashlib.sha256(_stored_bytes(file)).hexdigest()


def test_a_storage_that_refuses_the_files_fails_the_run_readably(
    alice, template, rendered, sent, monkeypatch
):
    def refuse(**kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(runs, "report_file_save", refuse)
    run = _request(alice, template, formats=["json"])

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "The report's files could not be stored: No space left on device"
    assert not run.files.exists()
