"""Reads of the audit log, for the audit page (``portal.audit_views``) and the
API (``portal.api.audit``): one door, one permission.

Who may read: superusers, administrators (``Role.ADMIN``) and compliance officers
(``Role.COMPLIANCE_OFFICER``); anyone else gets ``PermissionDenied``. They read the
whole log: proving who saw what needs every event, whichever portfolio it names
(an event carries ids and a short description, never the portfolio's data).

Filters combine (AND) and each one left out does not narrow:

* ``user``: the actor's username at the time of the event (exact, so a removed
  user's events are still found);
* ``action``: an ``AuditAction`` value such as ``"export.downloaded"``;
* ``target_type`` (a model label such as ``"analytics.Portfolio"``) and
  ``target_id`` (the object's primary key, as text): the object acted on;
* ``portfolio_id``: the portfolio the event concerns (``AuditEvent.portfolio_id``);
* ``date_from`` / ``date_to``: calendar dates, both inclusive, in the portal's
  ``TIME_ZONE``: ``date_to=2026-03-31`` includes 23:59:59 of that day there.

Results come newest first (``-created_at``, then ``-id``, so pages never overlap).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from portal.models import AuditEvent, Role, User

AUDIT_READER_ROLES = frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER})
AUDIT_READERS_ONLY = "Only administrators and compliance officers may read the audit log."


def audit_readable_by(user: User) -> bool:
    """Whether ``user`` may read the audit log (see the module docstring)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role in AUDIT_READER_ROLES


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the portal's time zone (aware)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events_filtered(
    *,
    viewer: User,
    user: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    portfolio_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """The audit events matching every given filter, newest first; raises
    ``PermissionDenied`` unless ``viewer`` may read the log."""
    if not audit_readable_by(viewer):
        raise PermissionDenied(AUDIT_READERS_ONLY)
    events = AuditEvent.objects.all()
    if user:
        events = events.filter(actor_username=user)
    if action:
        events = events.filter(action=action)
    if target_type:
        events = events.filter(target_type=target_type)
    if target_id:
        events = events.filter(target_id=target_id)
    if portfolio_id is not None:
        events = events.filter(portfolio_id=portfolio_id)
    if date_from is not None:
        events = events.filter(created_at__gte=_day_start(date_from))
    if date_to is not None:
        events = events.filter(created_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    return events.order_by("-created_at", "-id")


def audit_target_types() -> list[str]:
    """The object types (model labels) the log names, sorted: the page's choices.
    Read from the ``(target_type, target_id)`` index."""
    types = AuditEvent.objects.exclude(target_type="").values_list("target_type", flat=True)
    return sorted(set(types.order_by().distinct()))
