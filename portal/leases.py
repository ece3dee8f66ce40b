"""Leases on claimed rows: who holds a piece of work, and until when.

Every row a task claims (a snapshot, an evaluation, a queued import, an
idempotency key, and later report runs and deliveries) inherits :class:`Leased`:
``lease_holder`` names the process that holds it (host, process id and a token)
and ``lease_expires_at`` says until when. The rules:

1. **Claim** with one conditional UPDATE (:func:`lease_claim`): the row is free
   (the caller's condition, such as ``status="pending"``) or its lease has
   expired, or the sweeper re-sent it. A task that finds a live lease does
   nothing; one that finds an expired lease takes over.
2. **Keep** the lease while working (:func:`lease_kept`): a thread renews it every
   third of its length, so a live holder never loses it and a dead one loses it
   within one length. A holder that finds its lease taken over is told
   (``Lease.lost``) and must not store its result.
3. **Release** it in the same UPDATE that stores the outcome (:data:`LEASE_CLEARED`).
4. **Sweep** (the ``portal.leases_sweep`` beat job, :func:`leases_sweep`): for each
   registered kind of work (:func:`leased_work_register`, called from each app's
   ``AppConfig.ready``), the rows whose lease expired are re-armed for one more
   lease length under the holder :data:`RESENT` and handed to the kind's
   ``recover`` function, which re-sends their task (or records the failure, for
   work that cannot be redone such as a command-line import).

Lease lengths are in seconds, per kind, in ``settings.LEASE_SECONDS`` (a few times
the work's expected duration); the key ``"default"`` applies to kinds not listed.
Times are UTC ``datetime`` values from ``django.utils.timezone.now``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

RESENT = "sweeper"
"""The holder of a row the sweeper re-armed and re-sent: the next claim takes it."""

LEASE_CLEARED: dict[str, Any] = {"lease_holder": "", "lease_expires_at": None}
"""The fields that release a lease, to merge into the UPDATE storing an outcome."""


class Leased(models.Model):
    """A row that a task claims: who holds it, and until when (see the module)."""

    lease_holder = models.CharField(
        max_length=128, blank=True, help_text="The process working on this row (host:pid:token)."
    )
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Until when the holder's claim is good; after it, anyone may take over.",
    )

    class Meta:
        abstract = True


_process: dict[int, str] = {}


def lease_holder_name() -> str:
    """This process's name as a lease holder, ``host:pid:token`` (a new token after
    a fork, so a pool child never shares its parent's name)."""
    pid = os.getpid()
    if pid not in _process:
        _process.clear()
        _process[pid] = f"{socket.gethostname()[:80]}:{pid}:{secrets.token_hex(4)}"
    return _process[pid]


def lease_seconds(kind: str) -> float:
    """The lease length of ``kind`` in seconds (``settings.LEASE_SECONDS``)."""
    lengths: dict[str, float] = settings.LEASE_SECONDS
    return float(lengths.get(kind, lengths["default"]))


def lease_until(kind: str, *, now: datetime | None = None) -> datetime:
    """When a lease of ``kind`` taken ``now`` expires."""
    return (now or timezone.now()) + timedelta(seconds=lease_seconds(kind))


def lease_lapsed(*, now: datetime | None = None) -> Q:
    """Rows that nobody holds any more: their lease expired, or the sweeper re-sent
    them."""
    return Q(lease_expires_at__lt=now or timezone.now()) | Q(lease_holder=RESENT)


def lease_claimable(free: Q, *, now: datetime | None = None) -> Q:
    """Rows that may be claimed: ``free`` ones, ones whose lease expired and ones
    the sweeper re-sent."""
    return free | lease_lapsed(now=now)


def lease_claim(queryset: QuerySet, *, free: Q, kind: str, **updates: Any) -> int:
    """Claim the rows of ``queryset`` that are ``free`` or whose lease expired, for
    this process, with ``updates`` (such as ``status="running"``) in the same
    UPDATE. Returns how many rows were claimed (0: someone holds them)."""
    now = timezone.now()
    return queryset.filter(lease_claimable(free, now=now)).update(
        lease_holder=lease_holder_name(), lease_expires_at=lease_until(kind, now=now), **updates
    )


def lease_renew(queryset: QuerySet, *, kind: str) -> bool:
    """Extend this process's lease on the rows of ``queryset``; False when it no
    longer holds any of them (it expired and was taken over)."""
    return bool(
        queryset.filter(lease_holder=lease_holder_name()).update(lease_expires_at=lease_until(kind))
    )


@dataclass
class Lease:
    """A lease being kept by :func:`lease_kept`; ``lost`` once a renewal found it
    taken over."""

    kind: str
    lost: bool = False
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)


@contextmanager
def lease_kept(queryset: QuerySet, *, kind: str) -> Iterator[Lease]:
    """Renew this process's lease on ``queryset`` every third of its length while
    the block runs (in a thread with its own database connection).

    Inside a transaction nothing is renewed (claim in the same transaction): a
    claim made in it is not visible to others until the commit, its row locks keep
    every other claimant (and the sweeper, which skips locked rows) out until then,
    and a renewal from another connection would wait for those locks while the
    block's exit waited for the renewal, for ever."""
    lease = Lease(kind=kind)
    if connection.in_atomic_block:
        yield lease
        return
    interval = lease_seconds(kind) / 3
    holder = lease_holder_name()

    def renew() -> None:
        try:
            while not lease._stop.wait(interval):
                try:
                    held = queryset.filter(lease_holder=holder).update(
                        lease_expires_at=lease_until(kind)
                    )
                except Exception:  # busy database: the lease is still ours until it expires
                    logger.exception("renewing a lease on %s failed", queryset.model.__name__)
                    connection.close()
                    continue
                if not held:
                    # Every row released (stored by the block itself) is not a loss.
                    lease.lost = queryset.exclude(lease_holder="").exists()
                    if lease.lost:
                        logger.warning(
                            "lease on %s lost to another holder", queryset.model.__name__
                        )
                    return
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=renew, name=f"lease-{kind}", daemon=True)
    thread.start()
    try:
        yield lease
    finally:
        lease._stop.set()
        thread.join()


@dataclass(frozen=True)
class LeasedWork:
    """A kind of leased work the sweeper looks after: rows of ``model`` (a
    :class:`Leased` model) and ``recover``, called with the ids of the rows whose
    lease expired once they are re-armed under :data:`RESENT`."""

    kind: str
    model: type[Leased]
    recover: Callable[[Sequence[int]], None]


_registry: dict[str, LeasedWork] = {}


def leased_work_register(
    *, kind: str, model: type[Leased], recover: Callable[[Sequence[int]], None]
) -> None:
    """Have the sweeper look after the expired leases of ``model`` (call it from the
    app's ``AppConfig.ready``; registering a kind again replaces it)."""
    _registry[kind] = LeasedWork(kind=kind, model=model, recover=recover)


def leased_work_kinds() -> list[str]:
    """The kinds the sweeper looks after, in registration order."""
    return list(_registry)


def leases_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Re-arm and recover every registered kind's rows whose lease expired by
    ``now``; returns how many rows of each kind were recovered. Rows are re-armed
    for one lease length first, so sweeps that follow leave them to the recovery
    until it, too, expires."""
    moment = now or timezone.now()
    recovered: dict[str, int] = {}
    for work in _registry.values():
        rows = work.model._default_manager
        with transaction.atomic():
            expired = rows.select_for_update(skip_locked=True).filter(lease_expires_at__lt=moment)
            # One conditional update per row: a row finished meanwhile is left alone.
            ids = [
                pk
                for pk in expired.values_list("pk", flat=True)
                if rows.filter(pk=pk, lease_expires_at__lt=moment).update(
                    lease_holder=RESENT, lease_expires_at=lease_until(work.kind, now=moment)
                )
            ]
        if ids:
            logger.warning("recovering %d %s row(s) whose holder stopped", len(ids), work.kind)
            work.recover(ids)
        recovered[work.kind] = len(ids)
    return recovered
