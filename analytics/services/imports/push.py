"""Pushed JSON batches, imported once per ``Idempotency-Key``.

A key is a row of ``IdempotencyKey`` (one per user, endpoint and key) that is
leased like any claimed work (``portal.leases``, the kind ``"idempotency_key"``,
its length in ``settings.LEASE_SECONDS``). The rules:

1. **Claim.** The first request creates the row with its lease, committed before
   the import starts, so a concurrent retry sees it. The lease is renewed while
   the import runs (``lease_kept``) and released in the same UPDATE that stores
   the answer.
2. **Replay.** The caller's answer to the first request is stored on the row and
   replayed to every retry with the same body; the same key with another body is
   refused (``IdempotencyConflict``).
3. **In progress.** A retry that finds no answer and a live lease gets
   ``IdempotencyInProgress`` with the seconds the lease has left (the API answers
   409 with ``Retry-After``).
4. **Take over.** A retry that finds no answer and an expired lease takes the key
   over and runs the import: the request that had it died with its process (a
   killed web worker), and its import's transaction rolled back, so nothing of it
   was stored (its import run is failed by the ``import`` lease sweeper). A row
   with neither answer nor lease, written before keys had leases, counts as
   leased for one lease length from its creation.
5. **Release on error.** A batch that raises deletes its key, so that the client
   may retry at once.

Nothing re-sends a push (the client retries), so keys are not registered with
the lease sweeper. Should the first request have been alive after all (its
renewals failed), both imports run; the data is idempotent by natural key, so
nothing is doubled, and the key keeps the answer of the request holding it.

The service knows nothing of HTTP: the caller (``analytics.api.ingest``) parses
the body, words the answer and turns these errors into status codes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from analytics.models import IdempotencyKey, ImportOrigin, ImportRun
from analytics.services.imports.runs import data_import
from portal.leases import (
    LEASE_CLEARED,
    lease_claim,
    lease_holder_name,
    lease_kept,
    lease_seconds,
    lease_until,
)
from portal.models import User
from portal.origins import RequestOrigin

IDEMPOTENCY_KEY_MAX_LENGTH = 255
KEY_LEASE = "idempotency_key"
"""The lease kind of a key whose first request runs (``settings.LEASE_SECONDS``)."""


class IdempotencyKeyInvalid(ValueError):
    """The key cannot be stored (longer than ``IDEMPOTENCY_KEY_MAX_LENGTH``)."""


class IdempotencyConflict(Exception):
    """The key was used before for a different batch."""


class IdempotencyInProgress(Exception):
    """The first request with this key is still running: its lease has
    ``retry_after_seconds`` left (it is renewed while the request lives)."""

    def __init__(self, *, retry_after_seconds: int) -> None:
        super().__init__(f"still running; retry in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class PushAnswer:
    """The caller's answer to a push, stored with its key and replayed verbatim to
    every retry. ``code`` and ``body`` mean what the caller says (for the API: the
    status code and the JSON body); ``body`` must be JSON-serialisable, with
    decimals and dates as text."""

    code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class PushOutcome:
    """The answer to give, the import this request ran (None for a replay), and
    whether the answer is a replay of an earlier request's."""

    answer: PushAnswer
    run: ImportRun | None
    replayed: bool = False


def push_batch(
    *,
    kind: str,
    user: User,
    body: bytes,
    rows: list[dict[str, Any]],
    source: str,
    skip_invalid: bool,
    idempotency_key: str,
    answer: Callable[[ImportRun], PushAnswer],
    request_origin: RequestOrigin | None = None,
) -> PushOutcome:
    """Import ``rows`` (the parsed batch whose raw text is ``body``) of ``kind``
    as ``user``, once per ``idempotency_key`` (see the module docstring; an empty
    key makes the batch idempotent by natural key only). ``answer`` words the
    outcome of the import; it is stored for replay."""
    key = idempotency_key.strip()
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise IdempotencyKeyInvalid(f"at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters")
    record = None
    if key:
        record, replay = _key_claim(user=user, endpoint=f"push.{kind}", key=key, body=body)
        if replay is not None:
            return PushOutcome(answer=replay, run=None, replayed=True)
    held = (
        IdempotencyKey.objects.filter(pk=record.pk, lease_holder=lease_holder_name())
        if record is not None
        else IdempotencyKey.objects.none()
    )
    try:
        with lease_kept(held, kind=KEY_LEASE) if record is not None else nullcontext():
            run = data_import(
                kind=kind,
                rows=rows,
                file_name=f"push ({len(rows)} rows)",
                source=source,
                actor=user,
                origin=ImportOrigin.PUSH,
                skip_invalid=skip_invalid,
                request_origin=request_origin,
            )
            first = answer(run)
    except BaseException:
        held.filter(response_status__isnull=True).delete()
        raise
    held.update(
        response_status=first.code,
        response_body=json.loads(json.dumps(first.body, default=str)),
        import_run=run,
        **LEASE_CLEARED,
    )
    return PushOutcome(answer=first, run=run)


def _key_claim(
    *, user: User, endpoint: str, key: str, body: bytes
) -> tuple[IdempotencyKey | None, PushAnswer | None]:
    """Claim ``key`` for this request (committed at once, so a concurrent retry
    sees it), or return the stored answer of the request that had it first (see
    the module docstring)."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            return (
                IdempotencyKey.objects.create(
                    user=user,
                    endpoint=endpoint,
                    key=key,
                    request_sha256=digest,
                    lease_holder=lease_holder_name(),
                    lease_expires_at=lease_until(KEY_LEASE),
                ),
                None,
            )
    except IntegrityError:
        pass
    keys = IdempotencyKey.objects.filter(user=user, endpoint=endpoint, key=key)
    existing = keys.first()
    if existing is None:  # released by a first request that failed meanwhile
        return _key_claim(user=user, endpoint=endpoint, key=key, body=body)
    if existing.request_sha256 != digest:
        raise IdempotencyConflict
    if existing.response_status is None:
        unleased_since = timezone.now() - timedelta(seconds=lease_seconds(KEY_LEASE))
        if lease_claim(
            keys.filter(response_status__isnull=True),
            free=Q(lease_expires_at__isnull=True, created_at__lt=unleased_since),
            kind=KEY_LEASE,
        ):
            return keys.get(), None
        existing = keys.first()
        if existing is None:
            return _key_claim(user=user, endpoint=endpoint, key=key, body=body)
        if existing.response_status is None:
            raise IdempotencyInProgress(retry_after_seconds=_lease_seconds_left(existing))
    return None, PushAnswer(code=existing.response_status, body=existing.response_body or {})


def _lease_seconds_left(record: IdempotencyKey) -> int:
    """Whole seconds, at least 1, until the lease on ``record`` runs out."""
    expires = record.lease_expires_at or record.created_at + timedelta(
        seconds=lease_seconds(KEY_LEASE)
    )
    return max(1, math.ceil((expires - timezone.now()).total_seconds()))
