"""HTTP pull sources: celery-beat asks every minute which sources are due,
claims each one by moving its ``next_poll_at`` on, and sends one fetch task per
source. A fetch is one HTTP GET; its body goes through ``data_import`` exactly
like an uploaded file (same validation, atomicity and natural keys, so a
re-fetch of the same data changes nothing).

* Every attempt writes one ``DataFetch`` row: outcome, HTTP status, bytes,
  rows loaded and rejected, the import run.
* Timeouts, connection errors, 5xx and 429 are *transient*: the task retries
  with exponential backoff and jitter (``fetch_backoff_seconds``) up to the
  source's ``max_attempts``; other 4xx are permanent (``failed``, no retry).
* Secret headers (``Authorization``, API keys) are stored encrypted with Fernet
  under a key derived from ``INGEST_CREDENTIALS_KEY`` (default ``SECRET_KEY``);
  they are decrypted only to send the request and never logged or shown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import tempfile
from datetime import timedelta

import requests
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from analytics.models import DataFetch, DataSource, FetchOutcome, ImportOrigin, ImportStatus
from analytics.services.imports.runs import data_import

MAX_BODY_BYTES = 2 * 1024 * 1024 * 1024  # refuse more than 2 GB from one fetch
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 15 * 60  # well inside the broker's one-hour visibility timeout
TRANSIENT_STATUSES = {408, 425, 429} | set(range(500, 600))


class TransientFetchError(Exception):
    """A timeout, a connection error, a 5xx or 429: worth another attempt."""


def _fernet() -> Fernet:
    digest = hashlib.sha256(settings.INGEST_CREDENTIALS_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def data_source_secret_headers_set(*, source: DataSource, headers: dict[str, str]) -> None:
    """Store ``headers`` (e.g. ``{"Authorization": "Bearer …"}``) encrypted; an
    empty dict removes them."""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ValueError("secret headers are a mapping of header names to strings")
    source.secret_headers_encrypted = (
        _fernet().encrypt(json.dumps(headers).encode()).decode() if headers else ""
    )
    source.save(update_fields=["secret_headers_encrypted"])


def _request_headers(source: DataSource) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (source.headers or {}).items()}
    if source.secret_headers_encrypted:
        try:
            secret = json.loads(_fernet().decrypt(source.secret_headers_encrypted.encode()))
        except InvalidToken:
            raise ValueError(
                "the stored credentials cannot be decrypted (was INGEST_CREDENTIALS_KEY changed?)"
            ) from None
        headers.update(secret)
    headers.setdefault("User-Agent", "portfolio-portal data pull")
    return headers


def fetch_backoff_seconds(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: 30 s, 60 s, 120 s, ...
    capped at 15 minutes, with ±25 % jitter so failed sources do not retry in step."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_CAP_SECONDS)
    return delay * random.uniform(0.75, 1.25)


def _finish(fetch: DataFetch, outcome: str, **fields) -> DataFetch:
    fetch.outcome = outcome
    fetch.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(fetch, name, value)
    fetch.save()
    return fetch


def data_source_fetch(*, source: DataSource, attempt: int = 1) -> DataFetch:
    """One attempt at ``source``: GET, then import the body. Raises
    ``TransientFetchError`` (after logging the attempt as ``retrying``) when
    another attempt may succeed and ``attempt < source.max_attempts``."""
    fetch = DataFetch.objects.create(data_source=source, attempt=attempt)
    last_attempt = attempt >= source.max_attempts

    def transient(message: str, http_status: int | None = None):
        _finish(
            fetch,
            FetchOutcome.FAILED if last_attempt else FetchOutcome.RETRYING,
            error=message if not last_attempt else f"{message} (gave up after {attempt} attempts)",
            http_status=http_status,
        )
        if not last_attempt:
            raise TransientFetchError(message)
        return fetch

    try:
        headers = _request_headers(source)
    except ValueError as error:
        return _finish(fetch, FetchOutcome.FAILED, error=str(error))
    try:
        response = requests.get(
            source.url, headers=headers, timeout=source.timeout_seconds, stream=True
        )
    except requests.Timeout:
        return transient(f"no answer within {source.timeout_seconds} s")
    except requests.ConnectionError as error:
        return transient(f"connection failed: {type(error).__name__}")
    except requests.RequestException as error:
        return _finish(fetch, FetchOutcome.FAILED, error=f"bad request: {error}")

    with response:
        if response.status_code in TRANSIENT_STATUSES:
            return transient(
                f"HTTP {response.status_code} {response.reason}", http_status=response.status_code
            )
        if response.status_code != 200:
            return _finish(
                fetch,
                FetchOutcome.FAILED,
                http_status=response.status_code,
                error=f"HTTP {response.status_code} {response.reason}: not retried",
            )
        with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as body:
            size = 0
            try:
                for block in response.iter_content(chunk_size=1024 * 1024):
                    size += len(block)
                    if size > MAX_BODY_BYTES:
                        return _finish(
                            fetch,
                            FetchOutcome.FAILED,
                            http_status=200,
                            error=f"the answer is larger than {MAX_BODY_BYTES} bytes",
                        )
                    body.write(block)
            except (requests.ConnectionError, requests.Timeout) as error:
                return transient(f"the transfer broke off: {type(error).__name__}", 200)
            body.seek(0)
            run = data_import(
                kind=source.kind,
                stream=body,
                file_name=source.url[-255:],
                file_format=source.format,
                source=source.name,
                actor=None,
                origin=ImportOrigin.PULL,
                skip_invalid=source.skip_invalid,
                column_mapping=source.column_mapping or None,
                data_source=source,
            )
    loaded = run.status in (ImportStatus.COMMITTED, ImportStatus.PARTIAL)
    if loaded:
        DataSource.objects.filter(pk=source.pk).update(last_success_at=timezone.now())
    return _finish(
        fetch,
        FetchOutcome.LOADED if loaded else FetchOutcome.REJECTED,
        http_status=200,
        bytes_received=size,
        rows_total=run.rows_total,
        rows_loaded=run.rows_created + run.rows_updated + run.rows_unchanged if loaded else 0,
        rows_rejected=run.rows_rejected,
        import_run=run,
        error="" if loaded else run.message,
    )


def data_sources_claim_due(*, now=None) -> list[int]:
    """Claim every active source whose poll is due (or never scheduled): move its
    ``next_poll_at`` one interval on with a conditional update, so two beats or
    a duplicated beat task cannot send the same poll twice. Returns the ids claimed;
    the caller sends their fetch tasks after commit."""
    now = now or timezone.now()
    claimed = []
    due = DataSource.objects.filter(is_active=True).filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
    )
    for source_id, next_poll_at, interval in due.values_list(
        "id", "next_poll_at", "interval_minutes"
    ):
        won = (
            DataSource.objects.filter(id=source_id, next_poll_at=next_poll_at)
            if next_poll_at is not None
            else DataSource.objects.filter(id=source_id, next_poll_at__isnull=True)
        ).update(next_poll_at=now + timedelta(minutes=interval))
        if won:
            claimed.append(source_id)
    return claimed
