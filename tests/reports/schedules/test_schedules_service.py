"""Schedules as written through the service: every field checked with the owner's
rights and refused by name, the next run always the first slot after now, and
every change audited.

Times are worked by hand: London is on GMT (UTC+0) until 01:00 UTC on Sunday
29 March 2026 and on BST (UTC+1) after; 31 March 2026 is a Tuesday and the last
business day of March on the London Stock Exchange (Good Friday is 3 April)."""

import datetime as dt

import pytest

from portal.models import AuditAction, AuditEvent, Role
from reports.errors import ReportInvalid, ReportPermissionDenied
from reports.models import (
    ExternalRecipientKind,
    OccurrenceState,
    ReportShare,
    Schedule,
    ScheduleOccurrence,
    ShareLevel,
)
from reports.schedule_times import TimeRule
from reports.services.dispatch import schedules_dispatch
from reports.services.schedules import (
    schedule_create,
    schedule_delete,
    schedule_may_change,
    schedule_pause,
    schedule_preview,
    schedule_resume,
    schedule_run_now,
    schedule_update,
)
from tests.factories import UserFactory
from tests.reports.schedules.conftest import schedule_data

UTC = dt.UTC
FRIDAY_MORNING = dt.datetime(2026, 3, 27, 10, 0, tzinfo=UTC)


def _changes():
    return list(AuditEvent.objects.filter(action=AuditAction.SCHEDULE_CHANGED).order_by("id"))


@pytest.fixture
def admin(db):
    return UserFactory(username="root", role=Role.ADMIN)


def test_create_stores_every_field_and_is_due_at_the_first_slot_after_now(
    alice, bob, desk, growth, income, schedule_template, allow, clock, tasks_sent
):
    clock.set(FRIDAY_MORNING)
    allow(ExternalRecipientKind.EMAIL_DOMAIN, "partner.example")
    allow(ExternalRecipientKind.WEBHOOK_HOST, "hooks.partner.example")

    schedule = schedule_create(
        user=alice,
        data=schedule_data(
            schedule_template,
            name="Morning pack",
            portfolios=["GROWTH", "INCOME"],
            formats=["pdf", "xlsx"],
            channels=["email", "inbox", "webhook"],
            recipients={
                "users": ["bob"],
                "teams": ["Equity desk"],
                "emails": ["Ann@Partner.example"],
            },
            webhook_url="https://hooks.partner.example/reports",
            burst=True,
            copies="identical",
            ready_wait_minutes=45,
            incomplete_action="hold",
            missed_action="skip",
        ),
    )

    schedule.refresh_from_db()
    assert (schedule.owner, schedule.template, schedule.name) == (
        alice,
        schedule_template,
        "Morning pack",
    )
    assert schedule.parameters == {"portfolios": ["GROWTH", "INCOME"]}
    assert (schedule.cron, schedule.calendar_rule, schedule.timezone) == (
        "0 8 * * *",
        "",
        "Europe/London",
    )
    assert schedule.formats == ["pdf", "xlsx"]
    assert schedule.channels == ["email", "inbox", "webhook"]
    assert list(schedule.recipient_users.all()) == [bob]
    assert list(schedule.recipient_teams.all()) == [desk]
    assert schedule.recipient_emails == ["ann@partner.example"]
    assert (schedule.burst, schedule.copies, schedule.ready_wait_minutes) == (
        True,
        "identical",
        45,
    )
    assert (schedule.incomplete_action, schedule.missed_action) == ("hold", "skip")
    # 08:00 London on Saturday 28 March is still GMT: 08:00 UTC.
    assert schedule.next_run_at == dt.datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert len(schedule.webhook_secret) >= 40
    [event] = _changes()
    assert (event.actor, event.target_id, event.details["change"]) == (
        alice,
        str(schedule.pk),
        "created",
    )
    assert tasks_sent == []


def test_the_first_slot_after_now_follows_the_spring_change(alice, schedule_template, clock):
    clock.set(dt.datetime(2026, 3, 28, 9, 0, tzinfo=UTC))

    schedule = schedule_create(user=alice, data=schedule_data(schedule_template))

    # 08:00 London on Sunday 29 March is BST: 07:00 UTC.
    assert schedule.next_run_at == dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_a_calendar_rule_runs_at_its_local_time_on_the_exchange_calendar(
    alice, schedule_template, clock
):
    clock.set(FRIDAY_MORNING)

    schedule = schedule_create(
        user=alice,
        data=schedule_data(
            schedule_template,
            cron=None,
            calendar_rule="last_business_day_of_month",
            exchange="XLON",
            time="17:30",
        ),
    )

    assert (schedule.cron, schedule.calendar_rule, schedule.time) == (
        "",
        "last_business_day_of_month",
        dt.time(17, 30),
    )
    # Tuesday 31 March 2026, 17:30 BST.
    assert schedule.next_run_at == dt.datetime(2026, 3, 31, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"cron": "61 8 * * *"}, "cron", "61 8 * * *"),
        ({"cron": "every morning"}, "cron", "five fields"),
        ({"cron": None}, "cron", "cron expression or a calendar rule"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Mars/Olympus_Mons"),
        (
            {
                "cron": None,
                "calendar_rule": "every_business_day",
                "time": "08:00",
                "exchange": "XMARS",
            },
            "exchange",
            "XMARS",
        ),
        ({"cron": None, "calendar_rule": "every_business_day"}, "time", "local time"),
        (
            {"cron": None, "calendar_rule": "every_business_day", "time": "8 o'clock"},
            "time",
            "HH:MM",
        ),
        (
            {"cron": None, "calendar_rule": "nth_business_day:30", "time": "08:00"},
            "calendar_rule",
            "30",
        ),
        (
            {"cron": None, "calendar_rule": "full_moon", "time": "08:00"},
            "calendar_rule",
            "full_moon",
        ),
        ({"period": "fortnight"}, "period", "fortnight"),
        ({"formats": ["docx"]}, "formats", "docx"),
        ({"formats": []}, "formats", "at least one format"),
        ({"channels": ["sms"]}, "channels", "sms"),
        ({"channels": []}, "channels", "at least one channel"),
        ({"recipients": {"emails": ["eve@outside.example"]}}, "recipients", "allow-list"),
        ({"recipients": {"emails": ["not an address"]}}, "recipients", "not an e-mail address"),
        ({"recipients": {"users": ["nobody"]}}, "recipients", "nobody"),
        ({"recipients": {"teams": ["No such desk"]}}, "recipients", "No such desk"),
        ({"recipients": {"users": []}}, "recipients", "inbox needs at least one user"),
        ({"template": "no-such-template"}, "template", "no-such-template"),
        ({"portfolios": ["GROWTH", "HIDDEN"]}, "portfolios", "HIDDEN"),
        ({"portfolios": ["NOWHERE"]}, "portfolios", "NOWHERE"),
        ({"channels": ["webhook"]}, "webhook_url", "needs the webhook's URL"),
        (
            {"channels": ["webhook"], "webhook_url": "https://evil.example/hook"},
            "webhook_url",
            "evil.example",
        ),
        (
            {"channels": ["webhook"], "webhook_url": "http://hooks.partner.example/hook"},
            "webhook_url",
            "https",
        ),
        ({"ready_wait_minutes": -5}, "ready_wait_minutes", "0 to"),
        ({"incomplete_action": "shrug"}, "incomplete_action", "shrug"),
        ({"missed_action": "later"}, "missed_action", "later"),
        ({"copies": "some"}, "copies", "some"),
        ({"burst": "yes"}, "burst", "true or false"),
        ({"colour": "blue"}, "colour", "colour"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_stored(
    alice, growth, hidden, schedule_template, allow, fields, field, words
):
    allow(ExternalRecipientKind.WEBHOOK_HOST, "hooks.partner.example")

    with pytest.raises(ReportInvalid) as error:
        schedule_create(user=alice, data=schedule_data(schedule_template, **fields))

    assert error.value.field == field
    assert words in error.value.message
    assert not Schedule.objects.exists()
    assert _changes() == []


def test_a_template_shared_to_view_only_cannot_be_scheduled(bob, schedule_template):
    ReportShare.objects.create(template=schedule_template, user=bob, level=ShareLevel.VIEW)

    with pytest.raises(ReportInvalid) as error:
        schedule_create(user=bob, data=schedule_data(schedule_template))

    assert error.value.field == "template"
    assert "view only" in error.value.message


def test_external_addresses_are_allowed_by_exact_address_or_by_domain(
    alice, schedule_template, allow
):
    allow(ExternalRecipientKind.EMAIL, "cfo@client.example")
    allow(ExternalRecipientKind.EMAIL_DOMAIN, "partner.example")

    schedule = schedule_create(
        user=alice,
        data=schedule_data(
            schedule_template,
            channels=["email"],
            recipients={"emails": ["CFO@client.example", "ops@partner.example"]},
        ),
    )

    assert schedule.recipient_emails == ["cfo@client.example", "ops@partner.example"]
    with pytest.raises(ReportInvalid) as error:
        schedule_update(
            user=alice,
            schedule=schedule,
            data={"recipients": {"emails": ["ceo@client.example"]}},
        )
    assert error.value.field == "recipients"


def test_an_edit_is_partial_recomputes_the_next_run_from_now_and_never_fires_at_once(
    alice, schedule_template, clock, tasks_sent
):
    clock.set(dt.datetime(2026, 3, 26, 12, 0, tzinfo=UTC))
    schedule = schedule_create(user=alice, data=schedule_data(schedule_template))
    secret = schedule.webhook_secret
    assert schedule.next_run_at == dt.datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    # The 08:00 slot of 27 March is due; the dispatcher has not claimed it yet
    # when the owner renames the schedule at 10:00.
    now = clock.set(FRIDAY_MORNING)

    schedule = schedule_update(user=alice, schedule=schedule, data={"name": "Renamed"})

    schedule.refresh_from_db()
    assert (schedule.name, schedule.cron, schedule.timezone) == (
        "Renamed",
        "0 8 * * *",
        "Europe/London",
    )
    assert schedule.next_run_at == dt.datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert schedule.webhook_secret == secret
    assert schedules_dispatch(now=now) == 0
    assert not ScheduleOccurrence.objects.exists()
    updated = _changes()[-1]
    assert (updated.details["change"], updated.details["fields"]) == ("updated", ["name"])


def test_setting_a_calendar_rule_alone_replaces_the_cron(alice, schedule_template, clock):
    clock.set(FRIDAY_MORNING)
    schedule = schedule_create(user=alice, data=schedule_data(schedule_template))

    schedule = schedule_update(
        user=alice,
        schedule=schedule,
        data={"calendar_rule": "every_business_day", "time": "07:00", "exchange": "xlon"},
    )

    assert (schedule.cron, schedule.calendar_rule, schedule.exchange) == (
        "",
        "every_business_day",
        "XLON",
    )
    # Friday 27 March 07:00 GMT has passed; Monday 30 March 07:00 BST is 06:00 UTC.
    assert schedule.next_run_at == dt.datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    assert _changes()[-1].details["fields"] == ["calendar_rule", "cron", "exchange", "time"]


def test_only_the_owner_or_an_administrator_changes_a_schedule(
    alice, bob, admin, schedule_template
):
    schedule = schedule_create(user=alice, data=schedule_data(schedule_template))

    assert schedule_may_change(user=alice, schedule=schedule)
    assert schedule_may_change(user=admin, schedule=schedule)
    assert not schedule_may_change(user=bob, schedule=schedule)
    for change in (
        lambda: schedule_update(user=bob, schedule=schedule, data={"name": "Mine now"}),
        lambda: schedule_pause(user=bob, schedule=schedule),
        lambda: schedule_delete(user=bob, schedule=schedule),
        lambda: schedule_run_now(user=bob, schedule=schedule),
    ):
        with pytest.raises(ReportPermissionDenied):
            change()
    schedule_update(user=admin, schedule=schedule, data={"name": "Checked by admin"})
    assert _changes()[-1].actor == admin
    assert Schedule.objects.get().owner == alice


def test_an_administrator_edits_with_the_owner_s_entitlements(
    alice, growth, hidden, schedule_template
):
    root = UserFactory(username="superroot", is_superuser=True)
    schedule = schedule_create(user=alice, data=schedule_data(schedule_template))

    with pytest.raises(ReportInvalid) as error:
        schedule_update(user=root, schedule=schedule, data={"portfolios": ["HIDDEN"]})

    assert error.value.field == "portfolios"


def test_pause_stops_the_schedule_and_resume_starts_again_from_now(
    alice, schedule_template, clock, tasks_sent
):
    clock.set(FRIDAY_MORNING)
    schedule = schedule_create(user=alice, data=schedule_data(schedule_template))

    schedule = schedule_pause(user=alice, schedule=schedule)

    assert (schedule.enabled, schedule.next_run_at) == (False, None)
    assert schedules_dispatch(now=dt.datetime(2026, 3, 29, 12, 0, tzinfo=UTC)) == 0
    # Resumed on Monday 30 March at 13:00 BST: the slots of the weekend are not
    # made up; the next is Tuesday 08:00 BST.
    clock.set(dt.datetime(2026, 3, 30, 12, 0, tzinfo=UTC))

    schedule = schedule_resume(user=alice, schedule=schedule)

    assert (schedule.enabled, schedule.next_run_at) == (
        True,
        dt.datetime(2026, 3, 31, 7, 0, tzinfo=UTC),
    )
    assert [event.details["change"] for event in _changes()] == ["created", "paused", "resumed"]


def test_delete_removes_the_schedule_and_audits_it(alice, schedule_template):
    schedule = schedule_create(user=alice, data=schedule_data(schedule_template))
    schedule_id = schedule.pk

    schedule_delete(user=alice, schedule=schedule)

    assert not Schedule.objects.exists()
    deleted = _changes()[-1]
    assert (deleted.details["change"], deleted.target_id) == ("deleted", str(schedule_id))


def test_run_now_creates_one_manual_occurrence_per_minute_and_sends_its_task(
    alice, schedule_template, clock, tasks_sent
):
    clock.set(dt.datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    schedule = schedule_create(user=alice, data=schedule_data(schedule_template))
    clock.set(dt.datetime(2026, 4, 1, 9, 30, 42, tzinfo=UTC))

    occurrence = schedule_run_now(user=alice, schedule=schedule)
    again = schedule_run_now(user=alice, schedule=schedule)

    assert again.pk == occurrence.pk
    assert (occurrence.manual, occurrence.state) == (True, OccurrenceState.WAITING)
    assert occurrence.slot_at == dt.datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
    # The previous month on 1 April is March.
    assert (occurrence.period_start, occurrence.period_end, occurrence.period_label) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
        "March 2026",
    )
    assert tasks_sent == [("reports.occurrence_advance", (occurrence.pk,))]
    events = AuditEvent.objects.filter(action=AuditAction.SCHEDULE_RUN_REQUESTED)
    assert [event.details["created"] for event in events.order_by("id")] == [True, False]
    # The schedule's own rule is untouched.
    schedule.refresh_from_db()
    assert schedule.next_run_at == dt.datetime(2026, 3, 21, 8, 0, tzinfo=UTC)


def test_the_preview_lists_run_times_in_the_schedule_zone_across_the_spring_gap(
    alice, schedule_template
):
    schedule = schedule_create(user=alice, data=schedule_data(schedule_template, cron="30 1 * * *"))

    times = schedule_preview(
        schedule=schedule, start=dt.datetime(2026, 3, 27, 0, 0, tzinfo=UTC), count=4
    )

    # 01:30 does not exist on 29 March in London (01:00 GMT jumps to 02:00 BST):
    # that day's run is at 02:00 BST.
    assert [moment.isoformat() for moment in times] == [
        "2026-03-27T01:30:00+00:00",
        "2026-03-28T01:30:00+00:00",
        "2026-03-29T02:00:00+01:00",
        "2026-03-30T01:30:00+01:00",
    ]


def test_a_preview_of_a_bad_rule_names_its_field():
    rule = TimeRule(
        cron="0 8 * * *",
        calendar_rule=None,
        calendar_n=None,
        exchange="XNYS",
        time=None,
        timezone="Atlantis/Capital",
    )

    with pytest.raises(ReportInvalid) as error:
        schedule_preview(rule=rule, start=FRIDAY_MORNING)

    assert error.value.field == "timezone"
