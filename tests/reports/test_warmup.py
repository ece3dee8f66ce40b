"""A worker process that serves the reports queues starts Chromium (and the
WeasyPrint child) as it starts; one that does not, or with the warm-up turned
off, starts nothing; a missing or broken browser is a warning, never a crash.

Kaleido's session is replaced by a stand-in that records being opened, so no
browser is started here."""

import logging
import threading
from typing import ClassVar

import kaleido
import pytest
from celery.concurrency import prefork, solo
from celery.signals import worker_process_init, worker_ready

from portal.celery import app
from reports import warmup
from reports.renderers import svg
from reports.renderers.svg import ChartExporter


class RecordingSession:
    """Stands in for ``kaleido.Kaleido``: records its arguments and being opened."""

    opened: ClassVar[list["RecordingSession"]] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    async def open(self):
        RecordingSession.opened.append(self)

    async def close(self):
        pass


class BrokenSession(RecordingSession):
    async def open(self):
        raise RuntimeError("Chromium exited with code 127")


class RecordingPdfProcess:
    def __init__(self):
        self.starts = 0

    def start(self):
        self.starts += 1


@pytest.fixture
def browser(tmp_path, monkeypatch):
    """A Chromium "installed" at a path of its own, and a fresh process exporter."""
    path = tmp_path / "chromium"
    path.write_text("")
    monkeypatch.setenv("REPORT_CHROMIUM_PATH", str(path))
    monkeypatch.delenv(warmup.SETTING, raising=False)
    RecordingSession.opened = []
    monkeypatch.setattr(kaleido, "Kaleido", RecordingSession)
    exporter = ChartExporter()
    monkeypatch.setattr(svg, "_exporter", exporter)
    yield path
    exporter.close()


@pytest.fixture
def pdf(monkeypatch):
    process = RecordingPdfProcess()
    monkeypatch.setattr("reports.renderers.pdf.pdf_process", lambda: process)
    return process


@pytest.fixture
def consuming(monkeypatch):
    """Make this process's worker consume the named queues (as ``-Q`` does)."""
    queues = app.amqp.queues
    monkeypatch.setattr(queues, "_consume_from", queues._consume_from)

    def select(*names):
        queues.select(list(names))

    return select


def _join_warm_up():
    for thread in threading.enumerate():
        if thread.name == "report-renderers-warm-up":
            thread.join(timeout=30)


def test_a_reports_worker_process_starts_chromium_as_it_starts(browser, pdf, consuming):
    consuming("reports")

    worker_process_init.send(sender="celery@reports-1")
    _join_warm_up()

    [session] = RecordingSession.opened
    assert session.kwargs["path"] == str(browser)
    assert session.kwargs["mathjax"] is False
    assert svg.chart_exporter().started
    assert pdf.starts == 1


def test_a_delivery_worker_warms_up_too(browser, pdf, consuming):
    consuming("delivery", "default")

    thread = warmup.warm_up()
    assert thread is not None
    thread.join(timeout=30)

    assert len(RecordingSession.opened) == 1


def test_a_worker_of_every_queue_serves_reports():
    # Without -Q a worker consumes every queue the app declares.
    assert warmup.serves_reports(warmup.consumed_queues())


def test_a_worker_of_other_queues_starts_nothing(browser, pdf, consuming):
    consuming("analytics", "compliance")

    assert warmup.warm_up() is None
    worker_process_init.send(sender="celery@analytics-1")
    _join_warm_up()

    assert RecordingSession.opened == []
    assert not svg.chart_exporter().started
    assert pdf.starts == 0


def test_the_warm_up_can_be_turned_off(browser, pdf, consuming, monkeypatch):
    consuming("reports")
    monkeypatch.setenv(warmup.SETTING, "false")

    assert warmup.warm_up() is None
    assert RecordingSession.opened == []


def test_a_missing_browser_is_a_warning_not_a_crash(browser, pdf, consuming, caplog):
    consuming("reports")
    browser.unlink()

    with caplog.at_level(logging.WARNING, logger="reports.warmup"):
        worker_process_init.send(sender="celery@reports-1")
        _join_warm_up()

    assert RecordingSession.opened == []
    assert not svg.chart_exporter().started
    [record] = [r for r in caplog.records if r.name == "reports.warmup"]
    assert record.levelno == logging.WARNING
    assert "not installed at" in record.getMessage()
    assert str(browser) in record.getMessage()
    assert pdf.starts == 1  # the PDF child does not need the browser


def test_a_browser_that_fails_to_start_is_a_warning(browser, pdf, monkeypatch, caplog):
    monkeypatch.setattr(kaleido, "Kaleido", BrokenSession)

    with caplog.at_level(logging.WARNING, logger="reports.warmup"):
        warmup.renderers_start()

    messages = [r.getMessage() for r in caplog.records if r.name == "reports.warmup"]
    assert any("Chromium exited with code 127" in message for message in messages)
    assert not svg.chart_exporter().started


def test_a_solo_worker_warms_up_when_ready_and_a_prefork_parent_does_not(browser, pdf, consuming):
    consuming("reports")

    class Consumer:
        def __init__(self, pool):
            self.pool = pool

    worker_ready.send(sender=Consumer(prefork.TaskPool.__new__(prefork.TaskPool)))
    _join_warm_up()
    assert RecordingSession.opened == []  # its pool children warm up themselves

    worker_ready.send(sender=Consumer(solo.TaskPool.__new__(solo.TaskPool)))
    _join_warm_up()
    assert len(RecordingSession.opened) == 1
