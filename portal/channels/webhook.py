"""Signed JSON webhooks: one POST per delivery, which the receiver can verify.

The receiver checks ``X-Portal-Signature`` against its own HMAC-SHA256, keyed with
the shared secret, of ``f"{timestamp}.".encode() + body`` (``timestamp`` being
the ``X-Portal-Timestamp`` header, whole seconds since the Unix epoch, and
``body`` the raw request bytes), compares in constant time, and rejects a
timestamp more than a few minutes old, so a captured request cannot be replayed.
``Idempotency-Key`` stays the same across retries of one delivery, so a receiver
that saw it already can answer 2xx and do nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.serializers.json import DjangoJSONEncoder

from portal.channels.errors import ChannelError, TransientChannelError

SIGNATURE_HEADER = "X-Portal-Signature"
TIMESTAMP_HEADER = "X-Portal-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Plain HTTP only to the loopback interface (receivers in tests and local tools);
# anything that leaves the machine goes over TLS.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
# Statuses that say "not now" rather than "no": a request timeout and rate limiting.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256, keyed with ``secret``, of
    ``f"{timestamp}."`` followed by the body bytes."""
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise ChannelError(f"webhooks go to https URLs (or http on 127.0.0.1), not {url!r}")


def webhook_send(
    *,
    url: str,
    payload: Mapping[str, Any],
    secret: str,
    idempotency_key: str,
    timeout: float = 10.0,
) -> int:
    """POST ``payload`` as JSON to ``url`` and return the receiver's 2xx status.

    Sent: the payload as compact JSON with sorted keys (dates, datetimes and
    decimals as Django's JSON encoder writes them), with the headers
    ``X-Portal-Timestamp`` (Unix seconds), ``X-Portal-Signature`` (see
    :func:`webhook_signature`) and ``Idempotency-Key``. Redirects are not
    followed, so the signed body goes nowhere but ``url``. ``timeout`` is in
    seconds, for connecting and again for the answer. Recorded: nothing here;
    the caller keeps the status on its delivery row (a 2xx is the receiver's
    confirmation).

    Raises :class:`TransientChannelError` on a timeout, a connection error, a 5xx,
    408 or 429, and :class:`ChannelError` on any other non-2xx answer (a 4xx, a
    redirect) or a URL the portal may not post to.
    """
    _check_url(url)
    body = json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True)
    encoded = body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: webhook_signature(secret=secret, timestamp=timestamp, body=encoded),
        IDEMPOTENCY_HEADER: idempotency_key,
    }
    try:
        response = requests.post(
            url, data=encoded, headers=headers, timeout=timeout, allow_redirects=False
        )
    except (requests.Timeout, requests.ConnectionError) as error:
        raise TransientChannelError(f"webhook unreachable: {error!r}") from error
    except requests.RequestException as error:
        raise ChannelError(f"webhook request failed: {error!r}") from error
    status = response.status_code
    if 200 <= status < 300:
        return status
    detail = f"webhook answered {status}: {response.text[:200]}"
    if status >= 500 or status in RETRYABLE_CLIENT_STATUSES:
        raise TransientChannelError(detail)
    raise ChannelError(detail)
