"""The push service speaks in domain terms: a reused or running key is an error
the API turns into 422 or 409, and the first answer is replayed as given."""

import hashlib
import json

import pytest

from analytics.models import IdempotencyKey, ImportRun, Trade
from analytics.services.imports.push import (
    IdempotencyConflict,
    IdempotencyInProgress,
    IdempotencyKeyInvalid,
    PushAnswer,
    push_batch,
)

ROWS = [
    {
        "portfolio": "GROWTH",
        "instrument": "AAA",
        "trade_date": "2024-01-02",
        "side": "buy",
        "quantity": "100",
        "price": "10",
        "external_id": "S-1",
    }
]


def push(user, *, key="k-1", rows=ROWS):
    body = json.dumps({"rows": rows}).encode()
    return push_batch(
        kind="trades",
        user=user,
        body=body,
        rows=rows,
        source="oms",
        skip_invalid=False,
        idempotency_key=key,
        answer=lambda run: PushAnswer(code=7, body={"run": run.pk, "status": run.status}),
    )


def test_the_first_answer_is_stored_and_replayed(world, alice):
    first = push(alice)
    assert first.run is not None and not first.replayed
    assert first.answer == PushAnswer(code=7, body={"run": first.run.pk, "status": "committed"})
    again = push(alice)
    assert again.replayed and again.run is None and again.answer == first.answer
    assert ImportRun.objects.count() == 1 and Trade.objects.count() == 1


def test_a_key_reused_for_another_batch_is_a_conflict(world, alice):
    push(alice)
    with pytest.raises(IdempotencyConflict):
        push(alice, rows=[{**ROWS[0], "external_id": "S-2"}])
    assert Trade.objects.count() == 1


def test_a_key_whose_first_request_runs_is_in_progress(world, alice):
    body = json.dumps({"rows": ROWS}).encode()

    IdempotencyKey.objects.create(
        user=alice,
        endpoint="push.trades",
        key="k-1",
        request_sha256=hashlib.sha256(body).hexdigest(),
    )
    with pytest.raises(IdempotencyInProgress):
        push(alice)
    assert Trade.objects.count() == 0


def test_a_key_too_long_to_store_is_invalid(world, alice):
    with pytest.raises(IdempotencyKeyInvalid):
        push(alice, key="k" * 256)
    assert ImportRun.objects.count() == 0
