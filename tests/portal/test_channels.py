"""The delivery channels of the portal core: mail through Django's backend (locmem
and a real SMTP server on 127.0.0.1), signed webhooks to a real HTTP receiver on
127.0.0.1, and the in-app inbox; each failure is either transient (retry) or
permanent (stop)."""

import hashlib
import hmac
import json
import socket
import threading
import time
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from portal.channels.errors import ChannelError, TransientChannelError
from portal.channels.inbox import inbox_mark_read, inbox_send
from portal.channels.mail import MailAttachment, mail_send
from portal.channels.webhook import webhook_send
from portal.models import InboxMessage

SECRET = "shared-secret"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- mail ---------------------------------------------------------------------


def test_mail_sends_text_html_and_attachments_from_the_portal_address(settings):
    settings.DEFAULT_FROM_EMAIL = "portal@example.com"
    message_id = mail_send(
        to=["alice@example.com"],
        subject="Monthly report",
        text="Attached.",
        html="<p>Attached.</p>",
        attachments=[MailAttachment("report.pdf", b"%PDF-1.7 ...", "application/pdf")],
    )
    [sent] = mail.outbox
    assert sent.subject == "Monthly report"
    assert sent.from_email == "portal@example.com"
    assert sent.to == ["alice@example.com"]
    assert sent.body == "Attached."
    assert sent.alternatives[0][0] == "<p>Attached.</p>"
    assert sent.alternatives[0][1] == "text/html"
    assert sent.attachments[0][0] == "report.pdf"
    assert sent.attachments[0][2] == "application/pdf"
    assert sent.message()["Message-ID"] == message_id
    assert message_id.startswith("<") and message_id.endswith(">")


def test_mail_needs_an_address():
    with pytest.raises(ChannelError):
        mail_send(to=[], subject="x", text="x")
    with pytest.raises(ChannelError):
        mail_send(to=[""], subject="x", text="x")
    assert not mail.outbox


def test_a_header_with_a_line_break_is_a_permanent_error():
    with pytest.raises(ChannelError) as error:
        mail_send(to=["alice@example.com"], subject="one\nBcc: everyone@example.com", text="x")
    assert not isinstance(error.value, TransientChannelError)


class Mailbox:
    """An aiosmtpd handler that keeps what it receives, refuses the addresses of
    ``refused`` for good (550) and those of ``busy`` for now (451)."""

    def __init__(self):
        self.envelopes = []
        self.refused = set()
        self.busy = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 no such user"
        if address in self.busy:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 behind Django's SMTP backend."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield mailbox
    controller.stop()


def test_mail_reaches_a_real_smtp_server_with_its_message_id(smtp_server):
    message_id = mail_send(
        to=["alice@example.com"],
        subject="Hello",
        text="Plain body",
        attachments=[MailAttachment("data.csv", b"a,b\n1,2\n", "text/csv")],
    )
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["alice@example.com"]
    received = message_from_bytes(envelope.content)
    assert received["Message-ID"] == message_id
    assert received["Subject"] == "Hello"
    parts = [part.get_content_type() for part in received.walk()]
    assert "text/plain" in parts and "text/csv" in parts


def test_an_address_the_server_refuses_is_a_permanent_error(smtp_server):
    smtp_server.refused.add("nobody@example.com")
    with pytest.raises(ChannelError) as error:
        mail_send(to=["nobody@example.com"], subject="x", text="x")
    assert not isinstance(error.value, TransientChannelError)
    assert not smtp_server.envelopes


def test_an_address_the_server_defers_is_transient(smtp_server):
    smtp_server.busy.add("alice@example.com")
    with pytest.raises(TransientChannelError):
        mail_send(to=["alice@example.com"], subject="x", text="x")
    smtp_server.busy.clear()
    mail_send(to=["alice@example.com"], subject="x", text="x")  # the retry goes through
    assert len(smtp_server.envelopes) == 1


def test_a_mail_server_that_is_down_is_transient(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 5
    with pytest.raises(TransientChannelError):
        mail_send(to=["alice@example.com"], subject="x", text="x")


# --- webhook ------------------------------------------------------------------


class Receiver:
    """A webhook receiver on 127.0.0.1 that verifies what it gets as a real one
    would, answers ``status`` (after ``delay`` seconds) and keeps the requests."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def signature_is_valid(self, headers, body, *, max_age=300):
        timestamp = headers["X-Portal-Timestamp"]
        expected = hmac.new(
            SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        fresh = abs(time.time() - int(timestamp)) <= max_age
        return fresh and hmac.compare_digest(headers["X-Portal-Signature"], f"sha256={expected}")


@pytest.fixture
def receiver():
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_a_webhook_posts_signed_json_with_an_idempotency_key(receiver):
    payload = {"run": 42, "links": ["https://portal.example.com/d/abc"], "as_of": "2024-03-29"}
    status = webhook_send(
        url=receiver.url, payload=payload, secret=SECRET, idempotency_key="delivery-7"
    )
    assert status == 200
    [(headers, body)] = receiver.requests
    assert json.loads(body) == payload
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == "delivery-7"
    assert receiver.signature_is_valid(headers, body)
    assert not receiver.signature_is_valid(headers, body + b" ")  # a changed body fails


def test_a_signature_made_with_another_secret_does_not_verify(receiver):
    webhook_send(url=receiver.url, payload={"a": 1}, secret="not-ours", idempotency_key="k")
    [(headers, body)] = receiver.requests
    assert not receiver.signature_is_valid(headers, body)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_rate_limits_are_transient(receiver, status):
    receiver.status = status
    with pytest.raises(TransientChannelError):
        webhook_send(url=receiver.url, payload={}, secret=SECRET, idempotency_key="k")


@pytest.mark.parametrize("status", [400, 401, 404, 410, 302])
def test_client_errors_and_redirects_are_permanent(receiver, status):
    receiver.status = status
    with pytest.raises(ChannelError) as error:
        webhook_send(url=receiver.url, payload={}, secret=SECRET, idempotency_key="k")
    assert not isinstance(error.value, TransientChannelError)


def test_a_receiver_slower_than_the_timeout_is_transient(receiver):
    receiver.delay = 1.0
    with pytest.raises(TransientChannelError):
        webhook_send(url=receiver.url, payload={}, secret=SECRET, idempotency_key="k", timeout=0.2)


def test_a_receiver_that_is_down_is_transient():
    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(TransientChannelError):
        webhook_send(url=url, payload={}, secret=SECRET, idempotency_key="k", timeout=2)


@pytest.mark.parametrize(
    "url", ["http://example.com/hook", "ftp://127.0.0.1/hook", "https:///nohost", "127.0.0.1"]
)
def test_webhooks_go_to_https_or_loopback_http_only(url):
    with pytest.raises(ChannelError) as error:
        webhook_send(url=url, payload={}, secret=SECRET, idempotency_key="k")
    assert not isinstance(error.value, TransientChannelError)


# --- inbox --------------------------------------------------------------------


def test_one_event_lands_in_an_inbox_once(alice):
    first = inbox_send(
        recipient=alice, subject="Report ready", body="…", link="/reports/1/", dedupe_key="r:1"
    )
    again = inbox_send(recipient=alice, subject="Other", dedupe_key="r:1")
    assert again.id == first.id and again.subject == "Report ready"
    assert InboxMessage.objects.filter(recipient=alice).count() == 1
    assert first.read_at is None


def test_the_same_event_reaches_each_recipient(alice, bob):
    inbox_send(recipient=alice, subject="Report ready", dedupe_key="r:1")
    inbox_send(recipient=bob, subject="Report ready", dedupe_key="r:1")
    assert InboxMessage.objects.count() == 2


def test_marking_read_touches_only_ones_own_unread_messages(alice, bob):
    mine = inbox_send(recipient=alice, subject="a", dedupe_key="a")
    theirs = inbox_send(recipient=bob, subject="b", dedupe_key="b")
    assert inbox_mark_read(recipient=alice, message_ids=[mine.id, theirs.id]) == 1
    assert inbox_mark_read(recipient=alice, message_ids=[mine.id]) == 0  # read once
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


@pytest.mark.parametrize(
    ("subject", "link", "dedupe_key"),
    [
        ("", "", "k"),
        ("x" * 256, "", "k"),
        ("ok", "https://elsewhere.example.com/", "k"),
        ("ok", "//elsewhere.example.com/", "k"),
        ("ok", "", ""),
    ],
)
def test_an_inbox_message_that_does_not_fit_is_refused(alice, subject, link, dedupe_key):
    with pytest.raises(ChannelError):
        inbox_send(recipient=alice, subject=subject, link=link, dedupe_key=dedupe_key)
    assert not InboxMessage.objects.exists()
