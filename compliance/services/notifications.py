"""In-app notifications and their e-mail, idempotently, plus the daily digest.

A :class:`~compliance.models.Notification` row (unique per alert, recipient,
kind and key) is created in the transaction of the event, together with its
message in the portal's inbox (``portal.channels.inbox``, deduplicated by the same
key); the e-mail task is sent after commit and claims the row with a conditional
update, so a retried task or a re-run evaluation never mails anyone twice. Mail
goes through ``portal.channels.mail``: a transient failure hands the claim back
(``pending``) for the task's retry, a permanent one marks the e-mail ``failed``.

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
from portal.channels.errors import ChannelError, TransientChannelError
from portal.channels.inbox import inbox_mark_read, inbox_send
from portal.channels.mail import mail_send
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
    assignee = alert.assignee
    if assignee is not None and assignee.is_active:
        people[assignee.id] = assignee
    else:
        people.update({u.id: u for u in _officers_for(alert)})
    if alert.severity == Severity.BREACH and kind != NotificationKind.ASSIGNED:
        owner = alert.portfolio.owner
        if owner.is_active:
            people[owner.id] = owner
    team = alert.escalated_to if kind == NotificationKind.ESCALATED else None
    if team is not None:
        for member in team.members.filter(is_active=True):
            if portfolio_list_visible_to(user=member).filter(id=alert.portfolio_id).exists():
                people[member.id] = member
    return list(people.values())


def _dedupe_key(*, alert: Alert, kind: str, key: str) -> str:
    """The inbox's name for one alert event (the notification's natural key
    without the recipient, whom the inbox keys on itself)."""
    return f"compliance.notification:{alert.id}:{kind}:{key}"


def _message(alert: Alert, kind: str) -> tuple[str, str, str]:
    """Subject, plain-text body and the alert's path, for the inbox and the e-mail."""
    rule, portfolio = alert.rule, alert.portfolio
    headlines: dict[str, str] = {
        NotificationKind.OPENED: "New compliance",
        NotificationKind.REOPENED: "Worsened or reopened compliance",
        NotificationKind.ESCALATED: "Escalated compliance",
        NotificationKind.ASSIGNED: "Assigned compliance",
    }
    headline = headlines[kind]
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
    return subject[:255], body, path


def _email_mode(user: User) -> str:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference.email_mode if preference else EmailMode.IMMEDIATE


def alert_notify(
    *, alert: Alert, kind: str, key: str, only: Iterable[User] | None = None
) -> list[Notification]:
    """Create the notifications of one alert event (once per recipient) and queue
    their e-mail after commit. Returns the notifications created now."""
    subject, body, link = _message(alert, kind)
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
                message = inbox_send(
                    recipient=user,
                    subject=subject,
                    body=body,
                    link=link,
                    dedupe_key=_dedupe_key(alert=alert, kind=kind, key=key),
                )
                notification, was_created = Notification.objects.get_or_create(
                    alert=alert,
                    recipient=user,
                    kind=kind,
                    key=key,
                    defaults={"message": message, "email_status": status},
                )
        except IntegrityError:
            continue  # created concurrently: someone else sends it
        if was_created:
            created.append(notification)
            if status == EmailStatus.PENDING:
                task_send_on_commit("compliance.notification_email_send", notification.id)
    return created


def notification_email_send(*, notification_id: int) -> bool:
    """Send one notification's e-mail if nobody has; True when sent now.

    Raises :class:`TransientChannelError` after handing the claim back, so the
    caller's retry can send it; a permanent failure is recorded (``failed``, with
    the error) and answers False."""
    claimed = Notification.objects.filter(
        id=notification_id, email_status=EmailStatus.PENDING
    ).update(email_status=EmailStatus.SENDING)
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient", "message").get(
        id=notification_id
    )
    try:
        message_id = mail_send(
            to=[notification.recipient.email],
            subject=notification.message.subject,
            text=notification.message.body,
        )
    except TransientChannelError as error:
        Notification.objects.filter(id=notification_id, email_status=EmailStatus.SENDING).update(
            email_status=EmailStatus.PENDING, email_error=repr(error)[:2000]
        )
        raise
    except ChannelError as error:
        logger.warning("notification %s: e-mail refused: %s", notification_id, error)
        Notification.objects.filter(id=notification_id).update(
            email_status=EmailStatus.FAILED, email_error=repr(error)[:2000]
        )
        return False
    Notification.objects.filter(id=notification_id).update(
        email_status=EmailStatus.SENT,
        email_sent_at=timezone.now(),
        email_message_id=message_id,
        email_error="",
    )
    return True


def notification_email_fail(*, notification_id: int, error: str) -> None:
    """Record that a notification's e-mail gave up (its retries ran out)."""
    Notification.objects.filter(
        id=notification_id, email_status__in=[EmailStatus.PENDING, EmailStatus.SENDING]
    ).update(email_status=EmailStatus.FAILED, email_error=error[:2000])


def notification_mark_read(*, user: User, notification_ids: Iterable[int]) -> int:
    """Mark the user's own notifications read (their inbox messages)."""
    message_ids = Notification.objects.filter(
        recipient=user, id__in=list(notification_ids)
    ).values_list("message_id", flat=True)
    return inbox_mark_read(recipient=user, message_ids=message_ids)


def digests_send(*, date: dt.date) -> int:
    """One digest e-mail per recipient with notifications waiting for it (those
    whose preference is the daily digest); returns how many were sent now.

    The (recipient, date) row is created and claimed before sending, so a second
    run the same day sends nothing. A transient mail failure hands the claim back
    and raises :class:`TransientChannelError` for the task's retry (recipients
    already sent are skipped then); a permanent one marks that digest ``failed``
    and its notifications wait for the next day's digest."""
    sent = 0
    recipients = (
        Notification.objects.filter(email_status=EmailStatus.DIGEST)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for recipient_id in list(recipients):
        digest, _ = Digest.objects.get_or_create(recipient_id=recipient_id, date=date)
        if not Digest.objects.filter(id=digest.id, status=EmailStatus.PENDING).update(
            status=EmailStatus.SENDING
        ):
            continue
        items = list(
            Notification.objects.filter(recipient_id=recipient_id, email_status=EmailStatus.DIGEST)
            .select_related("message")
            .order_by("created_at")
        )
        user = User.objects.get(id=recipient_id)
        body = "\n".join(f"- {n.message.subject}" for n in items)
        try:
            message_id = mail_send(
                to=[user.email],
                subject=f"Compliance digest for {date}: {len(items)} notification(s)",
                text=f"Compliance notifications since your last digest:\n\n{body}\n",
            )
        except TransientChannelError as error:
            Digest.objects.filter(id=digest.id, status=EmailStatus.SENDING).update(
                status=EmailStatus.PENDING, error=repr(error)[:2000]
            )
            raise
        except ChannelError as error:
            logger.warning("digest %s: e-mail refused: %s", digest.id, error)
            Digest.objects.filter(id=digest.id).update(
                status=EmailStatus.FAILED, error=repr(error)[:2000]
            )
            continue
        Notification.objects.filter(id__in=[n.id for n in items]).update(
            email_status=EmailStatus.DIGESTED, email_sent_at=timezone.now()
        )
        Digest.objects.filter(id=digest.id).update(
            status=EmailStatus.SENT,
            sent_at=timezone.now(),
            notifications=len(items),
            message_id=message_id,
            error="",
        )
        sent += 1
    return sent


def digests_fail(*, date: dt.date, error: str) -> None:
    """Record that the digests of ``date`` still unsent gave up (retries ran out)."""
    Digest.objects.filter(date=date, status__in=[EmailStatus.PENDING, EmailStatus.SENDING]).update(
        status=EmailStatus.FAILED, error=error[:2000]
    )
