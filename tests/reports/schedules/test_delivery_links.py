"""Signed, expiring download links of delivered files: a link opens its one file
without a login, audited as an export with format, size and SHA-256 and with the
checksum header, and confirms its delivery; an expired, changed, foreign or
withdrawn link is refused with a 403 page that says so, audited as a refused
download with the reason and the client's address.

The links come from a real delivery: an e-mail whose files are above the
attachment limit, read from Django's locmem outbox."""

from __future__ import annotations

import time

import pytest
from django.core import mail, signing
from django.urls import reverse

from portal.models import AuditAction, AuditEvent, Entitlement
from portal.services import entitlement_revoke
from reports import delivery_links
from reports.delivery_links import (
    DeliveryLinkExpired,
    DeliveryLinkInvalid,
    delivery_link_path,
    delivery_link_read,
    delivery_link_token,
    delivery_link_url,
)
from reports.models import Delivery, DeliveryState, ReportFile, ReportRun
from reports.services.deliveries import delivery_execute
from reports.services.runs import report_run_execute
from tests.reports.core_support import probe_install, renderers_install
from tests.reports.schedules.delivery_support import (
    TasksSent,
    delivery_of,
    occurrence_of,
    probe_template,
    run_for,
    schedule_of,
    sha256_hex,
    stored_bytes,
)

BASE = "https://portal.example.com"


@pytest.fixture(autouse=True)
def setup(settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_BASE_URL = BASE
    settings.DELIVERY_ATTACHMENT_MAX_BYTES = 10  # every recorded file is larger
    settings.DELIVERY_LINK_MAX_AGE_SECONDS = 1800
    probe_install(monkeypatch)
    renderers_install(monkeypatch)
    TasksSent(monkeypatch)


@pytest.fixture
def occurrence(alice, growth):
    return occurrence_of(schedule_of(probe_template(alice, growth)))


@pytest.fixture
def sent_to_bob(occurrence, bob):
    """A delivery to bob by e-mail, sent with links instead of attachments."""
    delivery = delivery_of(occurrence, run_for(occurrence.schedule, bob), recipient=bob)
    delivery_execute(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT
    return delivery


def _links(message) -> dict[str, str]:
    """File name → link path, from the e-mail's plain-text body."""
    lines = message.body.splitlines()
    links = {}
    for index, line in enumerate(lines):
        if line.strip().startswith(BASE + "/reports/d/"):
            name = lines[index - 2].strip().removeprefix("- ").split(" (")[0]
            links[name] = line.strip().removeprefix(BASE)
    return links


class PastSigner(signing.TimestampSigner):
    """Signs as if it were ``age`` seconds ago."""

    age = 3600

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - self.age)


def _token_made_an_hour_ago(monkeypatch, delivery, file) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(delivery_links, "_signer", lambda: PastSigner(salt=delivery_links.SALT))
        return delivery_link_token(delivery=delivery, file=file)


# --- the token ---------------------------------------------------------------------


def test_a_token_names_its_delivery_and_file_under_the_portal_address(sent_to_bob):
    file = ReportFile.objects.filter(run_id=sent_to_bob.run_id).first()
    token = delivery_link_token(delivery=sent_to_bob, file=file)

    assert delivery_link_read(token) == (sent_to_bob.pk, file.pk)
    path = delivery_link_path(delivery=sent_to_bob, file=file)
    assert path.startswith("/reports/d/") and path.endswith("/")
    assert delivery_link_read(path.removeprefix("/reports/d/").rstrip("/")) == (
        sent_to_bob.pk,
        file.pk,
    )
    assert delivery_link_url(delivery=sent_to_bob, file=file) == BASE + path


def test_a_changed_token_or_one_signed_for_something_else_is_invalid(sent_to_bob):
    file = ReportFile.objects.filter(run_id=sent_to_bob.run_id).first()
    token = delivery_link_token(delivery=sent_to_bob, file=file)
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_salt = signing.TimestampSigner(salt="portal.something_else").sign_object(
        {"d": sent_to_bob.pk, "f": file.pk}
    )

    for bad in (changed, other_salt, "not-a-token", ""):
        with pytest.raises(DeliveryLinkInvalid) as refused:
            delivery_link_read(bad)
        assert not isinstance(refused.value, DeliveryLinkExpired)


def test_a_token_older_than_the_maximum_age_has_expired(sent_to_bob, monkeypatch, settings):
    file = ReportFile.objects.filter(run_id=sent_to_bob.run_id).first()
    token = _token_made_an_hour_ago(monkeypatch, sent_to_bob, file)

    with pytest.raises(DeliveryLinkExpired):
        delivery_link_read(token)  # 3600 s old, 1800 s allowed
    settings.DELIVERY_LINK_MAX_AGE_SECONDS = 7200
    assert delivery_link_read(token) == (sent_to_bob.pk, file.pk)


# --- opening it --------------------------------------------------------------------


def test_the_link_opens_the_file_without_a_login_audited_and_confirms_the_delivery(
    sent_to_bob, client, bob
):
    [message] = mail.outbox
    links = _links(message)
    assert set(links) == {"report.pdf", "report.csv"}
    file = ReportFile.objects.get(run_id=sent_to_bob.run_id, name="report.pdf")
    content = stored_bytes(file)

    response = client.get(links["report.pdf"])  # an anonymous client: no session

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["X-Content-SHA256"] == sha256_hex(content)
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert "no-store" in response["Cache-Control"]
    [event] = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert event.actor == bob  # the recipient whose link it is
    assert event.details["format"] == "pdf"
    assert event.details["size"] == len(content)
    assert event.details["sha256"] == sha256_hex(content)
    assert event.details["delivery"] == sent_to_bob.pk
    assert event.details["via"] == "signed link"
    confirmed = Delivery.objects.get(pk=sent_to_bob.pk)
    assert (confirmed.state, confirmed.confirmation) == (DeliveryState.CONFIRMED, "link opened")

    again = client.get(links["report.csv"])
    assert again.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 2
    assert Delivery.objects.get(pk=sent_to_bob.pk).confirmed_at == confirmed.confirmed_at


def test_an_external_recipients_link_is_audited_as_anonymous(occurrence, client):
    schedule = occurrence.schedule
    run = run_for(schedule, schedule.owner)
    delivery = delivery_of(occurrence, run, address="auditor@example.org")
    delivery_execute(delivery_id=delivery.pk)
    [message] = mail.outbox
    assert message.to == ["auditor@example.org"]
    assert "Open the report in the portal" not in message.body  # no account to open it with

    response = client.get(_links(message)["report.csv"])

    assert response.status_code == 200
    [event] = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert event.actor is None
    assert event.details["recipient"] == "auditor@example.org"


def _refusal() -> AuditEvent:
    [event] = AuditEvent.objects.filter(action=AuditAction.DOWNLOAD_REFUSED)
    return event


def test_links_last_24_hours_by_default():
    from portal import settings as portal_settings

    assert portal_settings.DELIVERY_LINK_MAX_AGE_SECONDS == 24 * 3600


def test_an_expired_link_is_refused_with_a_page_that_says_so(sent_to_bob, client, monkeypatch):
    file = ReportFile.objects.filter(run_id=sent_to_bob.run_id).first()
    token = _token_made_an_hour_ago(monkeypatch, sent_to_bob, file)

    response = client.get(
        reverse("reports:delivery-download", args=[token]), REMOTE_ADDR="203.0.113.9"
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "This download link has expired" in page
    assert "ask the person who scheduled it to send it again" in page
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    assert Delivery.objects.get(pk=sent_to_bob.pk).state == DeliveryState.SENT
    event = _refusal()
    assert event.details["reason"] == "expired"
    assert event.details["delivery"] == sent_to_bob.pk  # a genuine token, only too old
    assert event.details["file_id"] == file.pk
    assert event.ip_address == "203.0.113.9"


class SigningClock:
    """Time travel for the signer: ``django.core.signing`` reads ``time.time()``,
    which this moves forward by ``shift`` seconds."""

    def __init__(self, monkeypatch) -> None:
        self.offset = 0.0
        self._real = time.time
        monkeypatch.setattr(signing, "time", self)

    def time(self) -> float:
        return self._real() + self.offset

    def shift(self, seconds: float) -> None:
        self.offset += seconds


def test_a_link_expires_24_hours_after_it_was_sent(sent_to_bob, client, settings, monkeypatch):
    settings.DELIVERY_LINK_MAX_AGE_SECONDS = 24 * 3600
    path = _links(mail.outbox[0])["report.csv"]
    clock = SigningClock(monkeypatch)

    clock.shift(23 * 3600)
    assert client.get(path).status_code == 200
    clock.shift(3600 + 5)
    response = client.get(path)

    assert response.status_code == 403
    assert "This download link has expired" in response.content.decode()
    assert _refusal().details["reason"] == "expired"


def test_a_changed_link_is_refused_as_not_valid(sent_to_bob, client):
    path = next(iter(_links(mail.outbox[0]).values()))
    token = path.removeprefix("/reports/d/").rstrip("/")
    changed = token[:-2] + ("xy" if token[-2:] != "xy" else "yz")

    response = client.get(
        reverse("reports:delivery-download", args=[changed]), REMOTE_ADDR="198.51.100.4"
    )

    assert response.status_code == 403
    assert "This download link is not valid" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    event = _refusal()
    assert event.details["reason"] == "tampered"
    assert event.details["via"] == "signed link"
    assert "delivery" not in event.details  # nothing a forged token says is believed
    assert event.ip_address == "198.51.100.4"
    assert event.actor is None


def test_a_link_whose_recipient_lost_the_entitlement_is_withdrawn(
    sent_to_bob, client, desk, growth
):
    path = next(iter(_links(mail.outbox[0]).values()))
    entitlement_revoke(actor=None, entitlement=Entitlement.objects.get(portfolio=growth, team=desk))

    response = client.get(path)

    assert response.status_code == 403
    assert "no longer entitled to every portfolio" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    event = _refusal()
    assert event.details["reason"] == "withdrawn"
    assert event.details["delivery"] == sent_to_bob.pk


def test_a_link_to_a_file_of_another_run_is_withdrawn(sent_to_bob, client, bob, occurrence):
    other = run_for(occurrence.schedule, bob, key="another-run")
    report_run_execute(run_id=other.pk)
    foreign = ReportRun.objects.get(pk=other.pk).files.first()
    token = delivery_link_token(delivery=sent_to_bob, file=foreign)

    response = client.get(reverse("reports:delivery-download", args=[token]))

    assert response.status_code == 403
    assert "no longer the one that was delivered" in response.content.decode()
    assert _refusal().details["reason"] == "withdrawn"
