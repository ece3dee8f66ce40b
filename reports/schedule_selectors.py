"""Reads of schedules, their occurrences and deliveries, always for a user.

A schedule is seen by its owner; administrators (superusers, staff and users
with the admin role) see and manage every schedule. A delivery is seen by the
owner of its schedule and by its own recipient (a user sees what was sent to
them); administrators see all. The getters fetch *and* authorise: a schedule or
delivery the user may not see raises :class:`~reports.errors.ReportNotFound`
(404), exactly like one that does not exist, so ids leak nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from portal.models import Role
from reports.errors import ReportNotFound
from reports.models import Delivery, Schedule, ScheduleOccurrence


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def schedule_admin(user: Any) -> bool:
    """Whether ``user`` administers every schedule (superuser, staff or the admin role)."""
    return _active(user) and bool(
        user.is_superuser or user.is_staff or getattr(user, "role", "") == Role.ADMIN
    )


def schedules_visible_to(*, user: Any) -> QuerySet[Schedule]:
    """The user's own schedules (administrators: every schedule)."""
    if not _active(user):
        return Schedule.objects.none()
    schedules = Schedule.objects.select_related("owner", "template")
    if schedule_admin(user):
        return schedules.all()
    return schedules.filter(owner=user)


def schedule_get_for_user(*, user: Any, schedule_id: int | str) -> Schedule:
    """One schedule the user may see; ``ReportNotFound`` otherwise."""
    if isinstance(schedule_id, str) and not schedule_id.isdigit():
        raise ReportNotFound("No such schedule.")
    found = schedules_visible_to(user=user).filter(id=int(schedule_id)).first()
    if found is None:
        raise ReportNotFound("No such schedule.")
    return found


def schedule_occurrences(*, schedule: Schedule) -> QuerySet[ScheduleOccurrence]:
    """An authorised schedule's occurrences, the latest slot first."""
    return schedule.occurrences.order_by("-slot_at", "-id")


def deliveries_visible_to(*, user: Any) -> QuerySet[Delivery]:
    """Deliveries of the user's schedules and those sent to the user
    (administrators: all), newest first."""
    if not _active(user):
        return Delivery.objects.none()
    deliveries = Delivery.objects.select_related(
        "schedule", "occurrence", "recipient", "portfolio", "run"
    ).order_by("-created_at", "-id")
    if schedule_admin(user):
        return deliveries
    return deliveries.filter(Q(schedule__owner=user) | Q(recipient=user))


def delivery_get_for_user(*, user: Any, delivery_id: int | str) -> Delivery:
    """One delivery the user may see; ``ReportNotFound`` otherwise."""
    if isinstance(delivery_id, str) and not delivery_id.isdigit():
        raise ReportNotFound("No such delivery.")
    found = deliveries_visible_to(user=user).filter(id=int(delivery_id)).first()
    if found is None:
        raise ReportNotFound("No such delivery.")
    return found


def schedule_deliveries(*, schedule: Schedule) -> QuerySet[Delivery]:
    """An authorised schedule's deliveries (for its owner's page), newest first."""
    return (
        Delivery.objects.filter(schedule=schedule)
        .select_related("occurrence", "recipient", "portfolio", "run")
        .order_by("-created_at", "-id")
    )
