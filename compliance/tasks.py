"""Thin Celery tasks of the ``compliance`` queue; each calls one service.

Every task is safe twice: evaluations and notifications are rows created before
the task is sent and claimed with a conditional update. Mail tasks retry only the
channels' transient errors; a permanent one is recorded on the row by the service.
"""

import datetime as dt
from typing import Any

from celery import shared_task
from django.utils import timezone

from compliance.services import notifications as notification_services
from compliance.services.alerts import alerts_escalate_due, alerts_wake_snoozed
from compliance.services.evaluation.requests import evaluation_batch_start
from compliance.services.evaluation.run import evaluations_fail, evaluations_run
from portal.channels.errors import TransientChannelError

TRANSIENT = (ConnectionError, TimeoutError, OSError)


def _fail_evaluations(self, exc, task_id, args, kwargs, einfo):
    evaluation_ids = args[0] if args else kwargs.get("evaluation_ids", [])
    evaluations_fail(evaluation_ids=evaluation_ids, error=repr(exc))


@shared_task(
    name="compliance.evaluate",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    on_failure=_fail_evaluations,
)
def evaluate(evaluation_ids: list[int], batch_id: int | None = None) -> int:
    """Run a chunk of pending evaluations (post-trade, daily fan-out or manual)."""
    return evaluations_run(evaluation_ids=evaluation_ids, batch_id=batch_id)


@shared_task(name="compliance.evaluate_daily", acks_late=True, reject_on_worker_lost=True)
def evaluate_daily(as_of: str | None = None) -> None:
    """celery-beat's daily job: every portfolio in chunks, then due escalations and
    expired snoozes. (The digests are their own beat job, ``compliance.digests_send``.)"""
    date = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    evaluation_batch_start(as_of=date)
    alerts_escalate_due(today=date)
    alerts_wake_snoozed(today=date)


# Mail tasks retry a transient channel failure (server down, timeout, 4xx reply) with
# exponential backoff and jitter, at most five times; then on_failure records it.
MAIL_TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (TransientChannelError,),
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 5,
}


def _fail_notification_email(self, exc, task_id, args, kwargs, einfo):
    notification_id = args[0] if args else kwargs["notification_id"]
    notification_services.notification_email_fail(notification_id=notification_id, error=repr(exc))


@shared_task(
    name="compliance.notification_email_send",
    **MAIL_TASK_OPTIONS,
    on_failure=_fail_notification_email,
)
def notification_email_send(notification_id: int) -> bool:
    """Send one notification's e-mail (nothing if it was sent already)."""
    return notification_services.notification_email_send(notification_id=notification_id)


def _digest_day(date: str | None) -> dt.date:
    return dt.date.fromisoformat(date) if date else timezone.localdate()


def _fail_digests(self, exc, task_id, args, kwargs, einfo):
    date = args[0] if args else kwargs.get("date")
    notification_services.digests_fail(date=_digest_day(date), error=repr(exc))


@shared_task(
    name="compliance.digests_send",
    **MAIL_TASK_OPTIONS,
    on_failure=_fail_digests,
)
def digests_send(date: str | None = None) -> int:
    """The daily digest e-mails (celery-beat's ``compliance-daily-digest``, 07:00 in
    ``TIME_ZONE``); ``date`` is an ISO date, today when omitted."""
    return notification_services.digests_send(date=_digest_day(date))
