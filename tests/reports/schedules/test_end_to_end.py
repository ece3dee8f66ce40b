"""Scheduled delivery end to end, with real processes: one slot, one message.

A real SMTP server (aiosmtpd) and a webhook receiver on 127.0.0.1, a real Celery
worker and celery-beat on the real broker (Redis on CI) against the test database
(``tests/reports/schedules/processes.py``). Each test makes a schedule due every
minute (cron ``* * * * *``) for the built-in "Holdings" template on a small
portfolio with two stocks priced every weekday of the last five weeks, its
positions derived, its data-quality scan done and its snapshot computed, so the
readiness gate finds the data complete:

1. the e-mail arrives once with the PDF attached (the bytes whose SHA-256 the
   run archived) and one webhook POST with a valid signature arrives, naming the
   same file;
2. the mail server refuses the first attempt (451): the delivery is retried after
   its backoff and the message arrives once, after two attempts;
3. two beat processes send the dispatcher at once: still one occurrence, one run
   and one message for the slot;
4. the worker is SIGKILLed while it renders the report; a new worker is started:
   once the leases lapse the sweeper re-sends the work, the run completes once
   (two attempts, the second in another process) and the e-mail arrives once.

The first test waits for the schedule's first slot after its creation (the next
minute boundary); the others start from the slot that began the minute they
created it in (as if created a minute earlier), to keep the file short. Once the
slot's occurrence exists, the first test stops beat and the others pause the
schedule through the service (beat goes on sweeping leases), so no second slot
starts; each then watches for duplicates for two lease lengths more. The seconds each
test takes are printed (``-s`` shows them).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from analytics.models import Price
from analytics.services.positions import portfolio_positions_rebuild
from analytics.services.quality import portfolio_quality_scan
from portal.celery import app
from portal.models import AuditAction, AuditEvent
from reports.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    ExternalRecipient,
    ExternalRecipientKind,
    OccurrenceState,
    ReportRun,
    RunStatus,
    Schedule,
    ScheduleOccurrence,
)
from reports.services.schedules import schedule_create, schedule_pause
from tests import database_url
from tests.analytics.factories import CashFlowFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory
from tests.reports.schedules.processes import (
    DISPATCH_SECONDS,
    LEASE_SECONDS,
    SWEEP_SECONDS,
    CeleryProcesses,
    SmtpServer,
    WebhookReceiver,
    wait_for,
)

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ALICE = "alice@example.com"
SLOT_WAIT_SECONDS = 60 + 30  # the next minute boundary, and a worker's start
DELIVERY_WAIT_SECONDS = 120  # a first render starts Chromium and WeasyPrint
QUIET_SECONDS = 2 * LEASE_SECONDS + SWEEP_SECONDS  # long enough for any duplicate


# --- fixtures ----------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    webhook = WebhookReceiver().start()
    yield webhook
    webhook.stop()


@pytest.fixture
def celery(tmp_path, smtp) -> Iterator[CeleryProcesses]:
    processes = CeleryProcesses(
        tmp_path, database_url=database_url.tests_database_url(), email_url=smtp.url
    )
    yield processes
    processes.stop_all()


@pytest.fixture
def orphans() -> Iterator[set[int]]:
    """Processes left behind by a killed worker (its pool child's Chromium and PDF
    helper), ended by pid once the test is over."""
    pids: set[int] = set()
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def timed(request) -> Iterator[None]:
    started = time.monotonic()
    yield
    print(f"\n{request.node.name}: {time.monotonic() - started:.1f} s")


def _portfolio(alice):
    """Alice's "SCHED" portfolio: 1,000,000 subscribed, 2,000 shares of each of two
    stocks bought at 100 five weeks ago, priced every weekday up to today at
    100 + d and 100 − d/2 (d: days since the purchase), so its data is complete
    and current whatever the day the test runs. Returns the purchase date."""
    today = timezone.now().date()
    start = today - dt.timedelta(days=35)
    portfolio = PortfolioFactory(code="SCHED", name="Scheduled Growth", owner=alice)
    stocks = [
        InstrumentFactory(identifier="SCHED-TECH", sector="Information Technology"),
        InstrumentFactory(identifier="SCHED-BANK", sector="Financials"),
    ]
    CashFlowFactory(portfolio=portfolio, date=start, amount=Decimal(1_000_000))
    for stock in stocks:
        TradeFactory(
            portfolio=portfolio,
            instrument=stock,
            trade_date=start,
            quantity=Decimal(2000),
            price=Decimal(100),
        )
    prices = []
    day = start
    while day <= today:
        if day.weekday() < 5:
            step = (day - start).days
            prices += [
                Price(instrument=stocks[0], date=day, close=Decimal(100 + step), currency="USD"),
                Price(
                    instrument=stocks[1], date=day, close=Decimal(100 - step / 2), currency="USD"
                ),
            ]
        day += dt.timedelta(days=1)
    Price.objects.bulk_create(prices)
    # The positions' commit requests the snapshot; computed here, in this process.
    with _eager():
        portfolio_positions_rebuild(portfolio=portfolio)
    portfolio_quality_scan(portfolio=portfolio)
    return start


@contextlib.contextmanager
def _eager() -> Iterator[None]:
    """Tasks this process sends run in it (the test's own setup), not on the broker."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = before


@pytest.fixture
def webhook_allowed(db):
    ExternalRecipient.objects.create(kind=ExternalRecipientKind.WEBHOOK_HOST, value="127.0.0.1")


def _every_minute(owner, *, channels=("email",), webhook_url="", name="Holdings every minute"):
    return schedule_create(
        user=owner,
        data={
            "name": name,
            "template": "holdings",
            "portfolios": ["SCHED"],
            "cron": "* * * * *",
            "calendar_rule": None,
            "timezone": "Europe/London",
            "period": "previous_business_day",
            "formats": ["pdf"],
            "channels": list(channels),
            "recipients": {"users": [owner.username], "teams": [], "emails": []},
            "webhook_url": webhook_url,
            "burst": False,
            "ready_wait_minutes": 30,
            "incomplete_action": "hold",
        },
    )


def _due_now(celery, beat, schedule) -> None:
    """Once ``beat`` sends the dispatcher, make the schedule's first slot the one
    that began this minute, as if it had been created a minute earlier, so the test
    need not wait for the next one. Not in a minute's last 20 seconds, so that the
    dispatcher claims this slot well before the next one falls due."""
    wait_for(lambda: "Sending due task dispatch" in celery.log_of(beat), what="beat dispatching")
    now = timezone.now()
    if now.second >= 40:
        time.sleep(60.5 - now.second - now.microsecond / 1e6)
        now = timezone.now()
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=now.replace(second=0, microsecond=0))


def _first_occurrence(schedule) -> ScheduleOccurrence:
    """The schedule's first slot, once the dispatcher has started it."""
    return wait_for(
        lambda: ScheduleOccurrence.objects.filter(schedule=schedule).first(),
        seconds=SLOT_WAIT_SECONDS,
        what="the first slot's occurrence",
    )


def _settled(schedule, *, states=(DeliveryState.SENT, DeliveryState.CONFIRMED)) -> list[Delivery]:
    """The schedule's deliveries once every one of them is sent (or confirmed)."""

    def done():
        deliveries = list(Delivery.objects.filter(schedule=schedule).order_by("channel"))
        return deliveries if deliveries and all(d.state in states for d in deliveries) else None

    return wait_for(done, seconds=DELIVERY_WAIT_SECONDS, what="every delivery sent")


def _pdf_of(mail) -> bytes:
    [(filename, content_type, content)] = mail.attachments()
    assert (content_type, filename.endswith(".pdf")) == ("application/pdf", True)
    assert content.startswith(b"%PDF-")
    return content


def _descendants(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    children = {int(child) for child in found.stdout.split()}
    for child in set(children):
        children |= _descendants(child)
    return children


# --- the tests -----------------------------------------------------------------------


def test_one_slot_sends_one_e_mail_with_the_pdf_and_one_signed_webhook(
    alice, smtp, receiver, celery, webhook_allowed, timed
):
    celery.worker()
    beat = celery.beat()
    bought = _portfolio(alice)  # while the processes start
    schedule = _every_minute(alice, channels=("email", "webhook"), webhook_url=receiver.url)
    receiver.secret = schedule.webhook_secret
    slot = schedule.next_run_at
    assert slot.second == 0 and slot > timezone.now()

    occurrence = _first_occurrence(schedule)
    celery.stop(beat)  # no further slot, no further dispatch
    email, webhook = _settled(schedule)
    time.sleep(QUIET_SECONDS)

    occurrence.refresh_from_db()
    assert occurrence.slot_at == slot
    assert occurrence.state == OccurrenceState.DONE
    assert occurrence.incomplete == []  # the gate found the data complete
    assert ScheduleOccurrence.objects.filter(schedule=schedule).count() == 1
    # One message, to alice, with the PDF the run archived.
    [mail] = smtp.messages
    assert mail.rcpt_tos == [ALICE]
    assert occurrence.period_label in mail.message["Subject"]
    assert occurrence.period_label in mail.body("text/plain")
    assert "<html" in mail.body("text/html").lower()
    pdf = _pdf_of(mail)
    sha256 = hashlib.sha256(pdf).hexdigest()
    # The holdings at the close of the period's last day, by hand: cash 1,000,000 −
    # 2 × 2,000 × 100 = 600,000, and 2,000 × (100 + d) + 2,000 × (100 − d/2), so
    # net assets of 1,000,000 + 1,000 × d, d days after the purchase.
    days = (occurrence.period_end - bought).days
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert f"Holdings on {occurrence.period_end.isoformat()}" in text
    assert f"{1_000_000 + 1_000 * days:,}" in text
    email.refresh_from_db()
    assert (email.channel, email.recipient, email.attempts) == (DeliveryChannel.EMAIL, alice, 1)
    assert email.message_id == mail.message["Message-ID"]
    [archived] = email.run.files.filter(format="pdf")
    assert (archived.sha256, archived.size) == (sha256, len(pdf))
    # One POST, signed with the schedule's secret, naming the same file; its 2xx confirms.
    [post] = receiver.posts
    assert post.valid
    assert post.headers["Idempotency-Key"] == webhook.key
    body = post.json()
    assert [(f["format"], f["sha256"], f["size"]) for f in body["files"]] == [
        ("pdf", sha256, len(pdf))
    ]
    assert body["portfolios"] == ["SCHED"]
    webhook.refresh_from_db()
    assert (webhook.channel, webhook.state, webhook.response_status) == (
        DeliveryChannel.WEBHOOK,
        DeliveryState.CONFIRMED,
        200,
    )
    assert AuditEvent.objects.filter(action=AuditAction.DELIVERY).count() == 2


def test_a_refused_attempt_is_retried_and_the_message_arrives_once(alice, smtp, celery, timed):
    smtp.refuse_next(1)  # 451: try again later
    celery.worker()
    beat = celery.beat()
    _portfolio(alice)
    schedule = _every_minute(alice)
    _due_now(celery, beat, schedule)

    _first_occurrence(schedule)
    schedule_pause(user=alice, schedule=schedule)  # no second slot
    celery.stop(beat)  # the retry is the delivery's own, not the sweeper's
    [delivery] = _settled(schedule)
    time.sleep(QUIET_SECONDS)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)
    assert (smtp.attempts, smtp.refused) == (2, 1)
    [mail] = smtp.messages
    assert mail.rcpt_tos == [ALICE]
    _pdf_of(mail)
    assert AuditEvent.objects.filter(action=AuditAction.DELIVERY).count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.DELIVERY_FAILED).exists()


def test_two_beat_processes_still_send_one_message_per_slot(alice, smtp, celery, timed):
    worker = celery.worker(concurrency=3)  # dispatches from both beats run side by side
    beats = [celery.beat(), celery.beat()]
    _portfolio(alice)
    schedule = _every_minute(alice)

    def sent(beat) -> int:
        return celery.log_of(beat).count("Sending due task dispatch")

    # The slot falls due only once both beats are sending the dispatcher.
    wait_for(lambda: all(sent(beat) for beat in beats), what="both beats dispatching")
    before = [sent(beat) for beat in beats]
    _due_now(celery, beats[1], schedule)
    occurrence = _first_occurrence(schedule)
    schedule_pause(user=alice, schedule=schedule)  # no second slot
    time.sleep(2 * DISPATCH_SECONDS)  # both go on dispatching
    for beat in beats:
        celery.stop(beat)
    [delivery] = _settled(schedule)
    time.sleep(QUIET_SECONDS)

    assert all(sent(beat) >= count + 2 for beat, count in zip(beats, before, strict=True))
    dispatches = len(
        re.findall(r"reports\.schedules_dispatch\[[^]]+\] received", celery.log_of(worker))
    )
    assert list(ScheduleOccurrence.objects.filter(schedule=schedule)) == [occurrence]
    assert ReportRun.objects.filter(deliveries__schedule=schedule).distinct().count() == 1
    assert Delivery.objects.filter(schedule=schedule).count() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 1)
    [mail] = smtp.messages
    assert mail.rcpt_tos == [ALICE]
    _pdf_of(mail)
    print(f"\n{dispatches} dispatcher runs from two beats, one occurrence, one message")


def test_a_worker_killed_mid_render_is_recovered_and_the_e_mail_arrives_once(
    alice, smtp, celery, orphans, timed
):
    celery.slow_first_render()
    first = celery.worker(concurrency=1)
    beat = celery.beat()  # the dispatcher, and the lease sweep that recovers the work
    _portfolio(alice)
    schedule = _every_minute(alice)
    _due_now(celery, beat, schedule)

    _first_occurrence(schedule)
    schedule_pause(user=alice, schedule=schedule)  # no second slot; beat sweeps on
    [rendering] = wait_for(celery.renders, seconds=DELIVERY_WAIT_SECONDS, what="a render")
    assert rendering in CeleryProcesses.children(first)
    run = wait_for(
        lambda: ReportRun.objects.filter(
            deliveries__schedule=schedule, status=RunStatus.RUNNING
        ).first(),
        what="the run held by the rendering worker",
    )
    assert f":{rendering}:" in run.lease_holder
    [delivery] = Delivery.objects.filter(schedule=schedule)
    assert delivery.state == DeliveryState.SENDING

    # The whole worker dies, as a machine would: its message stays unacknowledged
    # until the broker's visibility timeout, so recovery is the leases' job.
    orphans.update(_descendants(first.pid))  # the killed child's Chromium and PDF helper
    os.kill(first.pid, signal.SIGKILL)
    os.kill(rendering, signal.SIGKILL)
    killed_at = time.monotonic()
    second = celery.worker(concurrency=1)
    celery.wait_until_ready(second)
    [delivery] = _settled(schedule)
    recovery = time.monotonic() - killed_at
    time.sleep(QUIET_SECONDS)

    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 2)
    assert ReportRun.objects.filter(deliveries__schedule=schedule).distinct().count() == 1
    renders = celery.renders()
    assert renders[0] == rendering
    assert renders[1:] and rendering not in renders[1:]
    assert all(pid in CeleryProcesses.children(second) for pid in renders[1:])
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT
    [mail] = smtp.messages
    assert mail.rcpt_tos == [ALICE]
    _pdf_of(mail)
    print(f"\nrecovered {recovery:.1f} s after the kill")
