"""Pushed JSON batches, imported once per ``Idempotency-Key``.

The key row is committed *before* the import starts, so a concurrent retry sees
it (``IdempotencyInProgress`` while the first request runs); the caller's answer
to the first request is stored on it and replayed to every retry with the same
body; the same key with another body is refused (``IdempotencyConflict``). A
batch that crashes releases its key so that the client may retry. The service
knows nothing of HTTP: the caller (``analytics.api.ingest``) parses the body,
words the answer and turns these errors into status codes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from analytics.models import IdempotencyKey, ImportOrigin, ImportRun
from analytics.services.imports.runs import data_import
from portal.models import User
from portal.origins import RequestOrigin

IDEMPOTENCY_KEY_MAX_LENGTH = 255


class IdempotencyKeyInvalid(ValueError):
    """The key cannot be stored (longer than ``IDEMPOTENCY_KEY_MAX_LENGTH``)."""


class IdempotencyConflict(Exception):
    """The key was used before for a different batch."""


class IdempotencyInProgress(Exception):
    """The first request with this key is still running."""


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
    try:
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
    except BaseException:
        if record is not None:
            record.delete()
        raise
    first = answer(run)
    if record is not None:
        record.response_status = first.code
        record.response_body = json.loads(json.dumps(first.body, default=str))
        record.import_run = run
        record.save(update_fields=["response_status", "response_body", "import_run"])
    return PushOutcome(answer=first, run=run)


def _key_claim(
    *, user: User, endpoint: str, key: str, body: bytes
) -> tuple[IdempotencyKey | None, PushAnswer | None]:
    """Claim ``key`` for this request (committed at once, so a concurrent retry
    sees it), or return the stored answer of the request that had it first."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            return (
                IdempotencyKey.objects.create(
                    user=user, endpoint=endpoint, key=key, request_sha256=digest
                ),
                None,
            )
    except IntegrityError:
        existing = IdempotencyKey.objects.get(user=user, endpoint=endpoint, key=key)
    if existing.request_sha256 != digest:
        raise IdempotencyConflict
    if existing.response_status is None:
        raise IdempotencyInProgress
    return None, PushAnswer(code=existing.response_status, body=existing.response_body or {})
