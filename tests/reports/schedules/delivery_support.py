"""Rows and receivers for the delivery tests.

A delivery is set up as the fan-out leaves it: a schedule of alice's probe
template over GROWTH (which bob sees through the equity desk), one occurrence
for February 2024, a run requested by alice as the recipient and not queued,
and the delivery row held by the sweeper's name until its task claims it. The
run is rendered by the delivery itself, with the recording renderers of
``tests/reports/core_support.py`` (each file is the document as JSON).

``Receiver`` is a webhook receiver on 127.0.0.1 (``http.server`` in a thread)
that answers the statuses it is told, in turn, and keeps each request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.utils import timezone

from portal.leases import RESENT, lease_until
from reports.models import (
    Delivery,
    DeliveryChannel,
    OccurrenceState,
    ReportRun,
    ReportTemplate,
    Schedule,
    ScheduleOccurrence,
)
from reports.services import deliveries
from reports.services.runs import report_run_request
from reports.services.templates import report_template_create
from reports.storage import report_storage
from tests.reports.core_support import snapshot_done

AS_OF = dt.date(2024, 2, 29)
SLOT = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
SECRET = "webhook-shared-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def probe_template(owner, portfolio) -> ReportTemplate:
    snapshot_done(portfolio, as_of=AS_OF)
    return report_template_create(
        user=owner,
        name="Growth monthly",
        blocks=["probe"],
        parameters={"scope": "portfolios", "portfolios": [portfolio.code], "period": "ytd"},
    )


def schedule_of(template: ReportTemplate, **fields: Any) -> Schedule:
    values: dict[str, Any] = {
        "owner": template.owner,
        "template": template,
        "name": "Growth every month",
        "cron": "0 8 1 * *",
        "timezone": "Europe/London",
        "period": "previous_month",
        "formats": ["pdf", "csv"],
        "channels": ["email"],
        "webhook_secret": SECRET,
    }
    values.update(fields)
    return Schedule.objects.create(**values)


def occurrence_of(schedule: Schedule, **fields: Any) -> ScheduleOccurrence:
    values: dict[str, Any] = {
        "schedule": schedule,
        "slot_at": SLOT,
        "period_start": dt.date(2024, 2, 1),
        "period_end": AS_OF,
        "period_label": "February 2024",
        "state": OccurrenceState.DELIVERING,
        "ready_by": SLOT + dt.timedelta(hours=2),
    }
    values.update(fields)
    return ScheduleOccurrence.objects.create(**values)


def run_for(schedule: Schedule, run_as, *, key: str = "") -> ReportRun:
    """The run a fan-out requests for ``run_as``: by the owner, not queued."""
    return report_run_request(
        user=schedule.owner,
        run_as=run_as,
        template=schedule.template,
        formats=schedule.formats,
        parameters={
            "portfolios": ["GROWTH"],
            "period": "custom",
            "start": "2024-02-01",
            "end": "2024-02-29",
        },
        idempotency_key=key or f"sched:{schedule.pk}:20240301T0800Z:{run_as.pk}:*",
        queue=False,
    )


def delivery_of(
    occurrence: ScheduleOccurrence,
    run: ReportRun | None,
    *,
    channel: str = DeliveryChannel.EMAIL,
    recipient=None,
    address: str = "",
) -> Delivery:
    """A queued delivery as the fan-out creates it."""
    who = f"u{recipient.pk}" if recipient is not None else address
    return Delivery.objects.create(
        key=f"{occurrence.schedule_id}:20240301T0800Z:{who}:{channel}:*",
        occurrence=occurrence,
        schedule=occurrence.schedule,
        channel=channel,
        recipient=recipient,
        address=address,
        run=run,
        lease_holder=RESENT,
        lease_expires_at=lease_until(deliveries.LEASE_KIND),
    )


def stored_bytes(file) -> bytes:
    with report_storage().open(file.storage_name, "rb") as handle:
        return handle.read()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def due_now(delivery: Delivery) -> None:
    """Move a waiting retry's time to now, as if its countdown had passed."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


class TasksSent:
    """The delivery tasks the service sends, recorded instead: ``(delivery id,
    countdown)``, countdown None for one sent at once."""

    def __init__(self, monkeypatch) -> None:
        self.sent: list[tuple[int, float | None]] = []
        monkeypatch.setattr(deliveries, "task_send", self._now)
        monkeypatch.setattr(deliveries, "task_send_on_commit", self._now)
        monkeypatch.setattr(deliveries, "_task_send_later", self._later)

    def _now(self, name: str, *args: Any) -> None:
        assert name == deliveries.TASK
        self.sent.append((args[0], None))

    def _later(self, delivery_id: int, *, countdown: float) -> None:
        self.sent.append((delivery_id, countdown))


class Receiver:
    """A webhook receiver on 127.0.0.1: answers ``statuses`` in turn (the last one
    for ever after) and keeps ``(headers, body)`` of each request."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/reports"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
