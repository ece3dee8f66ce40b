"""The dispatcher, the data-readiness gate and the fan-out into deliveries.

**Dispatch** (:func:`schedules_dispatch`, the ``reports.schedules_dispatch`` beat
job, every ``SCHEDULES_DISPATCH_SECONDS``). For each enabled schedule whose
``next_run_at`` is due, the next slot strictly after *now* is computed and the
slot is **claimed** with one conditional UPDATE::

    Schedule.objects.filter(pk=pk, enabled=True, next_run_at=old).update(next_run_at=new, ...)

Only the process whose UPDATE changed the row creates the occurrence, in the same
transaction, so two beat processes, a retried or duplicated dispatcher task, or
two workers racing all start one slot once (on PostgreSQL the second UPDATE
waits for the first's row lock and then finds ``next_run_at`` moved on). The
occurrence itself is unique per (schedule, slot) as a second guard.

**Missed slots.** When the dispatcher was down, every slot from ``old`` to now
collapses into *one* occurrence for the latest of them (``missed_action``
``run_once``), or none (``skip``) when that latest slot is more than one
dispatch interval plus :data:`MISSED_GRACE_SECONDS` old. Either way
``next_run_at`` becomes the first slot after now.

**Readiness** (:func:`occurrence_advance`, task ``reports.occurrence_advance``,
claimed under an ``"occurrence"`` lease). A slot's data is ready when, for every
portfolio it covers, the data-quality status on the period's last business day
(the exchange's last session on or before ``period_end``) has landed: a status
row on that day with every holding priced and valued (completeness 1) and
prices as of that day, and no incomplete day earlier in the period
(:func:`occurrence_gaps`, from ``analytics.selectors.ingest.portfolio_data_quality``,
the selector ``reports.services.compose`` reads too). Until ``ready_by`` (slot +
``ready_wait_minutes``) a slot that is not ready stays ``waiting`` and the
dispatcher re-checks it each minute (never a long ETA). At the deadline the
schedule's ``incomplete_action`` decides: ``send`` fans out anyway (the report's
banner names the gaps, as compose writes them) and ``hold`` marks the slot
``held`` and tells the owner (inbox and e-mail). A "run now" never waits.

**Fan-out** (:func:`occurrence_fan_out`): see its docstring. Every delivery is a
row with a natural key created before its task is sent; the same fan-out twice
creates nothing new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from analytics.models import Portfolio
from analytics.selectors.entitlements import portfolio_list_visible_to
from analytics.selectors.ingest import portfolio_data_quality
from portal.leases import (
    LEASE_CLEARED,
    RESENT,
    lease_claim,
    lease_holder_name,
    lease_until,
)
from portal.models import AuditAction, User
from portal.services import audit_record
from portal.task_queue import task_send, task_send_on_commit
from reports.errors import ReportInvalid, ReportPermissionDenied
from reports.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    OccurrenceState,
    ReportRun,
    Schedule,
    ScheduleCopies,
    ScheduleIncompleteAction,
    ScheduleMissedAction,
    ScheduleOccurrence,
)
from reports.schedule_times import (
    ScheduleTimeError,
    TimeRule,
    business_day_before,
    slot_next,
    slots_after,
)
from reports.selectors import report_template_allows, report_template_level
from reports.services.runs import formats_allowed_check, report_run_request
from reports.services.schedules import (
    ADVANCE_TASK,
    OCCURRENCE_LEASE_KIND,
    email_allowed,
    occurrence_create,
    schedule_owner_notify,
    schedule_portfolios,
    schedule_rule,
    webhook_url_allowed,
)

logger = logging.getLogger(__name__)

DELIVER_TASK = "reports.deliver"
DELIVERY_LEASE_KIND = "delivery"
MISSED_GRACE_SECONDS = 120
"""How late past one dispatch interval a slot may start and still count as on
time: a busy worker picks the dispatcher up a little late; a slot older than
that was missed (the dispatcher or the broker was down)."""
DEFAULT_DISPATCH_SECONDS = 60.0
# Slots read per step when walking from a missed slot to now: a minutely rule
# down for a day is 1,440 slots, read in a couple of steps.
_SLOT_CHUNK = 1000
_LATEST_WINDOW = dt.timedelta(days=1)
_PENDING = (DeliveryState.QUEUED, DeliveryState.SENDING)
_OUTCOME_MAX = Schedule._meta.get_field("last_outcome").max_length or 200
_ADDRESS_KEY_MAX = 200


class OccurrenceNotRunnable(Exception):
    """The slot cannot be sent to anyone (the owner lost the template or every
    portfolio); the message is for the owner."""


def dispatch_interval_seconds() -> float:
    """How often beat runs the dispatcher (``SCHEDULES_DISPATCH_SECONDS``)."""
    entry = getattr(settings, "CELERY_BEAT_SCHEDULE", {}).get("reports-schedules-dispatch", {})
    every = entry.get("schedule", DEFAULT_DISPATCH_SECONDS)
    return float(every) if isinstance(every, int | float) else DEFAULT_DISPATCH_SECONDS


def _slot_text(slot_at: dt.datetime) -> str:
    return f"{slot_at.astimezone(dt.UTC):%Y%m%dT%H%MZ}"


def _outcome(schedule_id: int, text: str) -> None:
    Schedule.objects.filter(pk=schedule_id).update(last_outcome=text[:_OUTCOME_MAX])


# --- dispatch ---------------------------------------------------------------------


def latest_slot(rule: TimeRule, *, due: dt.datetime, now: dt.datetime) -> dt.datetime:
    """The latest slot of ``rule`` at or before ``now``, ``due`` (the stored
    ``next_run_at``, itself at or before ``now``) when no later one passed. Only
    the slots of the last day (or of a wider window when that day had none) are
    walked, however long the dispatcher was down."""
    window = _LATEST_WINDOW
    while True:
        cursor = max(due, now - window)
        latest: dt.datetime | None = None
        while True:
            batch = slots_after(rule, cursor, _SLOT_CHUNK)
            passed = [slot for slot in batch if slot <= now]
            if passed:
                latest = passed[-1]
            if len(passed) < _SLOT_CHUNK:
                break
            cursor = passed[-1]
        if latest is not None:
            return latest.astimezone(dt.UTC)
        if cursor <= due:
            return due
        window *= 8


def _schedule_claim(schedule_id: int, due: dt.datetime, *, now: dt.datetime) -> bool:
    """Claim the due slot of one schedule and create its occurrence (see the
    module); True when an occurrence was started."""
    schedule = Schedule.objects.select_related("owner", "template").filter(pk=schedule_id).first()
    if schedule is None:
        return False
    rule = schedule_rule(schedule)
    try:
        following = slot_next(rule, after=now)
        slot_at = latest_slot(rule, due=due, now=now)
    except ScheduleTimeError as error:
        # A rule that no longer resolves (an exchange calendar that ends): stop
        # it visibly rather than fail every minute.
        Schedule.objects.filter(pk=schedule_id, next_run_at=due).update(
            next_run_at=None, last_outcome=f"Stopped: {error.message}"[:_OUTCOME_MAX]
        )
        return False
    late = (now - slot_at).total_seconds() > dispatch_interval_seconds() + MISSED_GRACE_SECONDS
    with transaction.atomic():
        claimed = Schedule.objects.filter(pk=schedule_id, enabled=True, next_run_at=due).update(
            next_run_at=following, last_run_at=now
        )
        if not claimed:
            return False  # another dispatcher took this slot, or the schedule changed
        if late and schedule.missed_action == ScheduleMissedAction.SKIP:
            _outcome(
                schedule_id,
                f"Skipped the slot of {slot_at:%Y-%m-%d %H:%M} UTC, missed while "
                "the dispatcher was down.",
            )
            return False
        occurrence, created = occurrence_create(schedule=schedule, slot_at=slot_at)
        if created and late:
            ScheduleOccurrence.objects.filter(pk=occurrence.pk).update(
                note=f"Run once for the slots missed since {due:%Y-%m-%d %H:%M} UTC."
            )
    return created


def schedules_dispatch(*, now: dt.datetime | None = None) -> int:
    """Start every due slot once (see the module), re-check the slots still
    waiting for data and close the slots whose deliveries have all ended.
    Returns how many occurrences were started."""
    now = now or timezone.now()
    due = list(
        Schedule.objects.filter(enabled=True, next_run_at__lte=now)
        .order_by("next_run_at", "pk")
        .values_list("pk", "next_run_at")
    )
    started = 0
    for schedule_id, next_run_at in due:
        if next_run_at is None:  # paused since it was read
            continue
        try:
            started += _schedule_claim(schedule_id, next_run_at, now=now)
        except Exception:  # one broken schedule never stops the others
            logger.exception("dispatching schedule %s failed", schedule_id)
    # Slots whose last check found data missing wait unheld; look again.
    for occurrence_id in ScheduleOccurrence.objects.filter(
        state=OccurrenceState.WAITING, lease_holder=""
    ).values_list("pk", flat=True):
        task_send(ADVANCE_TASK, occurrence_id)
    for occurrence_id in ScheduleOccurrence.objects.filter(
        state=OccurrenceState.DELIVERING
    ).values_list("pk", flat=True):
        occurrence_finish(occurrence_id=occurrence_id, now=now)
    return started


def occurrence_finish(*, occurrence_id: int, now: dt.datetime | None = None) -> bool:
    """Mark a delivering occurrence ``done`` once none of its deliveries is
    queued or sending, with the tally as the schedule's last outcome."""
    pending = Delivery.objects.filter(occurrence=OuterRef("pk"), state__in=_PENDING)
    with transaction.atomic():
        finished = (
            ScheduleOccurrence.objects.filter(pk=occurrence_id, state=OccurrenceState.DELIVERING)
            .exclude(Exists(pending))
            .update(state=OccurrenceState.DONE, finished_at=now or timezone.now())
        )
        if not finished:
            return False
        occurrence = ScheduleOccurrence.objects.get(pk=occurrence_id)
        tally = dict(
            Delivery.objects.filter(occurrence_id=occurrence_id)
            .values_list("state")
            .annotate(n=Count("id"))
            .values_list("state", "n")
        )
        delivered = tally.get(DeliveryState.SENT, 0) + tally.get(DeliveryState.CONFIRMED, 0)
        parts = [f"{delivered} delivered"]
        parts += [
            f"{tally[state]} {state}"
            for state in (DeliveryState.FAILED, DeliveryState.REFUSED)
            if tally.get(state)
        ]
        _outcome(occurrence.schedule_id, f"{occurrence.period_label}: {', '.join(parts)}.")
    return True


def occurrences_recover(occurrence_ids: Sequence[int]) -> None:
    """The lease sweeper's recovery of occurrences whose task was lost or whose
    worker stopped: send their task again (the sweeper re-armed them)."""
    for occurrence_id in occurrence_ids:
        task_send(ADVANCE_TASK, occurrence_id)


# --- readiness ----------------------------------------------------------------------


def _portfolio_name(portfolio: Portfolio) -> str:
    return f"{portfolio.name} ({portfolio.code})"


def occurrence_gaps(occurrence: ScheduleOccurrence, portfolios: Iterable[Portfolio]) -> list[str]:
    """What keeps the slot's data from being ready, one sentence per gap (empty:
    ready). See the module for the rule."""
    schedule = occurrence.schedule
    end = occurrence.period_end
    try:
        last_day = business_day_before(schedule.exchange, end + dt.timedelta(days=1))
    except ScheduleTimeError:
        last_day = end
    gaps: list[str] = []
    for portfolio in portfolios:
        name = _portfolio_name(portfolio)
        summary = portfolio_data_quality(portfolio=portfolio, as_of=end)
        if summary.as_of is None or summary.as_of < last_day:
            reached = f"only up to {summary.as_of.isoformat()}" if summary.as_of else "none yet"
            gaps.append(
                f"{name}: data for the period's last business day {last_day.isoformat()} "
                f"has not landed ({reached})."
            )
            continue
        if summary.data_as_of is None or summary.data_as_of < last_day:
            priced = summary.data_as_of.isoformat() if summary.data_as_of else "never"
            gaps.append(
                f"{name}: some holdings are priced only up to {priced}, "
                f"before {last_day.isoformat()}."
            )
        if not summary.is_complete:
            gaps.append(
                f"{name}: {summary.completeness or 0:.0%} of the holdings valued on "
                f"{summary.as_of.isoformat()}."
            )
        earlier = [
            status.date
            for status in summary.incomplete_days
            if status.date != summary.as_of
            and (occurrence.period_start is None or status.date >= occurrence.period_start)
        ]
        if earlier:
            days = "1 day" if len(earlier) == 1 else f"{len(earlier)} days"
            gaps.append(
                f"{name}: {days} of the period with incomplete data "
                f"(latest {max(earlier).isoformat()})."
            )
    return gaps


def _held(occurrence_id: int):
    return ScheduleOccurrence.objects.filter(pk=occurrence_id, lease_holder=lease_holder_name())


def occurrence_advance(*, occurrence_id: int) -> ScheduleOccurrence | None:
    """Check a waiting slot's data and, when ready or out of time, fan it out or
    hold it (see the module). None when it could not be claimed (it moved on, or
    a live worker holds it)."""
    claimed = lease_claim(
        ScheduleOccurrence.objects.filter(pk=occurrence_id, state=OccurrenceState.WAITING),
        free=Q(lease_holder=""),
        kind=OCCURRENCE_LEASE_KIND,
    )
    if not claimed:
        return None
    occurrence = ScheduleOccurrence.objects.select_related(
        "schedule__owner", "schedule__template"
    ).get(pk=occurrence_id)
    schedule = occurrence.schedule
    gaps = occurrence_gaps(occurrence, schedule_portfolios(schedule))
    now = timezone.now()
    if gaps and not occurrence.manual and now < occurrence.ready_by:
        _held(occurrence_id).update(
            incomplete=gaps,
            note=f"Waiting for data until {occurrence.ready_by:%Y-%m-%d %H:%M} UTC.",
            **LEASE_CLEARED,
        )
    elif (
        gaps
        and not occurrence.manual
        and schedule.incomplete_action == ScheduleIncompleteAction.HOLD
    ):
        _occurrence_hold(occurrence, gaps=gaps, now=now)
    else:
        try:
            with transaction.atomic():
                if _held(occurrence_id).select_for_update().first() is None:
                    return None  # the lease was taken over meanwhile
                occurrence.incomplete = gaps
                deliveries = occurrence_fan_out(occurrence)
                queued = sum(1 for delivery in deliveries if delivery.state == DeliveryState.QUEUED)
                note = (
                    "Sent with incomplete data (named in the report's banner)."
                    if gaps
                    else "Data complete."
                )
                _held(occurrence_id).update(
                    state=OccurrenceState.DELIVERING, incomplete=gaps, note=note, **LEASE_CLEARED
                )
                refused = len(deliveries) - queued
                _outcome(
                    schedule.pk,
                    f"{occurrence.period_label}: sending {queued} "
                    f"deliver{'y' if queued == 1 else 'ies'}"
                    + (f", {refused} refused" if refused else "")
                    + ".",
                )
        except OccurrenceNotRunnable as error:
            _occurrence_not_runnable(occurrence, message=str(error), now=now)
        else:
            occurrence_finish(occurrence_id=occurrence_id)
    occurrence.refresh_from_db()
    return occurrence


@transaction.atomic
def _occurrence_hold(occurrence: ScheduleOccurrence, *, gaps: list[str], now: dt.datetime) -> None:
    schedule = occurrence.schedule
    held = _held(occurrence.pk).update(
        state=OccurrenceState.HELD,
        incomplete=gaps,
        note="Held: the data was still incomplete when the wait ended.",
        finished_at=now,
        **LEASE_CLEARED,
    )
    if not held:
        return
    _outcome(schedule.pk, f"{occurrence.period_label}: held, the data is incomplete.")
    schedule_owner_notify(
        schedule=schedule,
        subject=f"“{schedule.name}” for {occurrence.period_label} is held: its data is incomplete",
        body=(
            f"The schedule “{schedule.name}” waited until "
            f"{occurrence.ready_by:%Y-%m-%d %H:%M} UTC for complete data and did not send "
            f"the report for {occurrence.period_label}. Missing:\n\n"
            + "\n".join(f"- {gap}" for gap in gaps)
            + "\n\nRun it again with “Run now” once the data has landed."
        ),
        dedupe_key=f"reports.occurrence.held:{occurrence.pk}",
    )


@transaction.atomic
def _occurrence_not_runnable(
    occurrence: ScheduleOccurrence, *, message: str, now: dt.datetime
) -> None:
    schedule = occurrence.schedule
    if not _held(occurrence.pk).update(
        state=OccurrenceState.DONE, note=f"Not sent: {message}", finished_at=now, **LEASE_CLEARED
    ):
        return
    _outcome(schedule.pk, f"{occurrence.period_label}: not sent. {message}")
    schedule_owner_notify(
        schedule=schedule,
        subject=f"“{schedule.name}” for {occurrence.period_label} was not sent",
        body=f"The schedule “{schedule.name}” could not send its report: {message}",
        dedupe_key=f"reports.occurrence.not_runnable:{occurrence.pk}",
    )


# --- fan-out --------------------------------------------------------------------------


def _address_key(address: str) -> str:
    """An address as a part of a delivery key (long ones as a digest, so the key fits)."""
    address = address.strip().lower()
    if len(address) <= _ADDRESS_KEY_MAX:
        return address
    return "h" + hashlib.sha256(address.encode()).hexdigest()[:40]


@dataclass
class _Refusal:
    delivery: Delivery
    who: str
    not_entitled: list[str]


@dataclass
class _FanOut:
    """One occurrence's fan-out in progress: the runs requested (one per
    rendering) and the deliveries found or created."""

    occurrence: ScheduleOccurrence
    schedule: Schedule
    slot: str
    deliveries: list[Delivery] = field(default_factory=list)
    created: list[Delivery] = field(default_factory=list)
    refusals: list[_Refusal] = field(default_factory=list)
    runs: dict[tuple[int, str], ReportRun] = field(default_factory=dict)

    def run(self, *, run_as: User, portfolios: Sequence[Portfolio], code: str) -> ReportRun:
        """The run of this slot rendered as ``run_as`` over ``portfolios``
        (natural key: schedule, slot, recipient, portfolio or ``*``); not queued:
        the delivery renders it."""
        if (run_as.pk, code) in self.runs:
            return self.runs[(run_as.pk, code)]
        schedule, occurrence = self.schedule, self.occurrence
        parameters: dict[str, Any] = {
            "portfolios": [portfolio.code for portfolio in portfolios],
            **{
                name: value
                for name, value in (schedule.parameters or {}).items()
                if name in ("benchmark", "reporting_currency") and value
            },
        }
        if occurrence.period_start is None:
            parameters["period"] = "since_inception"
        else:
            parameters.update(
                period="custom",
                start=occurrence.period_start.isoformat(),
                end=occurrence.period_end.isoformat(),
            )
        run = report_run_request(
            user=schedule.owner,
            run_as=run_as,
            template=schedule.template,
            formats=schedule.formats,
            parameters=parameters,
            idempotency_key=f"sched:{schedule.pk}:{self.slot}:{run_as.pk}:{code}",
            queue=False,
        )
        self.runs[(run_as.pk, code)] = run
        return run

    def deliver(
        self,
        *,
        channel: str,
        code: str,
        recipient: User | None = None,
        address: str = "",
        portfolio: Portfolio | None = None,
        run: ReportRun | None = None,
        refused: str = "",
    ) -> Delivery:
        """Find or create the delivery under its natural key; ``refused`` makes
        it a refusal with that reason."""
        who = f"u{recipient.pk}" if recipient is not None else _address_key(address)
        key = f"{self.schedule.pk}:{self.slot}:{who}:{channel}:{code}"
        defaults: dict[str, Any] = {
            "occurrence": self.occurrence,
            "schedule": self.schedule,
            "channel": channel,
            "recipient": recipient,
            "address": address,
            "portfolio": portfolio,
            "run": run,
        }
        if refused:
            defaults.update(state=DeliveryState.REFUSED, error=refused)
        else:
            # Held by the sweeper's name until its task claims it: a task lost on
            # the way is sent again by the lease sweeper.
            defaults.update(
                state=DeliveryState.QUEUED,
                lease_holder=RESENT,
                lease_expires_at=lease_until(DELIVERY_LEASE_KIND),
            )
        delivery, created = Delivery.objects.get_or_create(key=key, defaults=defaults)
        self.deliveries.append(delivery)
        if created:
            self.created.append(delivery)
        return delivery

    def refuse(
        self,
        *,
        recipient: User | None,
        address: str = "",
        channels: Sequence[str],
        code: str,
        portfolio: Portfolio | None,
        reason: str,
        not_entitled: Sequence[str] = (),
    ) -> None:
        for channel in channels:
            before = len(self.created)
            delivery = self.deliver(
                channel=channel,
                code=code,
                recipient=recipient,
                address=address,
                portfolio=portfolio,
                refused=reason,
            )
            if len(self.created) > before:
                who = recipient.get_username() if recipient is not None else address
                self.refusals.append(_Refusal(delivery, who, list(not_entitled)))


def _recipient_users(schedule: Schedule) -> list[User]:
    """The schedule's user recipients and its teams' members, active ones once
    each, in id order."""
    users = User.objects.filter(
        Q(pk__in=schedule.recipient_users.values("pk"))
        | Q(teams__in=schedule.recipient_teams.values("pk")),
        is_active=True,
    ).distinct()
    return list(users.order_by("pk"))


def _visible_ids(user: User, portfolios: Sequence[Portfolio]) -> set[int]:
    return set(
        portfolio_list_visible_to(user=user)
        .filter(pk__in=[portfolio.pk for portfolio in portfolios])
        .values_list("pk", flat=True)
    )


def _groups(portfolios: Sequence[Portfolio], *, burst: bool) -> list[tuple[str, list[Portfolio]]]:
    """(key part, portfolios) of each copy: one per portfolio when bursting,
    else one of them all (``*``)."""
    if burst:
        return [(portfolio.code, [portfolio]) for portfolio in portfolios]
    return [("*", list(portfolios))] if portfolios else []


def occurrence_fan_out(occurrence: ScheduleOccurrence) -> list[Delivery]:
    """The deliveries of one slot, created once each under their natural keys
    (``<schedule>:<slot UTC>:<u<user id> | address>:<channel>:<portfolio code | *>``)
    in one transaction, their tasks sent after it commits. Returns every
    delivery of the fan-out, found or created.

    * **Recipients**: the schedule's users and the active members of its teams
      (each once) on the e-mail and inbox channels; its external addresses by
      e-mail; its webhook. The slot covers :func:`schedule_portfolios`.
    * **Each recipient's own copy** (``copies="per_recipient"``): a run rendered
      *as that recipient* over the portfolios they are entitled to (a recipient
      entitled to none is refused). Bursting: one run per such portfolio.
    * **One identical copy** (``copies="identical"``): one run as the owner (one
      per portfolio when bursting); a user recipient not entitled to every
      portfolio in a copy is **refused** that copy: the delivery is ``refused``
      with the reason, audited ``DELIVERY_REFUSED`` and the owner told.
    * External addresses and the webhook get the owner's copy; one no longer on
      the allow-list is refused.
    * A user recipient whom the export policy (``portal.export_policy``) forbids
      one of the schedule's formats for this report is refused, audited the same way.

    Runs are requested by the owner (``report_run_request`` with
    ``queue=False``: the delivery task renders its run) under
    ``sched:<schedule>:<slot>:<user id>:<portfolio code | *>``. Raises
    :class:`OccurrenceNotRunnable` when the owner may no longer run the template
    or see any of the portfolios."""
    schedule = occurrence.schedule
    owner = schedule.owner
    if not report_template_allows(
        report_template_level(user=owner, template=schedule.template), "run"
    ):
        raise OccurrenceNotRunnable(
            f"{owner.get_username()} may no longer run the template “{schedule.template.name}”."
        )
    portfolios = schedule_portfolios(schedule)
    if not portfolios:
        raise OccurrenceNotRunnable("the owner may no longer see any of its portfolios.")
    fan = _FanOut(occurrence=occurrence, schedule=schedule, slot=_slot_text(occurrence.slot_at))
    user_channels = [
        channel
        for channel in schedule.channels
        if channel in (DeliveryChannel.EMAIL, DeliveryChannel.INBOX)
    ]
    with transaction.atomic():
        if user_channels:
            version = schedule.template.version_latest()
            blocks = version.blocks if version is not None else []
            for user in _recipient_users(schedule):
                try:
                    formats_allowed_check(user=user, formats=schedule.formats, blocks=blocks)
                except ReportInvalid as refused:
                    # The export policy forbids this recipient a format of it.
                    fan.refuse(
                        recipient=user,
                        channels=user_channels,
                        code="*",
                        portfolio=None,
                        reason=f"Refused by the export policy: {refused.message}",
                    )
                    continue
                visible = _visible_ids(user, portfolios)
                if schedule.copies == ScheduleCopies.IDENTICAL:
                    _identical_copies(fan, user, visible, portfolios, user_channels)
                else:
                    _own_copies(fan, user, visible, portfolios, user_channels)
        _owner_copies(fan, portfolios)
        for refusal in fan.refusals:
            audit_record(
                actor=None,
                action=AuditAction.DELIVERY_REFUSED,
                target=refusal.delivery,
                details={
                    "schedule": schedule.pk,
                    "occurrence": occurrence.pk,
                    "recipient": refusal.who,
                    "channel": refusal.delivery.channel,
                    "reason": refusal.delivery.error,
                    "not_entitled": refusal.not_entitled,
                },
            )
        if fan.refusals:
            _refusals_notify(fan)
        for delivery in fan.created:
            if delivery.state == DeliveryState.QUEUED:
                task_send_on_commit(DELIVER_TASK, delivery.pk)
    return fan.deliveries


def _own_copies(
    fan: _FanOut,
    user: User,
    visible: set[int],
    portfolios: Sequence[Portfolio],
    channels: Sequence[str],
) -> None:
    entitled = [portfolio for portfolio in portfolios if portfolio.pk in visible]
    if not entitled:
        fan.refuse(
            recipient=user,
            channels=channels,
            code="*",
            portfolio=None,
            reason=(
                f"{user.get_username()} is not entitled to any of the portfolios "
                "this schedule reports."
            ),
        )
        return
    for code, group in _groups(entitled, burst=fan.schedule.burst):
        try:
            run = fan.run(run_as=user, portfolios=group, code=code)
        except (ReportInvalid, ReportPermissionDenied) as error:
            fan.refuse(
                recipient=user,
                channels=channels,
                code=code,
                portfolio=group[0] if fan.schedule.burst else None,
                reason=f"{user.get_username()}'s copy could not be requested: {error}",
            )
            continue
        for channel in channels:
            fan.deliver(
                channel=channel,
                code=code,
                recipient=user,
                portfolio=group[0] if fan.schedule.burst else None,
                run=run,
            )


def _identical_copies(
    fan: _FanOut,
    user: User,
    visible: set[int],
    portfolios: Sequence[Portfolio],
    channels: Sequence[str],
) -> None:
    owner = fan.schedule.owner
    for code, group in _groups(portfolios, burst=fan.schedule.burst):
        portfolio = group[0] if fan.schedule.burst else None
        missing = [item.code for item in group if item.pk not in visible]
        if missing:
            # The recipient sees this reason on their own deliveries: it counts
            # the portfolios without naming them (the audit event names them).
            shown = (
                "the portfolio"
                if len(group) == 1
                else f"{len(missing)} of its {len(group)} portfolios"
            )
            fan.refuse(
                recipient=user,
                channels=channels,
                code=code,
                portfolio=portfolio,
                reason=(
                    f"Refused: this schedule sends one identical copy, and "
                    f"{user.get_username()} is not entitled to {shown}."
                ),
                not_entitled=missing,
            )
            continue
        run = fan.run(run_as=owner, portfolios=group, code=code)
        for channel in channels:
            fan.deliver(channel=channel, code=code, recipient=user, portfolio=portfolio, run=run)


def _owner_copies(fan: _FanOut, portfolios: Sequence[Portfolio]) -> None:
    """External e-mail addresses and the webhook: the owner's copy."""
    schedule = fan.schedule
    emails = (
        list(schedule.recipient_emails or []) if DeliveryChannel.EMAIL in schedule.channels else []
    )
    webhook = schedule.webhook_url if DeliveryChannel.WEBHOOK in schedule.channels else ""
    if not emails and not webhook:
        return
    for code, group in _groups(portfolios, burst=schedule.burst):
        portfolio = group[0] if schedule.burst else None
        run = fan.run(run_as=schedule.owner, portfolios=group, code=code)
        for address in emails:
            if email_allowed(address):
                fan.deliver(
                    channel=DeliveryChannel.EMAIL,
                    code=code,
                    address=address,
                    portfolio=portfolio,
                    run=run,
                )
            else:
                fan.refuse(
                    recipient=None,
                    address=address,
                    channels=[DeliveryChannel.EMAIL],
                    code=code,
                    portfolio=portfolio,
                    reason=f"{address} is no longer on the allow-list of external recipients.",
                )
        if webhook:
            if webhook_url_allowed(webhook):
                fan.deliver(
                    channel=DeliveryChannel.WEBHOOK,
                    code=code,
                    address=webhook,
                    portfolio=portfolio,
                    run=run,
                )
            else:
                fan.refuse(
                    recipient=None,
                    address=webhook,
                    channels=[DeliveryChannel.WEBHOOK],
                    code=code,
                    portfolio=portfolio,
                    reason="The webhook's host is no longer on the allow-list.",
                )


def _refusals_notify(fan: _FanOut) -> None:
    schedule, occurrence = fan.schedule, fan.occurrence
    lines = []
    for refusal in fan.refusals:
        named = (
            f" (not entitled to {', '.join(refusal.not_entitled)})" if refusal.not_entitled else ""
        )
        lines.append(
            f"- {refusal.who}, {refusal.delivery.channel}: {refusal.delivery.error}{named}"
        )
    count = len(fan.refusals)
    schedule_owner_notify(
        schedule=schedule,
        subject=(
            f"“{schedule.name}” for {occurrence.period_label}: "
            f"{count} deliver{'y' if count == 1 else 'ies'} refused"
        ),
        body=(
            f"The schedule “{schedule.name}” did not send its report for "
            f"{occurrence.period_label} to every recipient:\n\n" + "\n".join(lines)
        ),
        dedupe_key=f"reports.occurrence.refused:{occurrence.pk}",
    )
