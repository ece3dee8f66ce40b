"""Deliveries: one recipient's copy of one slot on one channel, sent once.

A delivery row (``reports.models.Delivery``) is created by the fan-out
(``reports.services.dispatch``) under its natural key before its task
(``reports.deliver``) is sent. :func:`delivery_execute` then:

1. **Claims** it with one conditional UPDATE under a ``"delivery"`` lease
   (``portal.leases``): ``queued`` and due (``next_attempt_at`` empty or past), or
   ``sending`` with a lapsed lease (its worker died; the lease sweeper re-arms it
   and calls :func:`deliveries_recover`). ``queued`` → ``sending``, ``attempts``
   + 1. A task delivered twice finds the row held or finished and does nothing,
   so one slot sends one message per recipient and channel.
2. **Renders** its run in this process when nobody has (the fan-out requests runs
   without queueing them); when another worker holds the run, the delivery is
   handed back (``queued``, its attempt not counted) and its task sent again in
   :data:`RUN_BUSY_COUNTDOWN_SECONDS`. A run that failed fails the delivery.
3. **Sends** on its channel through ``portal.channels``:

   * ``email``: a plain-text and an HTML body (``templates/reports/email/``:
     report, period, data as-of, the incomplete-data banner, each file with its
     size and SHA-256), the files attached while their total is at most
     ``DELIVERY_ATTACHMENT_MAX_BYTES``, else a signed expiring link per file
     (``reports.delivery_links``); one Message-ID per delivery
     (:func:`delivery_message_id`), the same on every attempt, so a mail system
     can tell a repeat sent after an unknown outcome.
   * ``webhook``: a signed JSON POST (:func:`delivery_webhook_payload`) with the
     delivery's key as ``Idempotency-Key``; the receiver's 2xx confirms it.
   * ``inbox``: one item per delivery (deduplicated by
     ``reports.delivery:<id>``) linking to the run's page, stored in the same
     transaction as the ``sent`` state; reading it confirms the delivery.

4. **Records** the outcome, only while it still holds the lease, releasing it in
   the same UPDATE: ``sent`` (``confirmed`` for a webhook's 2xx) with one
   ``DELIVERY`` audit event per file (format, size, SHA-256, rows where known,
   recipient, channel); on a transient failure (mail server down, webhook 5xx, timeout)
   ``queued`` again with ``next_attempt_at`` after :func:`delivery_retry_delay`
   and the task sent with that countdown; on a permanent failure, or once
   ``DELIVERY_MAX_ATTEMPTS`` attempts have failed, ``failed`` with the error, a
   ``DELIVERY_FAILED`` audit event, the schedule's last outcome and the owner
   told (inbox and e-mail). :func:`delivery_retry` brings a failed one back.

**Confirmation** (``sent`` → ``confirmed``, once, :func:`delivery_confirm`): a
download link opened, the recipient opening the run's page in the portal
(:func:`deliveries_confirm_run_opened`), the inbox item read
(:func:`inbox_read_received`, connected to ``portal.channels.inbox.inbox_read``),
or the webhook's 2xx.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import HttpResponseBase
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.channels.errors import ChannelError, TransientChannelError
from portal.channels.inbox import inbox_send
from portal.channels.mail import MailAttachment, mail_send
from portal.channels.webhook import webhook_send
from portal.leases import (
    LEASE_CLEARED,
    RESENT,
    Lease,
    lease_claim,
    lease_holder_name,
    lease_kept,
    lease_seconds,
    lease_until,
)
from portal.models import AuditAction, User
from portal.origins import RequestOrigin
from portal.services import audit_record
from portal.task_queue import task_send, task_send_on_commit
from reports.delivery_links import delivery_link_url
from reports.errors import ReportInvalid, ReportPermissionDenied
from reports.file_exports import (
    ExportRefused,
    export_refused_record,
    report_file_download,
    report_file_refusal,
    report_file_rows,
)
from reports.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    ReportFile,
    ReportRun,
    RunStatus,
    Schedule,
)
from reports.services.dispatch import occurrence_finish
from reports.services.runs import report_run_execute
from reports.services.schedules import schedule_may_change, schedule_owner_notify
from reports.storage import report_file_content

logger = logging.getLogger(__name__)

LEASE_KIND = "delivery"
"""The deliveries' key in ``settings.LEASE_SECONDS`` and in the lease sweeper."""
TASK = "reports.deliver"
RUN_BUSY_COUNTDOWN_SECONDS = 5.0
"""How soon a delivery whose run another worker is rendering looks again: short,
since a render takes seconds, and far below any broker's visibility timeout."""
RETRY_WAIT = "retry-wait"
"""The lease holder of a delivery waiting for its retry: its lease runs to the
retry time plus one lease length, so a retry task that never arrives is re-sent
by the lease sweeper; the retry itself claims it as ``queued`` and due."""
VISIBILITY_MARGIN_SECONDS = 60.0
"""How far below the broker's visibility timeout a retry's countdown stays: a
countdown message is held unacknowledged by a worker until it runs, and one
held longer than the timeout would be handed to a second worker as well."""
INBOX_DEDUPE_PREFIX = "reports.delivery:"
_ERROR_MAX = 2000
_OUTCOME_MAX = Schedule._meta.get_field("last_outcome").max_length or 200
_SUBJECT_MAX = 200


# --- retries ----------------------------------------------------------------------


def delivery_retry_ceiling() -> float:
    """The longest wait before a retry, in seconds: ``DELIVERY_RETRY_MAX_SECONDS``,
    and in any case :data:`VISIBILITY_MARGIN_SECONDS` below the broker's visibility
    timeout when it has one (Redis, SQS)."""
    ceiling = float(settings.DELIVERY_RETRY_MAX_SECONDS)
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    visibility = options.get("visibility_timeout")
    if visibility:
        ceiling = min(ceiling, float(visibility) - VISIBILITY_MARGIN_SECONDS)
    return max(ceiling, 0.0)


def delivery_retry_delay(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first):
    exponential backoff with full jitter (AWS's "Exponential Backoff and Jitter"),
    a uniform draw from 0 to ``min(ceiling, base · 2^(attempt − 1))`` with
    ``base`` = ``DELIVERY_RETRY_BASE_SECONDS`` and the ceiling of
    :func:`delivery_retry_ceiling`, so retries of many deliveries failing at once
    spread out instead of arriving together."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    # 2**60 seconds is past any ceiling; a larger exponent would overflow a float.
    exponential = float(settings.DELIVERY_RETRY_BASE_SECONDS) * 2.0 ** min(attempt - 1, 60)
    return (rng or random).random() * min(delivery_retry_ceiling(), exponential)


def _task_send_later(delivery_id: int, *, countdown: float) -> None:
    """Send the delivery's task to run after ``countdown`` seconds, once the
    current transaction commits."""
    signature = current_app.signature(TASK, args=(delivery_id,))
    transaction.on_commit(lambda: signature.apply_async(countdown=max(countdown, 0.0)))


# --- confirmation -----------------------------------------------------------------


def delivery_confirm(*, delivery: Delivery, how: str) -> bool:
    """``sent`` → ``confirmed`` now, with ``how`` ("link opened", "inbox item
    read"...) as the confirmation; True only for the call that confirmed it."""
    now = timezone.now()
    confirmed = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENT).update(
        state=DeliveryState.CONFIRMED, confirmed_at=now, confirmation=how[:100]
    )
    if confirmed:
        delivery.state, delivery.confirmed_at, delivery.confirmation = (
            DeliveryState.CONFIRMED,
            now,
            how[:100],
        )
    return bool(confirmed)


def deliveries_confirm_run_opened(*, user: User, run: ReportRun) -> int:
    """The recipient opened ``run``'s page in the portal (an e-mailed report's
    files, or an inbox item's report): confirm their sent deliveries of it.
    Returns how many were confirmed now."""
    if not user.is_authenticated:
        return 0
    return Delivery.objects.filter(run=run, recipient=user, state=DeliveryState.SENT).update(
        state=DeliveryState.CONFIRMED,
        confirmed_at=timezone.now(),
        confirmation="report opened in the portal",
    )


def inbox_read_received(
    sender: Any, *, recipient: User, message_ids: Sequence[int], **kwargs: Any
) -> int:
    """Receiver of ``portal.channels.inbox.inbox_read``: the deliveries whose inbox
    items were just read are confirmed ("inbox item read")."""
    return Delivery.objects.filter(
        inbox_message_id__in=list(message_ids),
        recipient=recipient,
        state=DeliveryState.SENT,
    ).update(
        state=DeliveryState.CONFIRMED, confirmed_at=timezone.now(), confirmation="inbox item read"
    )


# --- the signed link's download ----------------------------------------------------


def delivery_file_download(
    *, delivery: Delivery, file: ReportFile, origin: RequestOrigin | None
) -> HttpResponseBase:
    """The response of a signed link (``reports.delivery_links``) to one file of a
    delivery: the file as an attachment with its SHA-256 headers (watermarked with
    the recipient's name when ``REPORTS_PDF_WATERMARK`` is on), audited as an
    ``EXPORT`` by the recipient (anonymous for an external address or a webhook)
    with the delivery and the file's rows in the details, and the delivery
    confirmed ("link opened"). Raises ``reports.file_exports.ExportRefused``,
    audited, when the export policy now forbids the recipient this file."""
    details = {
        "delivery": delivery.pk,
        "schedule": delivery.schedule_id,
        "recipient": _recipient_name(delivery),
        "channel": delivery.channel,
        "via": "signed link",
    }
    why = report_file_refusal(user=delivery.recipient, file=file)
    if why is not None:  # recorded outside the download's transaction, so it stays
        export_refused_record(
            actor=delivery.recipient,
            reason="policy",
            why=why,
            target=file.run,
            origin=origin,
            details={"run": file.run_id, "file": file.name, "format": file.format, **details},
        )
        raise ExportRefused(why)
    with transaction.atomic():
        response = report_file_download(
            file=file,
            user=delivery.recipient,
            origin=origin,
            watermark_name=_recipient_name(delivery),
            details=details,
        )
        delivery_confirm(delivery=delivery, how="link opened")
    return response


# --- sending ----------------------------------------------------------------------


def delivery_message_id(delivery: Delivery) -> str:
    """The delivery's Message-ID, the same on every attempt: its id and a digest of
    its natural key (so two portals' deliveries with one id differ) at the host's
    name."""
    digest = hashlib.sha256(delivery.key.encode()).hexdigest()[:16]
    return f"<report-delivery.{delivery.pk}.{digest}@{DNS_NAME}>"


def _recipient_name(delivery: Delivery) -> str:
    if delivery.recipient is not None:
        return delivery.recipient.get_username()
    return delivery.address


def _held(delivery_id: int) -> QuerySet[Delivery]:
    return Delivery.objects.filter(pk=delivery_id, lease_holder=lease_holder_name())


@dataclass
class _Sent:
    """What a channel did: the state to store (``sent``, or ``confirmed`` for a
    webhook's 2xx) and what to keep on the row and in the audit."""

    sent_as: str
    state: str = DeliveryState.SENT
    message_id: str = ""
    response_status: int | None = None
    confirmation: str = ""
    inbox: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _FileEntry:
    name: str
    format: str
    size: int
    sha256: str
    url: str


def _files(run: ReportRun) -> list[ReportFile]:
    return list(run.files.order_by("id"))


def _incomplete(delivery: Delivery, run: ReportRun) -> list[str]:
    """The gaps the report's banner names, then any the slot's wait recorded."""
    gaps = [str(gap) for gap in run.incomplete or []]
    gaps += [str(gap) for gap in delivery.occurrence.incomplete or [] if str(gap) not in gaps]
    return gaps


def _portfolio_codes(run: ReportRun) -> list[str]:
    codes = list((run.data or {}).keys())
    return codes or list(run.parameters.get("portfolios") or [])


def _subject(delivery: Delivery, run: ReportRun) -> str:
    label = delivery.occurrence.period_label or f"to {delivery.occurrence.period_end:%Y-%m-%d}"
    subject = f"{run.title}: {label}"
    if delivery.portfolio is not None:
        subject += f" ({delivery.portfolio.code})"
    if _incomplete(delivery, run):
        subject += " [incomplete data]"
    return subject[:_SUBJECT_MAX]


def _run_url(run: ReportRun) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("reports:run-detail", args=[run.pk])


def _context(
    delivery: Delivery, run: ReportRun, entries: list[_FileEntry], *, attached: bool
) -> dict[str, Any]:
    occurrence = delivery.occurrence
    return {
        "title": run.title,
        "schedule_name": delivery.schedule.name,
        "recipient": delivery.recipient,
        "period_label": occurrence.period_label,
        "period_start": occurrence.period_start,
        "period_end": occurrence.period_end,
        "data_as_of": run.data_as_of,
        "incomplete": _incomplete(delivery, run),
        "portfolios": _portfolio_codes(run),
        "template_version": run.version.number if run.version else None,
        "files": entries,
        "attached": attached,
        "links_expire_at": timezone.now()
        + dt.timedelta(seconds=settings.DELIVERY_LINK_MAX_AGE_SECONDS),
        # Only a portal user can open the run's page; outsiders get the files.
        "run_url": _run_url(run) if delivery.recipient is not None else "",
    }


def _file_bytes(file: ReportFile) -> bytes:
    content = report_file_content(file)
    return content if isinstance(content, bytes) else content.read_bytes()


def _send_email(delivery: Delivery, run: ReportRun, files: list[ReportFile]) -> _Sent:
    recipient = delivery.recipient
    address = recipient.email if recipient is not None else delivery.address
    if not address:
        raise ChannelError(f"{_recipient_name(delivery)} has no e-mail address.")
    attached = sum(file.size for file in files) <= settings.DELIVERY_ATTACHMENT_MAX_BYTES
    entries = [
        _FileEntry(
            name=file.name,
            format=file.format,
            size=file.size,
            sha256=file.sha256,
            url="" if attached else delivery_link_url(delivery=delivery, file=file),
        )
        for file in files
    ]
    context = _context(delivery, run, entries, attached=attached)
    message_id = mail_send(
        to=[address],
        subject=_subject(delivery, run),
        text=render_to_string("reports/email/delivery.txt", context),
        html=render_to_string("reports/email/delivery.html", context),
        attachments=[
            MailAttachment(file.name, _file_bytes(file), file.content_type) for file in files
        ]
        if attached
        else [],
        message_id=delivery_message_id(delivery),
    )
    return _Sent(sent_as="attachment" if attached else "link", message_id=message_id)


def delivery_webhook_payload(delivery: Delivery) -> dict[str, Any]:
    """The JSON a webhook delivery posts: the delivery, its schedule, the template
    and version, the period, the data as-of and any gaps, the portfolios, and each
    file with its format, size, SHA-256 and a signed link that expires."""
    run = delivery.run
    if run is None:
        raise ChannelError("The delivery has no report run.")
    occurrence = delivery.occurrence
    return {
        "delivery": {"id": delivery.pk, "key": delivery.key, "attempt": delivery.attempts},
        "schedule": {"id": delivery.schedule_id, "name": delivery.schedule.name},
        "template": {
            "slug": run.template.slug if run.template else None,
            "name": run.title,
            "version": run.version.number if run.version else None,
        },
        "run": {"id": run.pk, "parameters": run.parameters},
        "period": {
            "label": occurrence.period_label,
            "start": occurrence.period_start,
            "end": occurrence.period_end,
        },
        "slot_at": occurrence.slot_at,
        "data_as_of": run.data_as_of,
        "incomplete": _incomplete(delivery, run),
        "portfolios": _portfolio_codes(run),
        "files": [
            {
                "name": file.name,
                "format": file.format,
                "size": file.size,
                "sha256": file.sha256,
                "url": delivery_link_url(delivery=delivery, file=file),
            }
            for file in _files(run)
        ],
        "links_expire_at": timezone.now()
        + dt.timedelta(seconds=settings.DELIVERY_LINK_MAX_AGE_SECONDS),
    }


def _send_webhook(delivery: Delivery) -> _Sent:
    url = delivery.address or delivery.schedule.webhook_url
    if not url:
        raise ChannelError("The schedule has no webhook URL.")
    if not delivery.schedule.webhook_secret:
        raise ChannelError("The schedule has no webhook secret to sign with.")
    status = webhook_send(
        url=url,
        payload=delivery_webhook_payload(delivery),
        secret=delivery.schedule.webhook_secret,
        idempotency_key=delivery.key,
    )
    return _Sent(
        sent_as="webhook",
        state=DeliveryState.CONFIRMED,
        response_status=status,
        confirmation=f"webhook {status}",
    )


def _inbox_message(delivery: Delivery, run: ReportRun, files: list[ReportFile]) -> _Sent:
    if delivery.recipient is None:
        raise ChannelError("An inbox delivery needs a portal user as its recipient.")
    entries = [_FileEntry(f.name, f.format, f.size, f.sha256, "") for f in files]
    context = _context(delivery, run, entries, attached=False)
    context["run_url"] = ""  # the item links to the run's page itself
    return _Sent(
        sent_as="inbox",
        inbox={
            "subject": _subject(delivery, run),
            "body": render_to_string("reports/email/delivery.txt", context),
            "link": reverse("reports:run-detail", args=[run.pk]),
        },
    )


def _send(delivery: Delivery, run: ReportRun) -> _Sent:
    files = _files(run)
    if not files:
        raise ChannelError("The report run made no files to deliver.")
    if delivery.channel == DeliveryChannel.EMAIL:
        return _send_email(delivery, run, files)
    if delivery.channel == DeliveryChannel.WEBHOOK:
        return _send_webhook(delivery)
    if delivery.channel == DeliveryChannel.INBOX:
        return _inbox_message(delivery, run, files)
    raise ChannelError(f"There is no delivery channel “{delivery.channel}”.")


# --- outcomes ---------------------------------------------------------------------


def _store_sent(delivery: Delivery, run: ReportRun, sent: _Sent) -> bool:
    """Store ``sent`` (or ``confirmed``) and audit each file; False, storing
    nothing, when this process no longer holds the lease."""
    now = timezone.now()
    with transaction.atomic():
        if _held(delivery.pk).select_for_update().first() is None:
            logger.warning("delivery %s was taken over by another worker", delivery.pk)
            return False
        updates: dict[str, Any] = {
            "state": sent.state,
            "sent_at": now,
            "error": "",
            "next_attempt_at": None,
            "failed_at": None,
            **LEASE_CLEARED,
        }
        if sent.message_id:
            updates["message_id"] = sent.message_id
        if sent.response_status is not None:
            updates["response_status"] = sent.response_status
        if sent.state == DeliveryState.CONFIRMED:
            updates.update(confirmed_at=now, confirmation=sent.confirmation)
        if sent.inbox and delivery.recipient is not None:  # an inbox has a user
            message = inbox_send(
                recipient=delivery.recipient,
                dedupe_key=f"{INBOX_DEDUPE_PREFIX}{delivery.pk}",
                **sent.inbox,
            )
            updates["inbox_message"] = message
        _held(delivery.pk).update(**updates)
        for file in _files(run):
            audit_record(
                actor=None,
                action=AuditAction.DELIVERY,
                target=delivery,
                details={
                    "schedule": delivery.schedule_id,
                    "occurrence": delivery.occurrence_id,
                    "run": run.pk,
                    "file": file.name,
                    "format": file.format,
                    "size": file.size,
                    "sha256": file.sha256,
                    "rows": report_file_rows(file),
                    "recipient": _recipient_name(delivery),
                    "channel": delivery.channel,
                    "sent_as": sent.sent_as,
                    "attempt": delivery.attempts,
                    **({"message_id": sent.message_id} if sent.message_id else {}),
                },
            )
    return True


def _store_failure(delivery: Delivery, message: str) -> bool:
    """``failed`` with ``message``, audited, the schedule's last outcome set and
    the owner told; False when this process no longer holds the lease."""
    now = timezone.now()
    schedule = delivery.schedule
    who = _recipient_name(delivery)
    channel = DeliveryChannel(delivery.channel).label
    with transaction.atomic():
        failed = _held(delivery.pk).update(
            state=DeliveryState.FAILED,
            failed_at=now,
            error=message[:_ERROR_MAX],
            next_attempt_at=None,
            **LEASE_CLEARED,
        )
        if not failed:
            logger.warning("delivery %s was taken over by another worker", delivery.pk)
            return False
        audit_record(
            actor=None,
            action=AuditAction.DELIVERY_FAILED,
            target=delivery,
            details={
                "schedule": schedule.pk,
                "occurrence": delivery.occurrence_id,
                "run": delivery.run_id,
                "recipient": who,
                "channel": delivery.channel,
                "attempts": delivery.attempts,
                "error": message[:_ERROR_MAX],
            },
        )
        period = delivery.occurrence.period_label
        Schedule.objects.filter(pk=schedule.pk).update(
            last_outcome=f"{period}: delivery to {who} by {channel} failed."[:_OUTCOME_MAX]
        )
        schedule_owner_notify(
            schedule=schedule,
            subject=f"“{schedule.name}” for {period}: delivery to {who} failed",
            body=(
                f"The delivery of “{schedule.name}” for {period} to {who} by {channel} "
                f"failed after {delivery.attempts} attempt(s):\n\n{message}\n\n"
                "You can send it again with Retry on the schedule's page."
            ),
            dedupe_key=f"reports.delivery_failed:{delivery.pk}:{delivery.attempts}",
            link=reverse("reports:schedule-detail", args=[schedule.pk]),
        )
    return True


def _retry_later(delivery: Delivery, error: TransientChannelError) -> None:
    """Queue the delivery again after :func:`delivery_retry_delay`, or fail it
    once its attempts are used up."""
    attempts, limit = delivery.attempts, settings.DELIVERY_MAX_ATTEMPTS
    if attempts >= limit:
        _store_failure(delivery, f"Not sent after {attempts} attempts: {error}")
        return
    delay = delivery_retry_delay(attempts)
    at = timezone.now() + dt.timedelta(seconds=delay)
    with transaction.atomic():
        queued = _held(delivery.pk).update(
            state=DeliveryState.QUEUED,
            next_attempt_at=at,
            error=f"Attempt {attempts} of {limit} failed, retrying: {error}"[:_ERROR_MAX],
            lease_holder=RETRY_WAIT,
            lease_expires_at=at + dt.timedelta(seconds=lease_seconds(LEASE_KIND)),
        )
        if queued:
            _task_send_later(delivery.pk, countdown=delay)
    logger.info(
        "delivery %s: attempt %d failed (%s); retry in %.0f s", delivery.pk, attempts, error, delay
    )


def _wait_for_run(delivery: Delivery) -> None:
    """Another worker renders the run: hand the delivery back, the attempt not
    counted, and look again shortly."""
    at = timezone.now() + dt.timedelta(seconds=RUN_BUSY_COUNTDOWN_SECONDS)
    with transaction.atomic():
        if _held(delivery.pk).update(
            state=DeliveryState.QUEUED,
            attempts=F("attempts") - 1,
            next_attempt_at=at,
            lease_holder=RETRY_WAIT,
            lease_expires_at=at + dt.timedelta(seconds=lease_seconds(LEASE_KIND)),
        ):
            _task_send_later(delivery.pk, countdown=RUN_BUSY_COUNTDOWN_SECONDS)


def _run_rendered(run: ReportRun) -> ReportRun:
    """The run, rendered here first when it is still queued (or its renderer's
    lease lapsed); still ``running`` when a live worker holds it."""
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        report_run_execute(run_id=run.pk)  # claims it, or finds it held and does nothing
        run.refresh_from_db()
    return run


def delivery_execute(*, delivery_id: int) -> Delivery | None:
    """Send one delivery (see the module): claim, render its run if needed, send,
    record. Returns the delivery as stored, or None when it could not be claimed
    (finished, not yet due, or held by a live worker)."""
    now = timezone.now()
    claimed = lease_claim(
        Delivery.objects.filter(
            pk=delivery_id, state__in=(DeliveryState.QUEUED, DeliveryState.SENDING)
        ),
        free=Q(state=DeliveryState.QUEUED)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)),
        kind=LEASE_KIND,
        state=DeliveryState.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related(
        "schedule__owner",
        "occurrence",
        "recipient",
        "portfolio",
        "run__template",
        "run__version",
    ).get(pk=delivery_id)
    limit = settings.DELIVERY_MAX_ATTEMPTS
    with lease_kept(Delivery.objects.filter(pk=delivery_id), kind=LEASE_KIND) as lease:
        if delivery.attempts > limit:
            # Its workers died mid-send every time: stop rather than loop.
            _store_failure(delivery, f"Not sent: {limit} attempts were interrupted or failed.")
        elif delivery.run is None:
            _store_failure(delivery, "Not sent: the report run of this delivery is gone.")
        else:
            _deliver(delivery, delivery.run, lease)
    occurrence_finish(occurrence_id=delivery.occurrence_id)
    delivery.refresh_from_db()
    return delivery


def _deliver(delivery: Delivery, run: ReportRun, lease: Lease) -> None:
    try:
        run = _run_rendered(run)
    except Exception as error:  # the render crashed outside its own handling
        logger.exception("delivery %s: rendering its run failed", delivery.pk)
        _store_failure(delivery, f"Not sent: the report could not be rendered: {error}")
        return
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):  # another worker has it
        _wait_for_run(delivery)
        return
    if run.status != RunStatus.SUCCEEDED:
        _store_failure(
            delivery, f"Not sent: the report failed: {run.error or 'no reason was recorded'}"
        )
        return
    try:
        sent = _send(delivery, run)
    except TransientChannelError as error:
        if not lease.lost:
            _retry_later(delivery, error)
        return
    except ChannelError as error:
        _store_failure(delivery, f"Not sent: {error}")
        return
    except Exception as error:  # a file that cannot be read, a template error
        logger.exception("delivery %s failed", delivery.pk)
        _store_failure(delivery, f"Not sent: {error or type(error).__name__}")
        return
    if lease.lost:
        logger.warning("delivery %s was sent, but another worker took it over", delivery.pk)
        return
    _store_sent(delivery, run, sent)


def delivery_task_failed(*, delivery_id: int, error: str) -> None:
    """The task's ``on_failure``: something outside the delivery's own handling
    raised (the database went away). The error is written on the row for its
    page; the lease, left to lapse, has the sweeper send it again."""
    Delivery.objects.filter(pk=delivery_id, state=DeliveryState.SENDING).update(
        error=f"The delivery task stopped: {error}"[:_ERROR_MAX]
    )


def deliveries_recover(delivery_ids: Sequence[int]) -> None:
    """The lease sweeper's recovery of deliveries whose worker stopped mid-send, or
    whose task never arrived: send their task again (the sweeper re-armed them,
    so the task claims them)."""
    for delivery_id in delivery_ids:
        task_send(TASK, delivery_id)


@transaction.atomic
def delivery_retry(
    *, user: User, delivery: Delivery, origin: RequestOrigin | None = None
) -> Delivery:
    """Send a ``failed`` delivery again (its schedule's owner or an administrator):
    ``queued`` with a fresh set of attempts, its task sent after commit. Raises
    ``ReportPermissionDenied`` for anyone else and ``ReportInvalid`` for a delivery
    that has not failed or whose report itself failed (it would fail again)."""
    if not schedule_may_change(user=user, schedule=delivery.schedule):
        raise ReportPermissionDenied(
            "Only the schedule's owner or an administrator may retry its deliveries."
        )
    current = (
        Delivery.objects.select_for_update(of=("self",)).select_related("run").get(pk=delivery.pk)
    )
    if current.state != DeliveryState.FAILED:
        state = current.get_state_display().lower()
        raise ReportInvalid(
            f"Only a failed delivery is sent again; this one is {state}.", field="state"
        )
    if current.run is not None and current.run.status == RunStatus.FAILED:
        raise ReportInvalid(
            "The report itself failed, so sending it again would fail too: "
            f"{current.run.error or 'no reason was recorded'}",
            field="run",
        )
    previous_attempts, previous_error = current.attempts, current.error
    Delivery.objects.filter(pk=current.pk, state=DeliveryState.FAILED).update(
        state=DeliveryState.QUEUED,
        attempts=0,
        next_attempt_at=None,
        failed_at=None,
        error="",
        # Held by the sweeper's name until its task claims it (as a new delivery).
        lease_holder=RESENT,
        lease_expires_at=lease_until(LEASE_KIND),
    )
    audit_record(
        actor=user,
        action=AuditAction.SCHEDULE_CHANGED,
        target=current,
        origin=origin,
        details={
            "change": "delivery_retried",
            "schedule": current.schedule_id,
            "delivery": current.pk,
            "recipient": _recipient_name(current),
            "channel": current.channel,
            "previous_attempts": previous_attempts,
            "previous_error": previous_error[:_ERROR_MAX],
        },
    )
    task_send_on_commit(TASK, current.pk)
    current.refresh_from_db()
    return current
