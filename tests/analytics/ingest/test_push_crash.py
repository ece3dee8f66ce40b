"""A push whose web process dies in flight never leaves its ``Idempotency-Key``
stuck: retries get 409 with ``Retry-After`` while the dead request's lease is
live, and the first retry after it ran out takes the key over and imports the
batch, once (the dead request's transaction rolled back).

The last test kills a real ``manage.py runserver`` against the test database in
the middle of a push (its first import sleeps inside its transaction, see
``processes``) and retries on a second server, as a client behind a load
balancer would."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from email.message import Message
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.models import IdempotencyKey, ImportRun, ImportStatus, Trade
from analytics.services.imports.push import IdempotencyInProgress, PushAnswer, push_batch
from analytics.services.imports.recovery import STOPPED_MESSAGE
from portal.leases import leases_sweep
from portal.models import AuditAction, AuditEvent
from tests.analytics.ingest.processes import SlowPortal, wait_for
from tests.api_tokens import token_for

BATCH = {
    "source": "oms",
    "rows": [
        {
            "portfolio": "GROWTH",
            "instrument": "AAA",
            "trade_date": "2024-01-02",
            "side": "buy",
            "quantity": "100",
            "price": "10.10",
            "external_id": "C-1",
        },
        {
            "portfolio": "GROWTH",
            "instrument": "SAP.DE",
            "trade_date": "2024-01-03",
            "side": "buy",
            "quantity": "20",
            "price": "150.25",
            "external_id": "C-2",
        },
    ],
}
BODY = json.dumps(BATCH).encode()
DEAD_HOLDER = "web-1:4242:0badf00d"  # a web process that went down with the request


def key_left_by_a_dead_request(user, *, expires_in: dt.timedelta) -> IdempotencyKey:
    return IdempotencyKey.objects.create(
        user=user,
        endpoint="push.trades",
        key="crash-1",
        request_sha256=hashlib.sha256(BODY).hexdigest(),
        lease_holder=DEAD_HOLDER,
        lease_expires_at=timezone.now() + expires_in,
    )


def push(user):
    return push_batch(
        kind="trades",
        user=user,
        body=BODY,
        rows=BATCH["rows"],
        source="oms",
        skip_invalid=False,
        idempotency_key="crash-1",
        answer=lambda run: PushAnswer(code=201, body={"run": run.pk}),
    )


def test_a_retry_while_the_dead_requests_lease_is_live_is_told_when_to_retry(world, alice):
    key_left_by_a_dead_request(alice, expires_in=dt.timedelta(seconds=30))
    with pytest.raises(IdempotencyInProgress) as running:
        push(alice)
    assert 1 <= running.value.retry_after_seconds <= 30
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post(
        reverse("api-push-trades"),
        data=BODY,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="crash-1",
    )
    assert response.status_code == 409
    assert 1 <= int(response["Retry-After"]) <= 30
    assert Trade.objects.count() == 0 and ImportRun.objects.count() == 0


def test_a_retry_after_the_dead_requests_lease_ran_out_takes_the_key_over(world, alice):
    key = key_left_by_a_dead_request(alice, expires_in=dt.timedelta(seconds=-1))

    outcome = push(alice)

    assert not outcome.replayed and outcome.run is not None
    assert Trade.objects.filter(external_id__in=["C-1", "C-2"]).count() == 2
    key.refresh_from_db()
    assert (key.response_status, key.response_body) == (201, {"run": outcome.run.pk})
    assert (key.lease_holder, key.lease_expires_at) == ("", None)
    assert push(alice).replayed and Trade.objects.count() == 2


def test_a_key_without_a_lease_from_before_leases_is_taken_over_once_old(world, alice):
    key = key_left_by_a_dead_request(alice, expires_in=dt.timedelta(0))
    IdempotencyKey.objects.filter(pk=key.pk).update(
        lease_holder="", lease_expires_at=None, created_at=timezone.now() - dt.timedelta(days=1)
    )
    assert push(alice).run is not None
    assert Trade.objects.count() == 2


# --- a real web process killed in flight ---------------------------------------

KEY_LEASE_SECONDS = 10  # the dead request's key lease: retries get 409 until it runs out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(port: int, token: str, *, timeout: float = 120) -> tuple[int, Message, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{reverse('api-push-trades')}",
        data=BODY,
        method="POST",
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": "crash-1",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"{}")


def answering(port: int, token: str) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{reverse('api-import-list')}",
        headers={"Authorization": f"Token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def portal(tmp_path):
    processes = SlowPortal(
        tmp_path,
        LEASE_IDEMPOTENCY_KEY_SECONDS=str(KEY_LEASE_SECONDS),
        LEASE_IMPORT_SECONDS="3",
    )
    yield processes
    processes.stop()


@pytest.mark.django_db(transaction=True)
def test_a_push_whose_web_process_is_killed_is_imported_once_by_a_later_retry(world, alice, portal):
    token = token_for(alice)
    ports = free_port(), free_port()
    first, _ = (
        portal.start("manage", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}")
        for port in ports
    )
    wait_for(lambda: all(answering(port, token) for port in ports))
    in_flight: list[object] = []
    sender = threading.Thread(target=lambda: in_flight.append(_attempt(ports[0], token)))
    sender.start()

    assert portal.slow_import_pid() == first.pid
    key = IdempotencyKey.objects.get()
    assert key.response_status is None and f":{first.pid}:" in key.lease_holder

    first.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait(timeout=30)
    sender.join(timeout=30)
    assert isinstance(in_flight[0], OSError)  # the client saw the connection drop

    code, headers, _ = post(ports[1], token)
    assert code == 409
    assert 1 <= int(headers["Retry-After"]) <= KEY_LEASE_SECONDS
    deadline = time.monotonic() + 120
    while code == 409 and time.monotonic() < deadline:
        time.sleep(min(1.0, int(headers["Retry-After"])))
        code, headers, body = post(ports[1], token)
    recovered_in = time.monotonic() - killed_at
    print(f"a push killed in flight: a retry succeeded {recovered_in:.1f} s after the kill")

    assert code == 201 and (body["status"], body["rows_created"]) == ("committed", 2)
    assert Trade.objects.filter(external_id__in=["C-1", "C-2"]).count() == 2
    code, headers, again = post(ports[1], token)
    assert (code, headers["Idempotent-Replayed"], again) == (201, "true", body)
    # The dead request's run: its lease ran out, the sweeper fails it.
    leases_sweep()
    killed_run, retried_run = ImportRun.objects.order_by("id")
    assert (killed_run.status, killed_run.message) == (ImportStatus.FAILED, STOPPED_MESSAGE)
    assert (retried_run.pk, retried_run.status) == (body["id"], ImportStatus.COMMITTED)
    imported = AuditEvent.objects.filter(action=AuditAction.DATA_IMPORTED)
    assert list(imported.values_list("target_id", flat=True)) == [str(body["id"])]


def _attempt(port: int, token: str) -> object:
    try:
        return post(port, token)
    except OSError as error:
        return error
