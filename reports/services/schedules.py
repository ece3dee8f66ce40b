"""Schedules: created, changed, paused, resumed, deleted and run now, each audited.

Every write takes the API's shape (``POST /api/schedules/``) and checks all of it
with the schedule's **owner**'s rights, raising
:class:`~reports.errors.ReportInvalid` with the API field at fault:

* ``template`` (a slug or an id): the owner needs ``run`` access;
* ``portfolios`` (codes): each must be visible to the owner; empty or missing
  means every active portfolio the owner may see *when each slot runs*;
* ``cron`` *or* ``calendar_rule`` (with ``exchange`` and a local ``time``
  "HH:MM") and ``timezone`` (``reports.schedule_times``); ``period`` (a
  ``SCHEDULE_PERIODS`` key);
* ``formats`` (``pdf``, ``xlsx``, ``csv``...), ``channels`` (``email``,
  ``webhook``, ``inbox``);
* ``recipients``: ``{"users": [usernames], "teams": [names or ids], "emails":
  [addresses]}``; active users and existing teams only, and each external
  address allowed by an :class:`~reports.models.ExternalRecipient` row (the
  exact address, or its domain) — else ``field="recipients"``. E-mail needs at
  least one recipient, the inbox at least one user or team;
* ``webhook_url``: required with the webhook channel, HTTPS (HTTP only to the
  loopback interface) and its host on the allow-list;
* ``burst``, ``copies`` (``per_recipient`` | ``identical``),
  ``ready_wait_minutes``, ``incomplete_action`` (``send`` | ``hold``),
  ``missed_action`` (``run_once`` | ``skip``), ``enabled``, ``name``.

An update is partial: the fields given are laid over the schedule's current
values and the whole is checked again, so a schedule is never stored half valid.
Setting ``cron`` alone clears the calendar rule and vice versa.

**Next run.** Creating, editing and resuming set ``next_run_at`` to the rule's
first slot *strictly after now*: an edited schedule never fires at once, and
slots passed while it was paused are not made up. Pausing sets it to None. The
dispatcher (``reports.services.dispatch``) claims a due slot by a conditional
UPDATE on exactly this value, so an edit racing the dispatcher either wins
(the old slot is not claimed) or loses (the claimed slot runs, then the edit
stores the next slot again).

Each change writes one ``SCHEDULE_CHANGED`` audit event with ``{"change":
"created" | "updated" | "paused" | "resumed" | "deleted", "fields": [...]}`` in
its transaction; "run now" writes ``SCHEDULE_RUN_REQUESTED``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from analytics.models import Portfolio
from analytics.selectors.entitlements import portfolio_list_visible_to
from portal.channels.errors import ChannelError
from portal.channels.inbox import inbox_send
from portal.channels.mail import mail_send
from portal.channels.webhook import LOOPBACK_HOSTS
from portal.leases import RESENT, lease_until
from portal.models import AuditAction, Team, User
from portal.origins import RequestOrigin
from portal.services import audit_record
from portal.task_queue import task_send_on_commit
from reports.errors import ReportInvalid, ReportNotFound, ReportPermissionDenied
from reports.models import (
    DeliveryChannel,
    ExternalRecipient,
    ExternalRecipientKind,
    OccurrenceState,
    ReportTemplate,
    Schedule,
    ScheduleCalendarRule,
    ScheduleCopies,
    ScheduleIncompleteAction,
    ScheduleMissedAction,
    ScheduleOccurrence,
)
from reports.schedule_selectors import schedule_admin
from reports.schedule_times import (
    SCHEDULE_PERIODS,
    ScheduleTimeError,
    TimeRule,
    calendar_rule_parse,
    rule_validate,
    slot_next,
    slot_period,
    slots_after,
)
from reports.selectors import report_template_get_for_user
from reports.services.runs import formats_clean

logger = logging.getLogger(__name__)

OCCURRENCE_LEASE_KIND = "occurrence"
"""The occurrences' key in ``settings.LEASE_SECONDS`` and in the lease sweeper."""
ADVANCE_TASK = "reports.occurrence_advance"

FIELDS: tuple[str, ...] = (
    "name",
    "template",
    "portfolios",
    "cron",
    "calendar_rule",
    "exchange",
    "time",
    "timezone",
    "period",
    "formats",
    "channels",
    "recipients",
    "burst",
    "copies",
    "webhook_url",
    "ready_wait_minutes",
    "incomplete_action",
    "missed_action",
    "enabled",
)
"""The API fields a schedule is written with (see the module)."""

# Fields whose null (or blank) clears them; a null elsewhere means "the default"
# on create and "unchanged" on update.
_CLEARABLE = frozenset({"cron", "calendar_rule", "time", "webhook_url"})
_DEFAULTS: dict[str, Any] = {
    "name": "",
    "portfolios": [],
    "cron": None,
    "calendar_rule": None,
    "exchange": "XNYS",
    "time": None,
    "timezone": "UTC",
    "period": "previous_month",
    "formats": ["pdf"],
    "channels": ["email"],
    "recipients": {"users": [], "teams": [], "emails": []},
    "burst": False,
    "copies": ScheduleCopies.PER_RECIPIENT.value,
    "webhook_url": None,
    "ready_wait_minutes": 120,
    "incomplete_action": ScheduleIncompleteAction.SEND_WITH_BANNER.value,
    "missed_action": ScheduleMissedAction.RUN_ONCE.value,
    "enabled": True,
}
READY_WAIT_MAX_MINUTES = 7 * 24 * 60
"""The longest a slot may wait for its data: a week (a later report is a new slot)."""
NAME_MAX = Schedule._meta.get_field("name").max_length or 200
WEBHOOK_URL_MAX = Schedule._meta.get_field("webhook_url").max_length or 500


# --- access and rules -----------------------------------------------------------


def schedule_may_change(*, user: Any, schedule: Schedule) -> bool:
    """Whether ``user`` may change, pause, delete or run ``schedule``: its owner
    (while active) or an administrator (superuser, staff or the admin role)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return schedule.owner_id == user.pk or schedule_admin(user)


def _may_change_checked(*, user: Any, schedule: Schedule) -> None:
    if not schedule_may_change(user=user, schedule=schedule):
        raise ReportPermissionDenied("Only the schedule's owner or an administrator may change it.")


def schedule_rule(schedule: Schedule) -> TimeRule:
    """The time rule a schedule's row stores."""
    return TimeRule(
        cron=schedule.cron or None,
        calendar_rule=schedule.calendar_rule or None,
        calendar_n=schedule.calendar_n,
        exchange=schedule.exchange,
        time=schedule.time,
        timezone=schedule.timezone,
    )


def schedule_zone(schedule: Schedule) -> ZoneInfo:
    """The schedule's time zone (UTC for a name the zone database lost)."""
    try:
        return ZoneInfo(schedule.timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def schedule_preview(
    *,
    schedule: Schedule | None = None,
    rule: TimeRule | None = None,
    start: dt.datetime,
    count: int = 10,
) -> list[dt.datetime]:
    """The next ``count`` run times of ``schedule`` (or of an unsaved ``rule``)
    strictly after ``start`` (aware; a naive one is read in the rule's zone), as
    aware datetimes in the rule's time zone. A bad rule is ``ReportInvalid``
    naming its field."""
    if (schedule is None) == (rule is None):
        raise ValueError("preview either a schedule or a rule")
    rule = rule if rule is not None else schedule_rule(schedule)  # type: ignore[arg-type]
    try:
        if timezone.is_naive(start):
            start = start.replace(tzinfo=ZoneInfo(rule.timezone))
        return slots_after(rule, start, count)
    except ScheduleTimeError as error:
        raise ReportInvalid(error.message, field=error.field) from None
    except (KeyError, ValueError) as error:  # a zone name the database does not know
        raise ReportInvalid(str(error), field="timezone") from None


def _next_run(schedule: Schedule, *, now: dt.datetime) -> dt.datetime | None:
    """The first slot strictly after ``now`` while enabled, else None."""
    if not schedule.enabled:
        return None
    try:
        return slot_next(schedule_rule(schedule), after=now)
    except ScheduleTimeError as error:
        raise ReportInvalid(error.message, field=error.field) from None


# --- reading the API's data -----------------------------------------------------


def schedule_as_data(schedule: Schedule) -> dict[str, Any]:
    """A stored schedule in the API's shape (what an update is laid over)."""
    rule_text = schedule.calendar_rule or None
    if rule_text == ScheduleCalendarRule.NTH_BUSINESS_DAY and schedule.calendar_n:
        rule_text = f"{rule_text}:{schedule.calendar_n}"
    return {
        "name": schedule.name,
        "template": schedule.template_id,
        "portfolios": list((schedule.parameters or {}).get("portfolios") or []),
        "cron": schedule.cron or None,
        "calendar_rule": rule_text,
        "exchange": schedule.exchange,
        "time": schedule.time.strftime("%H:%M") if schedule.time else None,
        "timezone": schedule.timezone,
        "period": schedule.period,
        "formats": list(schedule.formats),
        "channels": list(schedule.channels),
        "recipients": {
            # A recipient deactivated since drops out at the next edit.
            "users": [
                user.pk for user in schedule.recipient_users.filter(is_active=True).order_by("pk")
            ],
            "teams": [team.pk for team in schedule.recipient_teams.order_by("pk")],
            "emails": list(schedule.recipient_emails or []),
        },
        "burst": schedule.burst,
        "copies": schedule.copies,
        "webhook_url": schedule.webhook_url or None,
        "ready_wait_minutes": schedule.ready_wait_minutes,
        "incomplete_action": schedule.incomplete_action,
        "missed_action": schedule.missed_action,
        "enabled": schedule.enabled,
    }


def _given(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields sent, with blanks of clearable fields as None and other nulls
    dropped; an unknown field is refused."""
    if not isinstance(data, Mapping):
        raise ReportInvalid("Send the schedule as an object of fields.")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ReportInvalid(f"There is no schedule field “{unknown[0]}”.", field=unknown[0])
    given: dict[str, Any] = {}
    for key, value in data.items():
        if key in _CLEARABLE:
            given[key] = value if value not in (None, "") else None
        elif value is not None:
            given[key] = value
    return given


def _bool(value: Any, *, field: str) -> bool:
    if not isinstance(value, bool):
        raise ReportInvalid("Give true or false.", field=field)
    return value


def _choice(value: Any, choices: type[Any], *, field: str) -> str:
    values = [str(choice) for choice in choices.values]
    if value not in values:
        raise ReportInvalid(
            f"There is no {field.replace('_', ' ')} “{value}”; choose one of: {', '.join(values)}.",
            field=field,
        )
    return str(value)


def _strings(value: Any, *, field: str, what: str) -> list[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ReportInvalid(f"Give the {what} as a list.", field=field)
    return list(value)


def _template(*, owner: User, value: Any) -> ReportTemplate:
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise ReportInvalid("Choose the report template (its slug or id).", field="template")
    try:
        return report_template_get_for_user(user=owner, template=value, level="run")
    except ReportNotFound:
        raise ReportInvalid(
            f"There is no report template “{value}” you may see.", field="template"
        ) from None
    except ReportPermissionDenied as error:
        raise ReportInvalid(str(error), field="template") from None


def _portfolios(*, owner: User, value: Any) -> list[str]:
    codes = _strings(value, field="portfolios", what="portfolios (their codes)")
    if not all(isinstance(code, str) and code for code in codes):
        raise ReportInvalid("Portfolios are a list of portfolio codes.", field="portfolios")
    codes = list(dict.fromkeys(codes))
    visible = set(
        portfolio_list_visible_to(user=owner).filter(code__in=codes).values_list("code", flat=True)
    )
    for code in codes:
        if code not in visible:
            raise ReportInvalid(f"No portfolio “{code}” that you may see.", field="portfolios")
    return codes


def _time(value: Any) -> dt.time | None:
    if value is None or isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            parsed = dt.time.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            return parsed.replace(second=0, microsecond=0)
    raise ReportInvalid(f"“{value}” is not a local time; give it as HH:MM.", field="time")


def _rule(merged: Mapping[str, Any]) -> tuple[str, str, int | None, dt.time | None]:
    """(cron, calendar rule, N, time) of the merged data, checked with the zone
    and exchange; ``ReportInvalid`` naming the field."""
    cron = merged["cron"]
    calendar_text = merged["calendar_rule"]
    for field in ("cron", "calendar_rule", "exchange", "timezone"):
        if merged[field] is not None and not isinstance(merged[field], str):
            raise ReportInvalid("Give this as text.", field=field)
    try:
        calendar_rule, calendar_n = (
            calendar_rule_parse(calendar_text) if calendar_text else (None, None)
        )
        local_time = _time(merged["time"]) if calendar_rule else None
        rule = TimeRule(
            cron=" ".join(cron.split()) if cron else None,
            calendar_rule=calendar_rule,
            calendar_n=calendar_n,
            exchange=merged["exchange"],
            time=local_time,
            timezone=merged["timezone"],
        )
        rule_validate(rule)
    except ScheduleTimeError as error:
        raise ReportInvalid(error.message, field=error.field) from None
    return rule.cron or "", calendar_rule or "", calendar_n, local_time


def _allowed(kind: str, value: str) -> bool:
    return ExternalRecipient.objects.filter(kind=kind, value=value.lower()).exists()


def email_allowed(address: str) -> bool:
    domain = address.rpartition("@")[2]
    return _allowed(ExternalRecipientKind.EMAIL, address) or _allowed(
        ExternalRecipientKind.EMAIL_DOMAIN, domain
    )


def _recipients(value: Any) -> tuple[list[User], list[Team], list[str]]:
    if not isinstance(value, Mapping):
        raise ReportInvalid(
            "Give the recipients as {users: [...], teams: [...], emails: [...]}.",
            field="recipients",
        )
    unknown = sorted(set(value) - {"users", "teams", "emails"})
    if unknown:
        raise ReportInvalid(
            f"Recipients are users, teams and emails, not “{unknown[0]}”.", field="recipients"
        )
    users: list[User] = []
    for item in _strings(value.get("users") or [], field="recipients", what="users"):
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ReportInvalid("Name each user by username.", field="recipients")
        lookup = {"pk": item} if isinstance(item, int) else {"username": item}
        user = User.objects.filter(is_active=True, **lookup).first()
        if user is None:
            raise ReportInvalid(f"There is no active user “{item}”.", field="recipients")
        if user not in users:
            users.append(user)
    teams: list[Team] = []
    for item in _strings(value.get("teams") or [], field="recipients", what="teams"):
        if isinstance(item, bool) or not isinstance(item, int | str) or item == "":
            raise ReportInvalid("Name each team by its name or id.", field="recipients")
        team = (
            Team.objects.filter(pk=int(item)).first()
            if isinstance(item, int) or item.isdigit()
            else None
        ) or (Team.objects.filter(name=item).first() if isinstance(item, str) else None)
        if team is None:
            raise ReportInvalid(f"There is no team “{item}”.", field="recipients")
        if team not in teams:
            teams.append(team)
    emails: list[str] = []
    for item in _strings(value.get("emails") or [], field="recipients", what="e-mail addresses"):
        address = item.strip().lower() if isinstance(item, str) else ""
        try:
            validate_email(address)
        except ValidationError:
            raise ReportInvalid(f"“{item}” is not an e-mail address.", field="recipients") from None
        if not email_allowed(address):
            raise ReportInvalid(
                f"{address} is outside the portal and not on the administrators' allow-list "
                "of external recipients.",
                field="recipients",
            )
        if address not in emails:
            emails.append(address)
    return users, teams, emails


def webhook_url_allowed(url: str) -> bool:
    """Whether the schedule may post to ``url``: HTTPS (or HTTP to the loopback
    interface) to a host on the allow-list (``webhook_host``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        return False
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return False
    return _allowed(ExternalRecipientKind.WEBHOOK_HOST, host)


def _webhook_url(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > WEBHOOK_URL_MAX:
        raise ReportInvalid(
            f"Give the webhook URL as text of at most {WEBHOOK_URL_MAX} characters.",
            field="webhook_url",
        )
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ReportInvalid(f"“{url}” is not an https URL.", field="webhook_url")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ReportInvalid(
            "Webhooks go over https (plain http only to 127.0.0.1).", field="webhook_url"
        )
    if not webhook_url_allowed(url):
        raise ReportInvalid(
            f"The host {parts.hostname} is not on the administrators' allow-list of webhook hosts.",
            field="webhook_url",
        )
    return url


def _clean(*, owner: User, merged: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of ``merged`` checked (see the module): the model's values,
    and ``recipient_users`` / ``recipient_teams`` for the many-to-many fields."""
    template = _template(owner=owner, value=merged["template"])
    portfolios = _portfolios(owner=owner, value=merged["portfolios"])
    cron, calendar_rule, calendar_n, local_time = _rule(merged)
    period_keys = [key for key, _ in SCHEDULE_PERIODS]
    if merged["period"] not in period_keys:
        raise ReportInvalid(
            f"There is no schedule period “{merged['period']}”; choose one of: "
            f"{', '.join(period_keys)}.",
            field="period",
        )
    formats = formats_clean(
        _strings(merged["formats"], field="formats", what="formats")
        if not isinstance(merged["formats"], str)
        else merged["formats"]
    )
    channels = _strings(merged["channels"], field="channels", what="channels")
    if not channels:
        raise ReportInvalid("Choose at least one channel.", field="channels")
    for channel in channels:
        _choice(channel, DeliveryChannel, field="channels")
    channels = list(dict.fromkeys(channels))
    users, teams, emails = _recipients(merged["recipients"])
    webhook_url = _webhook_url(merged["webhook_url"])
    if DeliveryChannel.WEBHOOK in channels and not webhook_url:
        raise ReportInvalid("The webhook channel needs the webhook's URL.", field="webhook_url")
    if DeliveryChannel.EMAIL in channels and not (users or teams or emails):
        raise ReportInvalid("E-mail needs at least one recipient.", field="recipients")
    if DeliveryChannel.INBOX in channels and not (users or teams):
        raise ReportInvalid(
            "The inbox needs at least one user or team among the recipients.", field="recipients"
        )
    wait = merged["ready_wait_minutes"]
    if (
        isinstance(wait, bool)
        or not isinstance(wait, int)
        or not 0 <= wait <= READY_WAIT_MAX_MINUTES
    ):
        raise ReportInvalid(
            f"Wait for the data from 0 to {READY_WAIT_MAX_MINUTES} minutes.",
            field="ready_wait_minutes",
        )
    name = merged["name"]
    if not isinstance(name, str) or len(name.strip()) > NAME_MAX:
        raise ReportInvalid(f"A name has at most {NAME_MAX} characters.", field="name")
    return {
        "name": name.strip() or template.name,
        "template": template,
        "parameters": {"portfolios": portfolios} if portfolios else {},
        "cron": cron,
        "calendar_rule": calendar_rule,
        "calendar_n": calendar_n,
        "exchange": merged["exchange"].strip().upper(),
        "time": local_time,
        "timezone": merged["timezone"],
        "period": merged["period"],
        "formats": formats,
        "channels": channels,
        "recipient_emails": emails,
        "webhook_url": webhook_url,
        "burst": _bool(merged["burst"], field="burst"),
        "copies": _choice(merged["copies"], ScheduleCopies, field="copies"),
        "ready_wait_minutes": wait,
        "incomplete_action": _choice(
            merged["incomplete_action"], ScheduleIncompleteAction, field="incomplete_action"
        ),
        "missed_action": _choice(
            merged["missed_action"], ScheduleMissedAction, field="missed_action"
        ),
        "enabled": _bool(merged["enabled"], field="enabled"),
        "recipient_users": users,
        "recipient_teams": teams,
    }


def _store(schedule: Schedule, cleaned: Mapping[str, Any], *, now: dt.datetime) -> None:
    for field, value in cleaned.items():
        if field not in ("recipient_users", "recipient_teams"):
            setattr(schedule, field, value)
    if not schedule.webhook_secret:
        schedule.webhook_secret = secrets.token_urlsafe(32)
    schedule.next_run_at = _next_run(schedule, now=now)
    schedule.save()
    schedule.recipient_users.set(cleaned["recipient_users"])
    schedule.recipient_teams.set(cleaned["recipient_teams"])


def _audit(
    *,
    user: User,
    schedule: Schedule,
    change: str,
    origin: RequestOrigin | None,
    **details: Any,
) -> None:
    audit_record(
        actor=user,
        action=AuditAction.SCHEDULE_CHANGED,
        target=schedule,
        origin=origin,
        details={"change": change, "schedule": schedule.name, **details},
    )


# --- writes ---------------------------------------------------------------------


@transaction.atomic
def schedule_create(
    *, user: User, data: Mapping[str, Any], origin: RequestOrigin | None = None
) -> Schedule:
    """A schedule owned by ``user`` from the API's ``data`` (see the module),
    due at its first slot after now, audited ``created``."""
    given = _given(data)
    if "template" not in given:
        raise ReportInvalid("Choose the report template (its slug or id).", field="template")
    if "calendar_rule" in given and given["calendar_rule"] and "cron" not in given:
        given["cron"] = None
    cleaned = _clean(owner=user, merged={**_DEFAULTS, **given})
    schedule = Schedule(owner=user)
    _store(schedule, cleaned, now=timezone.now())
    _audit(user=user, schedule=schedule, change="created", origin=origin, fields=sorted(given))
    return schedule


@transaction.atomic
def schedule_update(
    *,
    user: User,
    schedule: Schedule,
    data: Mapping[str, Any],
    origin: RequestOrigin | None = None,
) -> Schedule:
    """Change the fields of ``data`` (partial; checked as a whole with the
    owner's rights), recompute the next run from now, audit ``updated`` with the
    fields that changed."""
    _may_change_checked(user=user, schedule=schedule)
    schedule = Schedule.objects.select_for_update().select_related("owner").get(pk=schedule.pk)
    given = _given(data)
    if given.get("cron") and "calendar_rule" not in given:
        given["calendar_rule"] = None
    if given.get("calendar_rule") and "cron" not in given:
        given["cron"] = None
    before = schedule_as_data(schedule)
    cleaned = _clean(owner=schedule.owner, merged={**before, **given})
    _store(schedule, cleaned, now=timezone.now())
    after = schedule_as_data(schedule)
    changed = sorted(field for field in FIELDS if before[field] != after[field])
    _audit(user=user, schedule=schedule, change="updated", origin=origin, fields=changed)
    return schedule


@transaction.atomic
def schedule_pause(
    *, user: User, schedule: Schedule, origin: RequestOrigin | None = None
) -> Schedule:
    """Stop a schedule: disabled, no next run."""
    _may_change_checked(user=user, schedule=schedule)
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    schedule.enabled = False
    schedule.next_run_at = None
    schedule.save(update_fields=["enabled", "next_run_at", "updated_at"])
    _audit(user=user, schedule=schedule, change="paused", origin=origin)
    return schedule


@transaction.atomic
def schedule_resume(
    *, user: User, schedule: Schedule, origin: RequestOrigin | None = None
) -> Schedule:
    """Start a paused schedule again from its first slot after now."""
    _may_change_checked(user=user, schedule=schedule)
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    schedule.enabled = True
    schedule.next_run_at = _next_run(schedule, now=timezone.now())
    schedule.save(update_fields=["enabled", "next_run_at", "updated_at"])
    _audit(user=user, schedule=schedule, change="resumed", origin=origin)
    return schedule


@transaction.atomic
def schedule_delete(*, user: User, schedule: Schedule, origin: RequestOrigin | None = None) -> None:
    """Delete a schedule with its occurrences and deliveries (the runs they sent,
    and their files, stay in the archive)."""
    _may_change_checked(user=user, schedule=schedule)
    _audit(user=user, schedule=schedule, change="deleted", origin=origin)
    schedule.delete()


def occurrence_period_fields(schedule: Schedule, slot_at: dt.datetime) -> dict[str, Any]:
    """The ``period_*`` and ``ready_by`` of the occurrence of ``schedule`` due at
    ``slot_at`` (the period resolved on the slot's local date)."""
    try:
        period = slot_period(
            schedule.period,
            slot_local=slot_at.astimezone(schedule_zone(schedule)),
            exchange=schedule.exchange,
        )
    except ScheduleTimeError as error:
        raise ReportInvalid(error.message, field=error.field) from None
    return {
        "period_start": period.start,
        "period_end": period.end,
        "period_label": period.label,
        "ready_by": slot_at + dt.timedelta(minutes=schedule.ready_wait_minutes),
    }


def occurrence_create(
    *, schedule: Schedule, slot_at: dt.datetime, manual: bool = False
) -> tuple[ScheduleOccurrence, bool]:
    """The occurrence of ``schedule`` at ``slot_at`` (one per slot), created
    ``waiting`` under a lease held by the sweeper's name, so that if its task is
    lost the sweeper sends it again; its task is sent after the commit. Returns
    ``(occurrence, created)``."""
    with transaction.atomic():
        occurrence, created = ScheduleOccurrence.objects.get_or_create(
            schedule=schedule,
            slot_at=slot_at,
            defaults={
                **occurrence_period_fields(schedule, slot_at),
                "manual": manual,
                "state": OccurrenceState.WAITING,
                "lease_holder": RESENT,
                "lease_expires_at": lease_until(OCCURRENCE_LEASE_KIND),
            },
        )
        if created:
            task_send_on_commit(ADVANCE_TASK, occurrence.pk)
    return occurrence, created


def schedule_run_now(
    *, user: User, schedule: Schedule, origin: RequestOrigin | None = None
) -> ScheduleOccurrence:
    """A manual occurrence now (its slot is this minute, so a double click finds
    the same one), covering the schedule's period resolved on today's local
    date, fanned out at once without waiting for data (gaps are named in the
    report's banner). Audited ``SCHEDULE_RUN_REQUESTED``."""
    _may_change_checked(user=user, schedule=schedule)
    slot_at = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        occurrence, created = occurrence_create(schedule=schedule, slot_at=slot_at, manual=True)
        audit_record(
            actor=user,
            action=AuditAction.SCHEDULE_RUN_REQUESTED,
            target=schedule,
            origin=origin,
            details={
                "occurrence": occurrence.pk,
                "slot_at": slot_at.isoformat(),
                "period": [
                    occurrence.period_start.isoformat() if occurrence.period_start else None,
                    occurrence.period_end.isoformat(),
                ],
                "created": created,
            },
        )
    return occurrence


def schedule_owner_notify(
    *, schedule: Schedule, subject: str, body: str, dedupe_key: str, link: str = ""
) -> None:
    """Tell the schedule's owner: an inbox message now (once per ``dedupe_key``),
    in the caller's transaction, and an e-mail after the commit when the message
    is new and the owner has an address (a mail server that is down is logged:
    the inbox has it)."""
    owner = schedule.owner
    existing = owner.inbox_messages.filter(dedupe_key=dedupe_key).exists()
    inbox_send(recipient=owner, subject=subject[:200], body=body, link=link, dedupe_key=dedupe_key)
    if existing or not owner.email:
        return

    def mail() -> None:
        try:
            mail_send(to=[owner.email], subject=subject, text=body)
        except ChannelError:
            logger.exception("telling the owner of schedule %s by e-mail failed", schedule.pk)

    transaction.on_commit(mail)


def schedule_portfolios(schedule: Schedule) -> list[Portfolio]:
    """The portfolios a slot of ``schedule`` covers, as its owner sees them now:
    the listed ones still visible to the owner (a lost entitlement drops one),
    or every active portfolio the owner may see."""
    visible = portfolio_list_visible_to(user=schedule.owner)
    codes = list((schedule.parameters or {}).get("portfolios") or [])
    if not codes:
        return list(visible.filter(is_active=True).order_by("code"))
    by_code = {portfolio.code: portfolio for portfolio in visible.filter(code__in=codes)}
    return [by_code[code] for code in codes if code in by_code]
