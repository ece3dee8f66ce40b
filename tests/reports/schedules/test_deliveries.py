"""Deliveries: claimed once, their run rendered in-process, sent by e-mail, webhook
or inbox, each file audited, transient failures retried with capped full-jitter
backoff, then failed with the owner told; confirmed by a read, an opened report
or a webhook's 2xx; a stuck "sending" delivery recovered by the lease sweeper.

Mail goes to Django's locmem outbox, or through the SMTP backend to a closed port
on 127.0.0.1 for "the mail server is down"; webhooks go to a real HTTP receiver
on 127.0.0.1. Another worker is simulated by writing its lease on the row, as its
claim would have."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal import leases
from portal.channels.inbox import inbox_mark_read
from portal.channels.webhook import webhook_signature
from portal.models import AuditAction, AuditEvent, InboxMessage
from reports.errors import ReportInvalid, ReportPermissionDenied
from reports.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    OccurrenceState,
    ReportRun,
    RunStatus,
    Schedule,
)
from reports.services import deliveries
from reports.services.deliveries import (
    delivery_execute,
    delivery_message_id,
    delivery_retry,
    delivery_retry_ceiling,
    delivery_retry_delay,
)
from reports.services.runs import report_run_execute
from tests.reports.core_support import probe_install, renderers_install
from tests.reports.schedules.delivery_support import (
    SECRET,
    Receiver,
    TasksSent,
    delivery_of,
    due_now,
    free_port,
    occurrence_of,
    probe_template,
    run_for,
    schedule_of,
    sha256_hex,
    stored_bytes,
)

ELSEWHERE = "elsewhere:4242:cafe0001"


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    settings.DELIVERY_RETRY_BASE_SECONDS = 30.0
    settings.DELIVERY_RETRY_MAX_SECONDS = 900.0
    settings.DELIVERY_MAX_ATTEMPTS = 3


@pytest.fixture(autouse=True)
def probe(monkeypatch):
    return probe_install(monkeypatch)


@pytest.fixture(autouse=True)
def rendered(monkeypatch):
    return renderers_install(monkeypatch)


@pytest.fixture
def tasks(monkeypatch):
    return TasksSent(monkeypatch)


@pytest.fixture
def schedule(alice, growth):
    return schedule_of(probe_template(alice, growth))


@pytest.fixture
def occurrence(schedule):
    return occurrence_of(schedule)


@pytest.fixture
def smtp_down(settings):
    """Django's SMTP backend pointed at a port on 127.0.0.1 where nothing listens."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 3


def _email_to_bob(occurrence, bob):
    return delivery_of(occurrence, run_for(occurrence.schedule, bob), recipient=bob)


# --- e-mail -----------------------------------------------------------------------


def test_an_email_carries_text_and_html_bodies_and_the_files_attached(occurrence, bob, tasks):
    delivery = _email_to_bob(occurrence, bob)

    done = delivery_execute(delivery_id=delivery.pk)

    assert done.state == DeliveryState.SENT
    assert done.attempts == 1
    assert done.sent_at is not None and done.confirmed_at is None
    assert (done.lease_holder, done.lease_expires_at) == ("", None)
    run = ReportRun.objects.get(pk=delivery.run_id)
    assert run.status == RunStatus.SUCCEEDED  # rendered by the delivery itself
    [message] = mail.outbox
    assert message.to == ["bob@example.com"]
    assert message.subject == "Growth monthly: February 2024"
    files = {file.name: file for file in run.files.all()}
    assert set(files) == {"report.pdf", "report.csv"}
    # Django hands text attachments (CSV) back as text.
    attached = {
        name: (content.encode() if isinstance(content, str) else content, kind)
        for name, content, kind in message.attachments
    }
    for name, file in files.items():
        content = stored_bytes(file)
        assert attached[name][0] == content
        # The body names each file with its size and an independent SHA-256.
        assert f"{name} ({file.format.upper()}" in message.body
        assert f"{len(content)} bytes" in message.body
        assert sha256_hex(content) in message.body
    assert attached["report.pdf"][1] == "application/pdf"
    assert "Period: February 2024 (2024-02-01 to 2024-02-29)" in message.body
    assert "Data as of:" in message.body
    assert (
        "https://portal.example.com" + reverse("reports:run-detail", args=[run.pk]) in message.body
    )
    assert "INCOMPLETE DATA" not in message.body
    [(html, kind)] = message.alternatives
    assert kind == "text/html"
    assert (
        "<h1" in html
        and "Growth monthly" in html
        and sha256_hex(stored_bytes(files["report.csv"])) in html
    )
    assert 'id="incomplete-banner"' not in html
    # One Message-ID per delivery, kept on the row.
    assert message.message()["Message-ID"] == done.message_id == delivery_message_id(done)


def test_every_sent_file_is_audited_with_its_format_size_sha256_recipient_and_channel(
    occurrence, bob, tasks
):
    delivery = _email_to_bob(occurrence, bob)

    delivery_execute(delivery_id=delivery.pk)

    events = AuditEvent.objects.filter(action=AuditAction.DELIVERY).order_by("id")
    run = ReportRun.objects.get(pk=delivery.run_id)
    expected = {
        file.name: (file.format, len(stored_bytes(file)), sha256_hex(stored_bytes(file)))
        for file in run.files.all()
    }
    assert len(events) == 2
    for event in events:
        assert event.target_id == str(delivery.pk)
        details = event.details
        assert (details["format"], details["size"], details["sha256"]) == expected[details["file"]]
        assert details["recipient"] == "bob"
        assert details["channel"] == "email"
        assert details["sent_as"] == "attachment"
        assert details["schedule"] == delivery.schedule_id


def test_an_incomplete_run_carries_the_banner_in_both_bodies(occurrence, bob, tasks):
    delivery = _email_to_bob(occurrence, bob)
    report_run_execute(run_id=delivery.run_id)  # rendered before its delivery
    gap = "Global Growth (GROWTH): prices missing for 2024-02-29"
    ReportRun.objects.filter(pk=delivery.run_id).update(incomplete=[gap])

    delivery_execute(delivery_id=delivery.pk)

    [message] = mail.outbox
    assert message.subject == "Growth monthly: February 2024 [incomplete data]"
    assert "INCOMPLETE DATA: this report was rendered from data with gaps:" in message.body
    assert f"  - {gap}" in message.body
    html = message.alternatives[0][0]
    assert 'id="incomplete-banner"' in html and gap in html


def test_files_above_the_attachment_limit_go_as_signed_links(occurrence, bob, tasks, settings):
    settings.DELIVERY_ATTACHMENT_MAX_BYTES = 10  # the recorded files are larger

    done = delivery_execute(delivery_id=_email_to_bob(occurrence, bob).pk)

    [message] = mail.outbox
    assert message.attachments == []
    assert done.state == DeliveryState.SENT
    links = [line.strip() for line in message.body.splitlines() if "/reports/d/" in line]
    assert len(links) == 2
    assert all(link.startswith("https://portal.example.com/reports/d/") for link in links)
    assert "download links, valid until" in message.body
    assert all(f'href="{link}"' in message.alternatives[0][0] for link in links)
    sent_as = set(
        AuditEvent.objects.filter(action=AuditAction.DELIVERY).values_list(
            "details__sent_as", flat=True
        )
    )
    assert sent_as == {"link"}


def test_a_user_without_an_address_fails_at_once_and_the_owner_is_told(occurrence, bob, tasks):
    bob.email = ""
    bob.save()

    done = delivery_execute(delivery_id=_email_to_bob(occurrence, bob).pk)

    assert done.state == DeliveryState.FAILED
    assert done.attempts == 1
    assert "bob has no e-mail address" in done.error
    assert not mail.outbox
    [event] = AuditEvent.objects.filter(action=AuditAction.DELIVERY_FAILED)
    assert event.details["recipient"] == "bob" and event.details["channel"] == "email"
    [told] = InboxMessage.objects.filter(recipient=occurrence.schedule.owner)
    assert "delivery to bob failed" in told.subject
    assert told.link == reverse("reports:schedule-detail", args=[occurrence.schedule_id])


# --- once --------------------------------------------------------------------------


def test_a_delivery_task_run_twice_sends_once(occurrence, bob, tasks):
    delivery = _email_to_bob(occurrence, bob)

    first = delivery_execute(delivery_id=delivery.pk)
    second = delivery_execute(delivery_id=delivery.pk)

    assert first.state == DeliveryState.SENT
    assert second is None
    assert len(mail.outbox) == 1
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1
    assert AuditEvent.objects.filter(action=AuditAction.DELIVERY).count() == 2  # two files


def test_a_delivery_another_worker_is_sending_is_left_alone(occurrence, bob, tasks):
    delivery = _email_to_bob(occurrence, bob)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING,
        attempts=1,
        lease_holder=ELSEWHERE,
        lease_expires_at=timezone.now() + dt.timedelta(minutes=5),
    )

    assert delivery_execute(delivery_id=delivery.pk) is None
    assert not mail.outbox


def test_a_sending_delivery_whose_lease_lapsed_is_recovered_by_the_sweeper(occurrence, bob, tasks):
    delivery = _email_to_bob(occurrence, bob)
    # Its worker claimed it and died: the lease ran out a minute ago.
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING,
        attempts=1,
        lease_holder=ELSEWHERE,
        lease_expires_at=timezone.now() - dt.timedelta(minutes=1),
    )

    recovered = leases.leases_sweep()

    assert recovered[deliveries.LEASE_KIND] == 1
    assert tasks.sent == [(delivery.pk, None)]
    assert Delivery.objects.get(pk=delivery.pk).lease_holder == leases.RESENT
    done = delivery_execute(delivery_id=delivery.pk)  # the re-sent task
    assert done.state == DeliveryState.SENT
    assert done.attempts == 2
    assert len(mail.outbox) == 1


def test_a_delivery_not_yet_due_for_its_retry_is_not_claimed(occurrence, bob, tasks):
    delivery = _email_to_bob(occurrence, bob)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(minutes=2),
        lease_holder="",
        lease_expires_at=None,
    )

    assert delivery_execute(delivery_id=delivery.pk) is None
    assert not mail.outbox


# --- the run -----------------------------------------------------------------------


def test_a_run_another_worker_renders_hands_the_delivery_back_for_a_few_seconds(
    occurrence, bob, tasks
):
    delivery = _email_to_bob(occurrence, bob)
    ReportRun.objects.filter(pk=delivery.run_id).update(
        status=RunStatus.RUNNING,
        lease_holder=ELSEWHERE,
        lease_expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    before = timezone.now()

    waiting = delivery_execute(delivery_id=delivery.pk)

    assert waiting.state == DeliveryState.QUEUED
    assert waiting.attempts == 0  # waiting for the run is no sending attempt
    assert before + dt.timedelta(seconds=4) < waiting.next_attempt_at
    assert waiting.next_attempt_at <= timezone.now() + dt.timedelta(seconds=5)
    assert tasks.sent == [(delivery.pk, 5.0)]
    assert not mail.outbox
    # That worker died; when the delivery looks again it renders the run itself.
    ReportRun.objects.filter(pk=delivery.run_id).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    due_now(delivery)
    done = delivery_execute(delivery_id=delivery.pk)
    assert done.state == DeliveryState.SENT and done.attempts == 1
    assert ReportRun.objects.get(pk=delivery.run_id).status == RunStatus.SUCCEEDED
    assert len(mail.outbox) == 1


def test_a_failed_run_fails_its_delivery_and_is_not_retried(occurrence, bob, alice, tasks):
    delivery = _email_to_bob(occurrence, bob)
    ReportRun.objects.filter(pk=delivery.run_id).update(
        status=RunStatus.FAILED,
        error="The block “Probe” failed: no data",
        lease_holder="",
        lease_expires_at=None,
    )

    done = delivery_execute(delivery_id=delivery.pk)

    assert done.state == DeliveryState.FAILED
    assert done.error == "Not sent: the report failed: The block “Probe” failed: no data"
    assert not mail.outbox
    with pytest.raises(ReportInvalid) as refused:
        delivery_retry(user=alice, delivery=done)
    assert refused.value.field == "run"


# --- retries -----------------------------------------------------------------------


class Fixed:
    """A random source whose every draw is ``value`` (of [0, 1))."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("attempt", "draw", "seconds"),
    [
        (1, 0.5, 15.0),  # half of 30 · 2⁰
        (2, 0.5, 30.0),  # half of 30 · 2¹
        (3, 0.25, 30.0),  # a quarter of 30 · 2² = 120
        (5, 0.5, 240.0),  # half of 30 · 2⁴ = 480
        (6, 0.5, 450.0),  # 30 · 2⁵ = 960 is capped at 900
        (40, 0.9, 810.0),  # still capped: 0.9 · 900
        (1, 0.0, 0.0),  # full jitter reaches down to no wait at all
    ],
)
def test_the_retry_delay_is_exponential_with_full_jitter_and_capped(attempt, draw, seconds):
    assert delivery_retry_delay(attempt, rng=Fixed(draw)) == pytest.approx(seconds)


def test_the_retry_delay_stays_below_the_brokers_visibility_timeout(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    settings.DELIVERY_RETRY_MAX_SECONDS = 900.0  # misconfigured above the timeout

    assert delivery_retry_ceiling() == 540.0  # one minute's margin below 600
    assert delivery_retry_delay(20, rng=Fixed(0.999)) < 600


def test_the_shipped_retry_cap_is_below_the_redis_visibility_timeout():
    from portal import settings as shipped

    assert shipped.DELIVERY_RETRY_MAX_SECONDS == 900.0
    assert shipped.DELIVERY_RETRY_MAX_SECONDS + deliveries.VISIBILITY_MARGIN_SECONDS < 3600


def test_the_retry_delays_spread_over_the_whole_window():
    import random

    draws = [delivery_retry_delay(3, rng=random.Random(seed)) for seed in range(400)]
    assert all(0 <= draw <= 120 for draw in draws)
    assert min(draws) < 12 and max(draws) > 108  # both ends of [0, 120] are reached
    assert 50 < sum(draws) / len(draws) < 70  # a uniform draw averages 60


def test_an_unreachable_mail_server_queues_the_delivery_again_with_backoff(
    occurrence, bob, tasks, smtp_down
):
    delivery = _email_to_bob(occurrence, bob)
    before = timezone.now()

    waiting = delivery_execute(delivery_id=delivery.pk)

    assert waiting.state == DeliveryState.QUEUED
    assert waiting.attempts == 1
    assert "Attempt 1 of 3 failed, retrying: mail server unreachable" in waiting.error
    [(delivery_id, countdown)] = tasks.sent
    assert delivery_id == delivery.pk
    assert 0 <= countdown <= 30  # the first retry waits up to the base
    expected = before + dt.timedelta(seconds=countdown)
    assert abs((waiting.next_attempt_at - expected).total_seconds()) < 2
    assert waiting.lease_holder == deliveries.RETRY_WAIT
    assert not AuditEvent.objects.filter(action=AuditAction.DELIVERY).exists()


def test_a_retry_after_the_mail_server_is_back_sends_with_the_same_message_id(
    occurrence, bob, tasks, smtp_down, settings
):
    delivery = _email_to_bob(occurrence, bob)
    delivery_execute(delivery_id=delivery.pk)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    due_now(delivery)

    done = delivery_execute(delivery_id=delivery.pk)

    assert (done.state, done.attempts, done.error) == (DeliveryState.SENT, 2, "")
    [message] = mail.outbox
    assert message.message()["Message-ID"] == delivery_message_id(done)


def test_after_the_last_attempt_the_delivery_fails_and_the_owner_is_told(
    occurrence, bob, alice, tasks, smtp_down
):
    delivery = _email_to_bob(occurrence, bob)
    for _ in range(3):
        due_now(delivery)
        delivery_execute(delivery_id=delivery.pk)

    failed = Delivery.objects.get(pk=delivery.pk)
    assert failed.state == DeliveryState.FAILED
    assert failed.attempts == 3
    assert failed.failed_at is not None
    assert failed.error.startswith("Not sent after 3 attempts: mail server unreachable")
    assert len(tasks.sent) == 2  # two retries were sent, none after the last attempt
    [event] = AuditEvent.objects.filter(action=AuditAction.DELIVERY_FAILED)
    assert event.details["attempts"] == 3
    assert event.details["recipient"] == "bob"
    [told] = InboxMessage.objects.filter(recipient=alice)
    assert "delivery to bob failed" in told.subject
    assert "failed after 3 attempt(s)" in told.body
    # Its slot has no delivery left to send: closed, with the tally as the outcome.
    occurrence.refresh_from_db()
    assert occurrence.state == OccurrenceState.DONE
    outcome = Schedule.objects.get(pk=occurrence.schedule_id).last_outcome
    assert outcome == "February 2024: 0 delivered, 1 failed."


def test_retry_brings_a_failed_delivery_back_and_it_is_sent(
    occurrence, bob, alice, mallory, tasks, settings
):
    bob.email = ""
    bob.save()
    failed = delivery_execute(delivery_id=_email_to_bob(occurrence, bob).pk)
    assert failed.state == DeliveryState.FAILED
    bob.email = "bob@example.com"
    bob.save()

    with pytest.raises(ReportPermissionDenied):
        delivery_retry(user=mallory, delivery=failed)
    queued = delivery_retry(user=alice, delivery=failed)

    assert (queued.state, queued.attempts, queued.error) == (DeliveryState.QUEUED, 0, "")
    assert tasks.sent == [(failed.pk, None)]
    [audit] = AuditEvent.objects.filter(action=AuditAction.SCHEDULE_CHANGED)
    assert audit.details["change"] == "delivery_retried"
    assert audit.details["previous_attempts"] == 1
    done = delivery_execute(delivery_id=failed.pk)
    assert done.state == DeliveryState.SENT and done.attempts == 1
    assert len(mail.outbox) == 1
    with pytest.raises(ReportInvalid) as not_failed:
        delivery_retry(user=alice, delivery=done)
    assert not_failed.value.field == "state"


# --- webhook -----------------------------------------------------------------------


def _webhook_delivery(occurrence, url):
    schedule = occurrence.schedule
    Schedule.objects.filter(pk=schedule.pk).update(channels=["webhook"], webhook_url=url)
    run = run_for(schedule, schedule.owner)
    return delivery_of(occurrence, run, channel=DeliveryChannel.WEBHOOK, address=url)


def test_a_webhook_gets_signed_json_with_links_and_its_2xx_confirms(occurrence, tasks, client):
    with Receiver(200) as receiver:
        delivery = _webhook_delivery(occurrence, receiver.url)
        done = delivery_execute(delivery_id=delivery.pk)

    assert done.state == DeliveryState.CONFIRMED
    assert (done.response_status, done.confirmation) == (200, "webhook 200")
    assert done.sent_at is not None and done.confirmed_at is not None
    [(headers, body)] = receiver.requests
    timestamp = int(headers["X-Portal-Timestamp"])
    assert headers["X-Portal-Signature"] == webhook_signature(
        secret=SECRET, timestamp=timestamp, body=body
    )
    assert headers["Idempotency-Key"] == delivery.key
    payload = json.loads(body)
    run = ReportRun.objects.get(pk=delivery.run_id)
    assert payload["delivery"]["id"] == delivery.pk
    assert payload["schedule"] == {"id": occurrence.schedule_id, "name": "Growth every month"}
    assert payload["template"]["slug"] == run.template.slug
    assert payload["template"]["version"] == 1
    assert payload["period"] == {
        "label": "February 2024",
        "start": "2024-02-01",
        "end": "2024-02-29",
    }
    assert payload["portfolios"] == ["GROWTH"]
    assert "data_as_of" in payload and payload["incomplete"] == []
    by_name = {file.name: file for file in run.files.all()}
    assert {entry["name"] for entry in payload["files"]} == set(by_name)
    for entry in payload["files"]:
        content = stored_bytes(by_name[entry["name"]])
        assert (entry["size"], entry["sha256"]) == (len(content), sha256_hex(content))
        assert entry["url"].startswith("https://portal.example.com/reports/d/")
        # The link opens the file for the receiver, without a login.
        response = client.get(entry["url"].removeprefix("https://portal.example.com"))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == content
    events = AuditEvent.objects.filter(action=AuditAction.DELIVERY)
    assert {event.details["channel"] for event in events} == {"webhook"}
    assert {event.details["recipient"] for event in events} == {receiver.url}


def test_a_webhook_5xx_is_retried_and_the_next_2xx_confirms(occurrence, tasks):
    with Receiver(503, 200) as receiver:
        delivery = _webhook_delivery(occurrence, receiver.url)
        waiting = delivery_execute(delivery_id=delivery.pk)
        assert waiting.state == DeliveryState.QUEUED
        assert "webhook answered 503" in waiting.error
        assert len(tasks.sent) == 1
        due_now(delivery)
        done = delivery_execute(delivery_id=delivery.pk)

    assert (done.state, done.attempts, done.response_status) == (DeliveryState.CONFIRMED, 2, 200)
    assert len(receiver.requests) == 2
    keys = {headers["Idempotency-Key"] for headers, _ in receiver.requests}
    assert keys == {delivery.key}  # the receiver can tell the second POST is a repeat


def test_a_webhook_4xx_fails_at_once(occurrence, tasks):
    with Receiver(410) as receiver:
        done = delivery_execute(delivery_id=_webhook_delivery(occurrence, receiver.url).pk)

    assert done.state == DeliveryState.FAILED
    assert done.attempts == 1
    assert "webhook answered 410" in done.error
    assert tasks.sent == []


# --- inbox -------------------------------------------------------------------------


def test_an_inbox_delivery_is_one_item_and_reading_it_confirms(occurrence, bob, tasks):
    run = run_for(occurrence.schedule, bob)
    delivery = delivery_of(occurrence, run, channel=DeliveryChannel.INBOX, recipient=bob)

    done = delivery_execute(delivery_id=delivery.pk)
    assert delivery_execute(delivery_id=delivery.pk) is None

    assert done.state == DeliveryState.SENT
    [item] = InboxMessage.objects.filter(recipient=bob)
    assert done.inbox_message_id == item.pk
    assert item.subject == "Growth monthly: February 2024"
    assert item.link == reverse("reports:run-detail", args=[run.pk])
    assert item.dedupe_key == f"reports.delivery:{delivery.pk}"
    assert "Period: February 2024" in item.body
    assert not mail.outbox

    assert inbox_mark_read(recipient=bob, message_ids=[item.pk]) == 1

    confirmed = Delivery.objects.get(pk=delivery.pk)
    assert (confirmed.state, confirmed.confirmation) == (DeliveryState.CONFIRMED, "inbox item read")
    assert confirmed.confirmed_at is not None


def test_an_inbox_item_sent_again_after_a_retry_is_still_one_item(occurrence, bob, alice, tasks):
    run = run_for(occurrence.schedule, bob)
    delivery = delivery_of(occurrence, run, channel=DeliveryChannel.INBOX, recipient=bob)
    delivery_execute(delivery_id=delivery.pk)
    # Recorded as failed after its item was stored (a crash between the two), retried.
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)
    delivery_retry(user=alice, delivery=Delivery.objects.get(pk=delivery.pk))

    delivery_execute(delivery_id=delivery.pk)

    assert InboxMessage.objects.filter(recipient=bob).count() == 1


def test_someone_elses_read_confirms_nothing(occurrence, bob, carol, tasks):
    run = run_for(occurrence.schedule, bob)
    delivery = delivery_of(occurrence, run, channel=DeliveryChannel.INBOX, recipient=bob)
    delivery_execute(delivery_id=delivery.pk)
    item = InboxMessage.objects.get(recipient=bob)

    assert inbox_mark_read(recipient=carol, message_ids=[item.pk]) == 0
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.SENT


# --- opening the report in the portal ------------------------------------------------


def test_the_recipient_opening_the_run_page_confirms_the_email(
    occurrence, bob, alice, tasks, client
):
    delivery = _email_to_bob(occurrence, bob)
    delivery_execute(delivery_id=delivery.pk)
    page = reverse("reports:run-detail", args=[delivery.run_id])

    client.force_login(alice)  # the owner requested the run; she is not its recipient
    assert client.get(page).status_code == 200
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.SENT

    client.force_login(bob)
    assert client.get(page).status_code == 200
    confirmed = Delivery.objects.get(pk=delivery.pk)
    assert confirmed.state == DeliveryState.CONFIRMED
    assert confirmed.confirmation == "report opened in the portal"


# --- the task ----------------------------------------------------------------------


def test_the_delivery_task_is_safe_twice_and_routed_to_the_delivery_queue():
    from portal.celery import app

    task = app.tasks[deliveries.TASK]
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    route = app.amqp.router.route({}, deliveries.TASK, args=(1,), kwargs={})
    assert route["queue"].name == "delivery"
