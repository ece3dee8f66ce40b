"""When a schedule runs and what each run covers (pure: zoneinfo, cronsim and
exchange_calendars; no Django).

A schedule's time rule is either a five-field **cron expression** read on the
wall clock of an IANA time zone, or a **market-calendar rule** (every business
day, the Nth business day of the month, the last business day of the month or
of the quarter) on an exchange's calendar, at a local time in a time zone.

Daylight saving
---------------
Every local (wall-clock) time the rule names runs exactly once:

* a local time inside the spring-forward gap (01:30 in London on 29 Mar 2026,
  when clocks go from 01:00 GMT to 02:00 BST) does not exist; it runs once, at
  the first instant after the gap (02:00 BST). Several gap times (01:00, 01:15,
  …) and a time right at the gap's end (02:00) are then one instant, so one run;
* an ambiguous autumn time (01:30 in London on 25 Oct 2026, which happens at
  00:30 UTC in BST and again at 01:30 UTC in GMT) runs once, at its first
  occurrence. An hourly rule therefore runs 23 times on the spring day and 24
  on the autumn day: each hour of the local clock once, never a second time
  for the repeated hour (a run covers a period of local dates, so a second run
  would send the same report again).

Slots are instants; two slots are the same slot when they are the same instant,
whatever their offsets.

Market calendars
----------------
Business days are the exchange's sessions (``exchange_calendars``), so weekends
and the exchange's holidays are skipped. Building a calendar takes a good part
of a second, so the sessions are read one calendar decade at a time and cached
per exchange and decade. A calendar is read no earlier than 1970 and no later
than 2099, nor outside the exchange's own published range (Hong Kong's holidays
are recorded to 2049); a date outside that is a :class:`ScheduleTimeError`.

Periods
-------
Each slot covers a relative period resolved on the slot's **local date**
(:func:`slot_period`): the "to date" periods and the previous business day end
on the exchange's last business day strictly before that date; the previous
month, quarter and year are the last whole ones that ended before that date.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import exchange_calendars
from cronsim import CronSim, CronSimError

UTC = dt.UTC

CALENDAR_RULES: tuple[str, ...] = (
    "every_business_day",
    "nth_business_day",
    "last_business_day_of_month",
    "last_business_day_of_quarter",
)
"""The market-calendar rules (the values of ``reports.models.ScheduleCalendarRule``)."""

NTH_BUSINESS_DAY_MAX = 23
"""The largest N for ``nth_business_day``: no month has more than 23 weekdays."""

SCHEDULE_PERIODS: tuple[tuple[str, str], ...] = (
    ("previous_business_day", "Previous business day"),
    ("month_to_date", "Month to date"),
    ("quarter_to_date", "Quarter to date"),
    ("year_to_date", "Year to date"),
    ("previous_month", "Previous month"),
    ("previous_quarter", "Previous quarter"),
    ("previous_year", "Previous year"),
)
"""(key, label) of every period a schedule may cover, in the order forms list them."""

_PERIOD_LABELS = dict(SCHEDULE_PERIODS)

# The widest range a calendar is read over; exchange_calendars projects holidays
# by rule, and a schedule decades away is a typing error rather than a plan.
_CALENDAR_FIRST = dt.date(1970, 1, 1)
_CALENDAR_LAST = dt.date(2099, 12, 31)
_CALENDAR_BLOCK_YEARS = 10

# The longest spring-forward gap to step over, in minutes (Samoa skipped a whole
# day in December 2011).
_GAP_MAX_MINUTES = 2 * 24 * 60


class ScheduleTimeError(ValueError):
    """A time rule or period that cannot be used; ``field`` names the schedule
    field at fault ("cron", "timezone", "exchange", "calendar_rule", "time" or
    "period") and the message is for the user."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class TimeRule:
    """When a schedule runs: exactly one of ``cron`` (five fields, read in
    ``timezone``) and ``calendar_rule`` (a :data:`CALENDAR_RULES` value, with
    ``calendar_n`` for ``nth_business_day``; it may also be written
    ``"nth_business_day:N"``) at local ``time`` on ``exchange``'s calendar.
    ``exchange`` also defines the business days of the periods."""

    cron: str | None
    calendar_rule: str | None
    calendar_n: int | None
    exchange: str
    time: dt.time | None
    timezone: str


@dataclass(frozen=True)
class SlotPeriod:
    """The inclusive dates one slot covers (``start`` None: from the first
    return) and a label for headers ("March 2026", "Q1 2024", …)."""

    start: dt.date | None
    end: dt.date
    label: str


# --- validation -------------------------------------------------------------


def calendar_rule_parse(text: str) -> tuple[str, int | None]:
    """Split a calendar rule as written in the API: ``"nth_business_day:3"`` is
    ``("nth_business_day", 3)``, ``"last_business_day_of_month"`` is
    ``("last_business_day_of_month", None)``. Raises :class:`ScheduleTimeError`
    (field "calendar_rule") for an unknown rule, a missing or bad N, or an N on a
    rule that takes none."""
    name, colon, number = str(text).strip().partition(":")
    name = name.strip()
    if name not in CALENDAR_RULES:
        choices = ", ".join(
            f"{rule}:N" if rule == "nth_business_day" else rule for rule in CALENDAR_RULES
        )
        raise ScheduleTimeError(
            f"There is no calendar rule “{text}”; choose one of: {choices}.",
            field="calendar_rule",
        )
    if name != "nth_business_day":
        if colon:
            raise ScheduleTimeError(f"The rule “{name}” takes no number.", field="calendar_rule")
        return name, None
    if not colon:
        raise ScheduleTimeError(
            f"Say which business day: nth_business_day:N with N from 1 to {NTH_BUSINESS_DAY_MAX}.",
            field="calendar_rule",
        )
    number = number.strip()
    if not number.isdigit():
        raise ScheduleTimeError(
            f"“{number}” is not a whole number of business days (1 to {NTH_BUSINESS_DAY_MAX}).",
            field="calendar_rule",
        )
    return name, _nth_checked(int(number))


def _nth_checked(n: int) -> int:
    if not 1 <= n <= NTH_BUSINESS_DAY_MAX:
        raise ScheduleTimeError(
            f"The business day of the month must be from 1 to {NTH_BUSINESS_DAY_MAX}, not {n}.",
            field="calendar_rule",
        )
    return n


def _rule_parts(rule: TimeRule) -> tuple[str, int | None]:
    """(name, N) of a calendar rule, accepting N either in the text or in
    ``calendar_n``."""
    text = (rule.calendar_rule or "").strip()
    if text == "nth_business_day" and rule.calendar_n is not None:
        if isinstance(rule.calendar_n, bool) or not isinstance(rule.calendar_n, int):
            raise ScheduleTimeError(
                "The business day of the month must be a whole number.", field="calendar_rule"
            )
        return text, _nth_checked(rule.calendar_n)
    name, n = calendar_rule_parse(text)
    if name == "nth_business_day" and rule.calendar_n is not None and rule.calendar_n != n:
        raise ScheduleTimeError(
            f"The rule says business day {n} but the number given is {rule.calendar_n}.",
            field="calendar_rule",
        )
    if name != "nth_business_day" and rule.calendar_n is not None:
        raise ScheduleTimeError(f"The rule “{name}” takes no number.", field="calendar_rule")
    return name, n


def _zone(name: str) -> ZoneInfo:
    if not name or not isinstance(name, str):
        raise ScheduleTimeError("Choose a time zone, such as Europe/London.", field="timezone")
    try:
        # "localtime" is whatever the server's clock is set to, not a named zone.
        if name == "localtime":
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleTimeError(
            f"There is no time zone “{name}”; use an IANA name such as Europe/London "
            "or America/New_York.",
            field="timezone",
        ) from None


@lru_cache(maxsize=256)
def _exchange(name: str) -> str:
    """The canonical calendar name of ``name`` (e.g. "NYSE" is "XNYS")."""
    known = exchange_calendars.get_calendar_names(include_aliases=True)
    for candidate in (name, str(name).strip().upper()):
        if candidate in known:
            return str(exchange_calendars.resolve_alias(candidate))
    raise ScheduleTimeError(
        f"There is no exchange calendar “{name}”; use an ISO 10383 MIC such as XNYS or XLON.",
        field="exchange",
    )


def _cron_checked(expression: str) -> str:
    text = " ".join(str(expression).split())
    if len(text.split(" ")) != 5 or not text:
        raise ScheduleTimeError(
            f"“{expression}” is not a cron expression of five fields "
            "(minute, hour, day of month, month, day of week), e.g. “0 8 * * 1-5”.",
            field="cron",
        )
    try:
        CronSim(text, dt.datetime(2000, 1, 1))  # noqa: DTZ001 (naive: wall-clock matching)
    except CronSimError as error:
        raise ScheduleTimeError(
            f"“{expression}” is not a valid cron expression ({error}).", field="cron"
        ) from None
    return text


def rule_validate(rule: TimeRule) -> None:
    """Check a time rule; raises :class:`ScheduleTimeError` naming the field at
    fault. Exactly one of ``cron`` and ``calendar_rule`` (an empty string counts
    as none): neither is a "cron" error, both a "calendar_rule" error. A calendar
    rule needs a local ``time`` (naive ``datetime.time``)."""
    _zone(rule.timezone)
    _exchange(rule.exchange)
    has_cron, has_calendar = (
        bool(rule.cron and rule.cron.strip()),
        bool(rule.calendar_rule and rule.calendar_rule.strip()),
    )
    if not has_cron and not has_calendar:
        raise ScheduleTimeError(
            "Give a cron expression or a calendar rule for when the schedule runs.", field="cron"
        )
    if has_cron and has_calendar:
        raise ScheduleTimeError(
            "Give either a cron expression or a calendar rule, not both.", field="calendar_rule"
        )
    if has_cron:
        _cron_checked(rule.cron or "")
        return
    _rule_parts(rule)
    if not isinstance(rule.time, dt.time):
        raise ScheduleTimeError(
            "A calendar rule needs the local time to run at (HH:MM).", field="time"
        )
    if rule.time.tzinfo is not None:
        raise ScheduleTimeError(
            "Give the time as a local time (HH:MM); the time zone is set separately.",
            field="time",
        )


# --- local wall-clock times to instants ---------------------------------------


def _instant(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The aware time in ``zone`` at which naive wall-clock time ``local`` runs:
    its first occurrence when ambiguous, the first instant after the gap when it
    does not exist."""
    candidate = local.replace(tzinfo=zone, fold=0)
    if candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local:
        return candidate
    # Inside a spring-forward gap: step on to the first local minute that exists
    # (every transition in the database falls on a whole minute).
    start = local.replace(second=0, microsecond=0)
    for minutes in range(1, _GAP_MAX_MINUTES + 1):
        later = (start + dt.timedelta(minutes=minutes)).replace(tzinfo=zone, fold=0)
        if later.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == later.replace(
            tzinfo=None
        ):
            return later
    raise ScheduleTimeError(  # pragma: no cover - no zone has a gap this long
        f"The local time {local:%Y-%m-%d %H:%M} cannot be placed in {zone.key}.",
        field="timezone",
    )


def _aware(after: dt.datetime) -> dt.datetime:
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("`after` must be an aware datetime")
    return after


def _cron_slots(expression: str, zone: ZoneInfo, after: dt.datetime) -> Iterator[dt.datetime]:
    """Instants of a cron rule strictly after ``after``, in order, each once."""
    after_utc = after.astimezone(UTC)
    # Match the fields on the naive wall clock, then place each wall time (see
    # the module). Placing is non-decreasing in wall time, so every wall time
    # before ``after``'s own wall time is placed at or before ``after``.
    start = after.astimezone(zone).replace(tzinfo=None)
    last: dt.datetime | None = None
    for local in CronSim(expression, start):
        slot = _instant(local, zone)
        slot_utc = slot.astimezone(UTC)
        if slot_utc <= after_utc or (last is not None and slot_utc <= last):
            continue
        last = slot_utc
        yield slot


# --- exchange calendars -------------------------------------------------------


@lru_cache(maxsize=256)
def _calendar_range(exchange: str) -> tuple[dt.date, dt.date]:
    """The dates the portal reads ``exchange``'s calendar over (see the module)."""
    factories = getattr(exchange_calendars.calendar_utils, "_default_calendar_factories", {})
    factory = factories.get(exchange)
    first, last = _CALENDAR_FIRST, _CALENDAR_LAST
    if factory is not None:
        bound_min, bound_max = factory.bound_min(), factory.bound_max()
        if bound_min is not None:
            first = max(first, bound_min.date())
        if bound_max is not None:
            last = min(last, bound_max.date())
    return first, last


@lru_cache(maxsize=64)
def _block_sessions(exchange: str, block: int) -> tuple[dt.date, ...]:
    """The sessions of ``exchange`` in the calendar decade starting ``block``
    (cached: building a calendar is slow)."""
    first, last = _calendar_range(exchange)
    start = max(first, dt.date(block, 1, 1))
    end = min(last, dt.date(block + _CALENDAR_BLOCK_YEARS - 1, 12, 31))
    if start > end:
        return ()
    exchange_calendar = exchange_calendars.get_calendar(
        exchange, start=start.isoformat(), end=end.isoformat()
    )
    return tuple(session.date() for session in exchange_calendar.sessions)


def _range_checked(exchange: str, first: dt.date, last: dt.date) -> None:
    lowest, highest = _calendar_range(exchange)
    for day in (first, last):
        if not lowest <= day <= highest:
            raise ScheduleTimeError(
                f"The {exchange} calendar is read from {lowest.isoformat()} to "
                f"{highest.isoformat()}; {day.isoformat()} is outside it.",
                field="exchange",
            )


def business_days(exchange: str, first: dt.date, last: dt.date) -> list[dt.date]:
    """The sessions (business days) of ``exchange`` from ``first`` to ``last``
    inclusive. Raises :class:`ScheduleTimeError` for an unknown exchange or a
    date outside the calendar's range."""
    exchange = _exchange(exchange)
    if last < first:
        return []
    _range_checked(exchange, first, last)
    days: list[dt.date] = []
    block = first.year - first.year % _CALENDAR_BLOCK_YEARS
    while block <= last.year:
        sessions = _block_sessions(exchange, block)
        days.extend(
            sessions[bisect.bisect_left(sessions, first) : bisect.bisect_right(sessions, last)]
        )
        block += _CALENDAR_BLOCK_YEARS
    return days


def business_day_before(exchange: str, day: dt.date) -> dt.date:
    """The last session of ``exchange`` strictly before ``day``."""
    # A fortnight back always holds a session on a real exchange; look further
    # only for a long closure.
    span = 14
    while True:
        first = day - dt.timedelta(days=span)
        days = business_days(exchange, first, day - dt.timedelta(days=1))
        if days:
            return days[-1]
        span *= 4


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _months_from(year: int, month: int) -> Iterator[tuple[int, int]]:
    while True:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _calendar_days(exchange: str, name: str, n: int | None, year: int, month: int) -> list[dt.date]:
    """The dates in one month on which calendar rule ``name`` runs."""
    if name == "last_business_day_of_quarter":
        if month % 3:
            return []
        days = business_days(exchange, dt.date(year, month - 2, 1), _month_end(year, month))
        return days[-1:]
    days = business_days(exchange, dt.date(year, month, 1), _month_end(year, month))
    if name == "every_business_day":
        return days
    if name == "last_business_day_of_month":
        return days[-1:]
    # nth_business_day: a month with fewer business days has no slot
    assert n is not None  # noqa: S101 (checked by _rule_parts)
    return days[n - 1 : n]


def _calendar_slots(rule: TimeRule, zone: ZoneInfo, after: dt.datetime) -> Iterator[dt.datetime]:
    exchange = _exchange(rule.exchange)
    name, n = _rule_parts(rule)
    assert rule.time is not None  # noqa: S101 (checked by rule_validate)
    after_utc = after.astimezone(UTC)
    first_day = after.astimezone(zone).date()
    # A slot is placed on its rule date, or the day after when a gap at midnight
    # moves it, so no rule date before the day before ``after``'s local date can
    # give a slot after ``after``.
    _range_checked(exchange, first_day, first_day)
    start = max(first_day.replace(day=1) - dt.timedelta(days=1), _calendar_range(exchange)[0])
    last: dt.datetime | None = None
    for year, month in _months_from(start.year, start.month):
        for day in _calendar_days(exchange, name, n, year, month):
            slot = _instant(dt.datetime.combine(day, rule.time), zone)
            slot_utc = slot.astimezone(UTC)
            if slot_utc <= after_utc or (last is not None and slot_utc <= last):
                continue
            last = slot_utc
            yield slot


# --- slots ----------------------------------------------------------------------


def slots_after(rule: TimeRule, after: dt.datetime, count: int) -> list[dt.datetime]:
    """The next ``count`` slots of ``rule`` strictly after the aware instant
    ``after``, in order, as aware datetimes in the rule's time zone (their
    ``isoformat()`` carries the UTC offset: "2026-03-30T08:00:00+01:00"). Fewer
    when the rule has no more slots (a cron rule with no match within 50 years).
    Raises :class:`ScheduleTimeError` for a bad rule, or when a calendar rule
    reaches beyond the exchange calendar's range."""
    rule_validate(rule)
    after = _aware(after)
    if count <= 0:
        return []
    zone = _zone(rule.timezone)
    slots = (
        _cron_slots(_cron_checked(rule.cron or ""), zone, after)
        if rule.cron and rule.cron.strip()
        else _calendar_slots(rule, zone, after)
    )
    found: list[dt.datetime] = []
    for slot in slots:
        found.append(slot)
        if len(found) == count:
            break
    return found


def slot_next(rule: TimeRule, after: dt.datetime) -> dt.datetime | None:
    """The first slot of ``rule`` strictly after ``after``, in UTC; None when
    there is none."""
    slots = slots_after(rule, after, 1)
    return slots[0].astimezone(UTC) if slots else None


# --- periods --------------------------------------------------------------------


def _format(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def slot_period(period: str, *, slot_local: dt.datetime, exchange: str) -> SlotPeriod:
    """The dates a slot covers, resolved on the slot's local date ``slot_local``
    (an aware datetime in the schedule's time zone, or a naive local one):

    * ``previous_business_day``: the exchange's last business day strictly
      before that date (a Monday's is the Friday, or the Thursday when Friday
      was a holiday);
    * ``month_to_date`` / ``quarter_to_date`` / ``year_to_date``: from the
      first day of the month, quarter or year *of that previous business day*
      to that day, so a run on the first business day of a quarter covers the
      whole quarter before;
    * ``previous_month`` / ``previous_quarter`` / ``previous_year``: the last
      whole calendar month, quarter or year that ended before that date (on
      1 Jan 2027: December 2026, Q4 2026 and 2026).

    Raises :class:`ScheduleTimeError` for an unknown period (field "period") or
    exchange, or a date outside the calendar's range."""
    if period not in _PERIOD_LABELS:
        choices = ", ".join(key for key, _ in SCHEDULE_PERIODS)
        raise ScheduleTimeError(
            f"There is no schedule period “{period}”; choose one of: {choices}.", field="period"
        )
    day = slot_local.date()
    if period in ("previous_month", "previous_quarter", "previous_year"):
        _exchange(exchange)
        if period == "previous_month":
            end = day.replace(day=1) - dt.timedelta(days=1)
            return SlotPeriod(end.replace(day=1), end, f"{end:%B %Y}")
        if period == "previous_quarter":
            quarter_start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            end = quarter_start - dt.timedelta(days=1)
            start = dt.date(end.year, end.month - 2, 1)
            return SlotPeriod(start, end, f"Q{(end.month - 1) // 3 + 1} {end.year}")
        year = day.year - 1
        return SlotPeriod(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))
    end = business_day_before(exchange, day)
    if period == "previous_business_day":
        return SlotPeriod(end, end, _format(end))
    if period == "month_to_date":
        start = end.replace(day=1)
    elif period == "quarter_to_date":
        start = dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    else:
        start = dt.date(end.year, 1, 1)
    return SlotPeriod(start, end, f"{_PERIOD_LABELS[period]}: {_format(start)} – {_format(end)}")
