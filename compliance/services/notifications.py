"""In-app notifications and their e-mail, idempotently, plus the daily digest.

A :class:`~compliance.models.Notification` row (unique per alert, recipient,
kind and key) is created in the transaction of the event; the e-mail task is sent
after commit and claims the row with a conditional update, so a retried task or a
re-run evaluation never mails anyone twice.

Recipients: the alert's assignee, or when it has none every compliance officer
entitled to the portfolio; for hard breaches also the portfolio's manager (its
owner); for escalations also the members of the team it was escalated to.
Each recipient's :class:`~compliance.models.NotificationPreference` decides
whether the e-mail goes at once, in the daily digest, or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.entitlements import portfolio_list_visible_to
from compliance.models import (
    Alert,
    Digest,
    EmailMode,
    EmailStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
    Severity,
)
from portal.models import Role, User
from portal.task_queue import task_send_on_commit

logger = logging.getLogger(__name__)


def _officers_for(alert: Alert) -> list[User]:
    officers = User.objects.filter(is_active=True, role=Role.COMPLIANCE_OFFICER)
    return [
        officer
        for officer in officers
        if portfolio_list_visible_to(user=officer).filter(id=alert.portfolio_id).exists()
    ]


def recipients_for(alert: Alert, kind: str) -> list[User]:
    people: dict[int, User] = {}
    if alert.assignee_id and alert.assignee.is_active:
        people[alert.assignee_id] = alert.assignee
    else:
        people.update({u.id: u for u in _officers_for(alert)})
    if alert.severity == Severity.BREACH and kind != NotificationKind.ASSIGNED:
        owner = alert.portfolio.owner
        if owner.is_active:
            people[owner.id] = owner
    if kind == NotificationKind.ESCALATED and alert.escalated_to_id:
        for member in alert.escalated_to.members.filter(is_active=True):
            if portfolio_list_visible_to(user=member).filter(id=alert.portfolio_id).exists():
                people[member.id] = member
    return list(people.values())


def _message(alert: Alert, kind: str) -> tuple[str, str]:
    rule, portfolio = alert.rule, alert.portfolio
    headline = {
        NotificationKind.OPENED: "New compliance",
        NotificationKind.REOPENED: "Worsened or reopened compliance",
        NotificationKind.ESCALATED: "Escalated compliance",
        NotificationKind.ASSIGNED: "Assigned compliance",
    }[kind]
    utilisation = alert.last_utilisation
    shown = (
        "unbounded"
        if utilisation == float("inf")
        else (f"{utilisation:.0%}" if utilisation is not None else "n/a")
    )
    subject = f"{headline} {alert.severity}: {rule.name} on {portfolio.code}"
    path = reverse("compliance:alert-detail", args=[alert.id])
    body = (
        f"{subject}\n\n"
        f"Portfolio: {portfolio.code} {portfolio.name}\n"
        f"Rule: {rule.name}\n"
        f"Severity: {alert.get_severity_display()} "
        f"({'active: caused by trades' if alert.active else 'passive'})\n"
        f"Utilisation: {shown} as of {alert.last_observed_on}\n"
        f"Open since: {alert.opened_on}\n"
        f"State: {alert.get_state_display()}\n\n"
        f"Review it at {path}\n"
    )
    return subject[:255], body


def _email_mode(user: User) -> str:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference.email_mode if preference else EmailMode.IMMEDIATE


def alert_notify(
    *, alert: Alert, kind: str, key: str, only: Iterable[User] | None = None
) -> list[Notification]:
    """Create the notifications of one alert event (once per recipient) and queue
    their e-mail after commit. Returns the notifications created now."""
    subject, body = _message(alert, kind)
    created = []
    for user in only if only is not None else recipients_for(alert, kind):
        mode = _email_mode(user)
        status = (
            EmailStatus.NOT_SENT
            if mode == EmailMode.NONE or not user.email
            else EmailStatus.DIGEST
            if mode == EmailMode.DIGEST
            else EmailStatus.PENDING
        )
        try:
            with transaction.atomic():
                notification, was_created = Notification.objects.get_or_create(
                    alert=alert,
                    recipient=user,
                    kind=kind,
                    key=key,
                    defaults={"subject": subject, "body": body, "email_status": status},
                )
        except IntegrityError:
            continue  # created concurrently: someone else sends it
        if was_created:
            created.append(notification)
            if status == EmailStatus.PENDING:
                task_send_on_commit("compliance.notification_email_send", notification.id)
    return created


def notification_email_send(*, notification_id: int) -> bool:
    """Send one notification's e-mail if nobody has; True when sent now."""
    claimed = Notification.objects.filter(
        id=notification_id, email_status=EmailStatus.PENDING
    ).update(email_status=EmailStatus.SENDING)
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(id=notification_id)
    try:
        send_mail(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient.email],
        )
    except Exception as error:
        Notification.objects.filter(id=notification_id).update(
            email_status=EmailStatus.FAILED, email_error=repr(error)[:2000]
        )
        raise
    Notification.objects.filter(id=notification_id).update(
        email_status=EmailStatus.SENT, email_sent_at=timezone.now()
    )
    return True


def notification_mark_read(*, user: User, notification_ids: Iterable[int]) -> int:
    """Mark the user's own notifications read."""
    return Notification.objects.filter(
        recipient=user, id__in=list(notification_ids), read_at__isnull=True
    ).update(read_at=timezone.now())


def digests_send(*, date: dt.date) -> int:
    """One digest e-mail per recipient with notifications waiting for it; the
    (recipient, date) row is created before sending, so a second run sends nothing."""
    sent = 0
    recipients = (
        Notification.objects.filter(email_status=EmailStatus.DIGEST)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for recipient_id in list(recipients):
        digest, created = Digest.objects.get_or_create(recipient_id=recipient_id, date=date)
        if not created and digest.status != EmailStatus.PENDING:
            continue
        if not Digest.objects.filter(id=digest.id, status=EmailStatus.PENDING).update(
            status=EmailStatus.SENDING
        ):
            continue
        items = list(
            Notification.objects.filter(
                recipient_id=recipient_id, email_status=EmailStatus.DIGEST
            ).order_by("created_at")
        )
        user = User.objects.get(id=recipient_id)
        body = "\n".join(f"- {n.subject}" for n in items)
        send_mail(
            f"Compliance digest for {date}: {len(items)} notification(s)",
            f"Compliance notifications since your last digest:\n\n{body}\n",
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
        Notification.objects.filter(id__in=[n.id for n in items]).update(
            email_status=EmailStatus.DIGESTED, email_sent_at=timezone.now()
        )
        Digest.objects.filter(id=digest.id).update(
            status=EmailStatus.SENT, sent_at=timezone.now(), notifications=len(items)
        )
        sent += 1
    return sent
