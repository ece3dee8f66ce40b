"""Real processes for the end-to-end schedule tests: a mail server, a webhook
receiver, and Celery's worker and beat.

* :class:`SmtpServer` — aiosmtpd on 127.0.0.1 (a free port) keeping every message
  it accepts, and told to refuse the next N attempts, either with a 451 ("try
  again later", as a greylisting or overloaded server answers) or by dropping the
  connection in the middle of the message.
* :class:`WebhookReceiver` — ``http.server`` on a thread, verifying each POST as a
  real receiver would (``portal.channels.webhook.webhook_signature`` over the
  timestamp and the raw body, in constant time, and a timestamp no older than
  five minutes), answering 200 to a valid one and 401 otherwise, and keeping them all.
* :class:`CeleryProcesses` — worker and celery-beat subprocesses on the real
  broker (``CELERY_BROKER_URL``: Redis on CI) and the test's database
  (``tests.database_url.tests_database_url``), started through a small wrapper
  module written to the test's ``tmp_path`` (not product code), as
  ``tests/analytics/test_snapshot_kill.py`` does. The wrapper routes every task
  to one fresh queue (so no other worker on the broker takes the test's tasks),
  keeps only the schedule dispatcher and the lease sweep in beat's schedule,
  starts the renderers with each pool child (as a ``delivery`` worker does,
  ``reports.warmup``), records every render (one line per renderer call: the pool child's pid) and,
  when asked, makes the first render of the test sleep so that a test can kill
  the process holding it.

Beat runs with ``celery.beat:PersistentScheduler`` and a schedule file of its own
under ``tmp_path`` rather than the portal's ``DatabaseScheduler``: the database
scheduler would write its periodic-task rows into the test database (which
pytest-django truncates after each test while beat might still hold them) and
would bring in every system job of ``CELERY_BEAT_SCHEDULE`` already stored there;
with a file per process, two beat processes are two independent clocks firing the
same dispatcher, which is exactly what the "two beats" test needs. What the
tests prove — the dispatcher's conditional claim of a slot — lives in the
database either way.

Settings that make the processes quick (all through the environment, as in
production): the dispatcher every :data:`DISPATCH_SECONDS`, short leases and
sweeps, and a retry base of one second.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from django.conf import settings

from portal.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_signature

ROOT = Path(settings.BASE_DIR)
DISPATCH_SECONDS = 2
LEASE_SECONDS = 4
SWEEP_SECONDS = 1
RETRY_BASE_SECONDS = 1
RETRY_MAX_SECONDS = 4
SIGNATURE_MAX_AGE_SECONDS = 300

Found = TypeVar("Found")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    find: Callable[[], Found | None], *, seconds: float = 90, what: str = "the processes"
) -> Found:
    """The first truthy value of ``find()``, polled every 0.2 s for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := find():
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not there within {seconds:.0f} s")


# --- mail ------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: Message

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """``(filename, content type, bytes)`` of each attached file."""
        found = []
        for part in self.message.walk():
            filename = part.get_filename()
            if filename:
                payload = part.get_payload(decode=True)
                found.append((filename, part.get_content_type(), bytes(payload or b"")))
        return found

    def body(self, content_type: str = "text/plain") -> str:
        """The first body part of ``content_type`` (not an attachment), decoded."""
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.get_filename():
                payload = part.get_payload(decode=True) or b""
                return bytes(payload).decode(part.get_content_charset() or "utf-8")
        raise LookupError(f"no {content_type} part")


class SmtpServer:
    """aiosmtpd on 127.0.0.1 keeping what it accepts (``messages``).

    ``attempts`` counts the transactions started (one per ``MAIL FROM``), and
    :meth:`refuse_next` makes the next ``count`` of them fail: ``how="defer"``
    answers ``MAIL FROM`` with 451, ``how="drop"`` closes the connection once the
    client has sent the message's data, before any answer. Either is a transient
    failure for the sender."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self.attempts = 0
        self.refused = 0
        self._refusals_left = 0
        self._how = "defer"
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        """``EMAIL_URL`` for Django's SMTP backend talking to this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def refuse_next(self, count: int, *, how: str = "defer") -> None:
        if how not in {"defer", "drop"}:
            raise ValueError(how)
        with self._lock:
            self._refusals_left, self._how = count, how

    def _take_refusal(self) -> str | None:
        with self._lock:
            self.attempts += 1
            if self._refusals_left <= 0:
                return None
            self._refusals_left -= 1
            self.refused += 1
            return self._how

    # aiosmtpd handler hooks (called on the controller's event loop thread).

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        refusal = self._take_refusal()
        envelope.refusal = refusal  # the envelope lives for one transaction
        if refusal == "defer":
            return "451 4.3.2 System not accepting messages now, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if getattr(envelope, "refusal", None) == "drop":
            server.transport.close()
            await asyncio.sleep(0)
            return "421 4.4.2 Connection dropped"
        with self._lock:
            self.messages.append(
                ReceivedMail(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=message_from_bytes(envelope.original_content or envelope.content),
                )
            )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[ReceivedMail]:
        """The accepted messages addressed to ``address``."""
        with self._lock:
            return [mail for mail in self.messages if address in mail.rcpt_tos]


# --- webhooks ----------------------------------------------------------------------


@dataclass
class WebhookPost:
    """One POST the receiver got: its headers, raw body and the verdict."""

    path: str
    headers: dict[str, str]
    body: bytes
    valid: bool
    received_at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP receiver on 127.0.0.1 that verifies each POST with the schedule's
    ``secret`` (set it once the schedule exists) and keeps them all in ``posts``."""

    def __init__(self, *, max_age: float = SIGNATURE_MAX_AGE_SECONDS) -> None:
        self.secret = ""
        self.max_age = max_age
        self.posts: list[WebhookPost] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                valid = receiver.verifies(self.headers, body)
                receiver.posts.append(
                    WebhookPost(
                        path=self.path, headers=dict(self.headers.items()), body=body, valid=valid
                    )
                )
                self.send_response(200 if valid else 401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if valid else b'{"error": "bad signature"}')

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks/reports"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def verifies(self, headers: Any, body: bytes) -> bool:
        """Whether the signature is ours over this timestamp and body, and fresh."""
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        signature = headers.get(SIGNATURE_HEADER, "")
        if not (self.secret and timestamp.isdigit()):
            return False
        if abs(time.time() - int(timestamp)) > self.max_age:
            return False
        expected = webhook_signature(secret=self.secret, timestamp=int(timestamp), body=body)
        return hmac.compare_digest(expected, signature)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- Celery ------------------------------------------------------------------------

WRAPPER = '''"""Celery for the end-to-end schedule tests: every task on the test's queue,
only the schedule dispatcher and the lease sweep in beat's schedule, every render
recorded, and (when asked) a first render that sleeps until it is killed."""

import os
import time

from celery import signals
from django.conf import settings

from portal.celery import app

app.conf.task_routes = {"*": {"queue": os.environ["SCHEDULE_TEST_QUEUE"]}}
app.conf.beat_schedule = {
    "dispatch": settings.CELERY_BEAT_SCHEDULE["reports-schedules-dispatch"],
    "sweep": settings.CELERY_BEAT_SCHEDULE["portal-leases-sweep"],
}


@signals.worker_process_init.connect
def renders_recorded(**kwargs):
    import threading

    from reports.services import runs
    from reports.warmup import renderers_start

    # The test's queue stands in for the delivery queue: its pool children start
    # Chromium and the PDF renderer as they start, as a delivery worker's do.
    threading.Thread(target=renderers_start, daemon=True).start()

    original = runs.renderer_get

    def renderer_get(file_format):
        with open(os.environ["SCHEDULE_TEST_RENDERS"], "a") as renders:
            first = renders.tell() == 0
            renders.write(f"{os.getpid()}\\n")
        if first and os.environ.get("SCHEDULE_TEST_SLOW_FIRST_RENDER"):
            time.sleep(600)  # killed long before
        return original(file_format)

    runs.renderer_get = renderer_get
'''


class CeleryProcesses:
    """The worker and beat processes of one test, on one fresh queue."""

    def __init__(self, folder: Path, *, database_url: str, email_url: str) -> None:
        self.folder = folder
        self.queue = f"schedules-{uuid.uuid4().hex[:8]}"
        self.renders_file = folder / "renders.txt"
        (folder / "schedule_test_celery.py").write_text(WRAPPER)
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "EMAIL_URL": email_url,
            "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
            "SCHEDULE_TEST_QUEUE": self.queue,
            "SCHEDULE_TEST_RENDERS": str(self.renders_file),
            "SCHEDULES_DISPATCH_SECONDS": str(DISPATCH_SECONDS),
            "LEASE_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "LEASE_OCCURRENCE_SECONDS": str(LEASE_SECONDS),
            "LEASE_DELIVERY_SECONDS": str(LEASE_SECONDS),
            "LEASE_REPORT_RUN_SECONDS": str(LEASE_SECONDS),
            "DELIVERY_RETRY_BASE_SECONDS": str(RETRY_BASE_SECONDS),
            "DELIVERY_RETRY_MAX_SECONDS": str(RETRY_MAX_SECONDS),
        }
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []

    def slow_first_render(self) -> None:
        """The first render of this test (in whichever worker) sleeps ten minutes.
        Call before starting the workers."""
        self.env["SCHEDULE_TEST_SLOW_FIRST_RENDER"] = "1"

    def _start(self, name: str, *arguments: str) -> subprocess.Popen:
        log = self.folder / f"{name}-{len(self.processes)}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import schedule_test_celery; from celery.__main__ import main; main()",
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
        self.processes.append((name, process, log))
        return process

    def worker(self, *, concurrency: int = 2) -> subprocess.Popen:
        """A prefork worker consuming the test's queue (pool children render)."""
        return self._start(
            "worker",
            "worker",
            "-Q",
            self.queue,
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--without-mingle",
            "--without-gossip",
        )

    def beat(self) -> subprocess.Popen:
        """A celery-beat with its own schedule file (see the module docstring)."""
        index = len(self.processes)
        return self._start(
            "beat",
            "beat",
            "--scheduler",
            "celery.beat:PersistentScheduler",
            "--schedule",
            str(self.folder / f"beat-schedule-{index}"),
            "--max-interval",
            str(SWEEP_SECONDS),
        )

    def log_of(self, process: subprocess.Popen) -> str:
        for _name, started, log in self.processes:
            if started is process:
                return log.read_text()
        raise LookupError(process.pid)

    def wait_until_ready(self, process: subprocess.Popen, *, seconds: float = 90) -> None:
        """Until ``process`` says it is ready (a worker) or started (beat)."""

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"process {process.pid} exited:\n{self.log_of(process)}")
            text = self.log_of(process)
            return " ready." in text or "beat: Starting..." in text

        wait_for(ready, seconds=seconds, what=f"process {process.pid} ready")

    def renders(self) -> list[int]:
        """The pids of the pool children that called a renderer, in order."""
        if not self.renders_file.exists():
            return []
        return [int(line) for line in self.renders_file.read_text().split()]

    @staticmethod
    def children(process: subprocess.Popen) -> set[int]:
        found = subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
        )
        return {int(child) for child in found.stdout.split()}

    def stop(self, process: subprocess.Popen) -> None:
        """Stop one process as an operator would (SIGTERM, a warm shutdown)."""
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for _name, process, _log in self.processes:
            if process.poll() is None:
                process.terminate()
        for _name, process, log in self.processes:
            self.stop(process)
            print(f"--- {log.name}\n{log.read_text()[-4000:]}")  # shown when a test fails
