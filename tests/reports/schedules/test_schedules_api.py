"""The schedules and deliveries REST API, as scripts use it.

Alice owns "Monthly pack" and schedules it; bob (the equity desk, GROWTH) and
carol (INCOME) receive it; mallory is an outsider; olga administers the portal.
The clock is fixed on Friday 27 March 2026, 12:00 UTC, two days before London
moves to summer time (Sunday 29 March 2026, 01:00 UTC) and after New York did
(Sunday 8 March 2026), so offsets are worked out by hand below.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from portal.models import AuditAction, AuditEvent, Role
from reports.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    OccurrenceState,
    Schedule,
    ScheduleOccurrence,
)
from tests.api_tokens import token_header
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FRIDAY_NOON = dt.datetime(2026, 3, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def friday(clock):
    return clock.set(FRIDAY_NOON)


@pytest.fixture(autouse=True)
def no_tasks(tasks_sent):
    return tasks_sent


@pytest.fixture
def olga(db):
    return UserFactory(username="olga", role=Role.ADMIN, is_staff=True)


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def body(of_template, **fields):
    """The issue's example body for ``of_template``, with ``fields`` changed."""
    data = {
        "template": of_template.slug,
        "portfolios": ["GROWTH"],
        "cron": "0 8 * * 1-5",
        "calendar_rule": None,
        "exchange": "XNYS",
        "time": None,
        "timezone": "Europe/London",
        "period": "previous_month",
        "formats": ["pdf"],
        "channels": ["email", "inbox"],
        "recipients": {"users": ["bob"], "teams": [], "emails": []},
        "burst": False,
    }
    data.update(fields)
    return data


@pytest.fixture
def pack(alice, bob, carol, growth, income, schedule_template, make_schedule):
    """Alice's schedule of her template: 08:00 London on weekdays, to bob and carol."""
    return make_schedule(
        alice,
        schedule_template,
        name="Morning pack",
        cron="0 8 * * 1-5",
        recipients={"users": ["bob", "carol"]},
    )


# --- Creating


def test_create_answers_201_with_the_next_run_in_the_schedules_zone(
    alice, bob, desk, growth, schedule_template, allow
):
    allow("email_domain", "partner.example")
    sent = body(
        schedule_template,
        name="Growth for the desk",
        recipients={"users": ["bob"], "teams": ["Equity desk"], "emails": ["ops@partner.example"]},
    )

    response = api(alice).post("/api/schedules/", sent, format="json")

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["name"] == "Growth for the desk"
    assert created["owner"] == "alice"
    assert created["template"]["slug"] == schedule_template.slug
    assert created["portfolios"] == ["GROWTH"]
    assert created["cron"] == "0 8 * * 1-5"
    assert created["calendar_rule"] is None
    assert created["timezone"] == "Europe/London"
    assert created["recipients"] == {
        "users": ["bob"],
        "teams": ["Equity desk"],
        "emails": ["ops@partner.example"],
    }
    assert created["enabled"] is True
    # Friday 12:00 UTC is past Friday's 08:00; the next weekday is Monday 30 March,
    # after the clocks went forward: 08:00 BST is 07:00 UTC.
    assert created["next_run_at"] == "2026-03-30T08:00:00+01:00"
    assert len(created["webhook_secret"]) >= 40
    schedule = Schedule.objects.get(id=created["id"])
    assert schedule.owner == alice
    assert schedule.next_run_at == dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC)
    event = AuditEvent.objects.get(action=AuditAction.SCHEDULE_CHANGED)
    assert event.actor == alice
    assert event.details["change"] == "created"


def test_a_calendar_rule_schedule_is_created_with_its_local_time(alice, growth, schedule_template):
    sent = body(
        schedule_template,
        cron=None,
        calendar_rule="nth_business_day:3",
        exchange="XNYS",
        time="09:30",
        timezone="America/New_York",
    )

    response = api(alice).post("/api/schedules/", sent, format="json")

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["cron"] is None
    assert created["calendar_rule"] == "nth_business_day:3"
    assert created["time"] == "09:30"
    # April 2026 on the NYSE: Wed 1, Thu 2, then Good Friday (3 April) is a
    # holiday, so the third business day is Monday 6 April; New York is on EDT.
    assert created["next_run_at"] == "2026-04-06T09:30:00-04:00"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cron": "0 8 * *"}, "cron"),
        ({"cron": "61 8 * * *"}, "cron"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        (
            {
                "cron": None,
                "calendar_rule": "every_business_day",
                "time": "08:00",
                "exchange": "XMARS",
            },
            "exchange",
        ),
        ({"cron": None, "calendar_rule": "fortnightly", "time": "08:00"}, "calendar_rule"),
        ({"period": "last_fortnight"}, "period"),
        ({"recipients": {"emails": ["someone@elsewhere.example"]}}, "recipients"),
        ({"recipients": {"users": ["nobody-by-that-name"]}}, "recipients"),
        (
            {"channels": ["webhook"], "webhook_url": "https://hooks.elsewhere.example/in"},
            "webhook_url",
        ),
        ({"template": "no-such-template"}, "template"),
        ({"portfolios": ["HIDDEN"]}, "portfolios"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_and_nothing_is_stored(
    alice, bob, growth, hidden, schedule_template, changes, field
):
    response = api(alice).post("/api/schedules/", body(schedule_template, **changes), format="json")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field], errors
    assert errors[field] and isinstance(errors[field][0], str)
    assert not Schedule.objects.exists()


def test_an_allowed_external_address_is_accepted(alice, growth, schedule_template, allow):
    allow("email", "cfo@board.example")
    sent = body(schedule_template, channels=["email"], recipients={"emails": ["CFO@board.example"]})

    response = api(alice).post("/api/schedules/", sent, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["recipients"]["emails"] == ["cfo@board.example"]


def test_a_malformed_body_is_a_400_before_the_service(alice, schedule_template):
    response = api(alice).post(
        "/api/schedules/", body(schedule_template, burst="sometimes"), format="json"
    )

    assert response.status_code == 400
    assert "burst" in response.json()


def test_the_api_needs_a_login_and_takes_a_token(alice, pack):
    assert api().get("/api/schedules/").status_code in (401, 403)

    client = APIClient()
    client.credentials(**token_header(alice))
    response = client.get("/api/schedules/")

    assert response.status_code == 200
    assert [s["name"] for s in response.json()["results"]] == ["Morning pack"]


# --- Scoping


def test_others_schedules_are_404_and_admins_see_all(alice, bob, mallory, olga, pack):
    mallorys = api(mallory)
    for url in (
        f"/api/schedules/{pack.id}/",
        f"/api/schedules/{pack.id}/preview/",
        f"/api/schedules/{pack.id}/occurrences/",
    ):
        assert mallorys.get(url).status_code == 404, url
    assert (
        mallorys.patch(f"/api/schedules/{pack.id}/", {"name": "Mine"}, format="json").status_code
        == 404
    )
    assert mallorys.post(f"/api/schedules/{pack.id}/run-now/").status_code == 404
    assert mallorys.post(f"/api/schedules/{pack.id}/pause/").status_code == 404
    assert mallorys.delete(f"/api/schedules/{pack.id}/").status_code == 404
    # A recipient does not own the schedule either.
    assert api(bob).get(f"/api/schedules/{pack.id}/").status_code == 404
    assert mallorys.get("/api/schedules/").json()["results"] == []
    assert api(bob).get("/api/schedules/").json()["results"] == []

    admins = api(olga).get("/api/schedules/").json()["results"]
    assert [(s["name"], s["owner"]) for s in admins] == [("Morning pack", "alice")]
    assert api(olga).get(f"/api/schedules/{pack.id}/").status_code == 200
    paused = api(olga).post(f"/api/schedules/{pack.id}/pause/")
    assert paused.status_code == 200
    assert paused.json()["enabled"] is False
    Schedule.objects.get(id=pack.id)  # still there: nothing else was changed


# --- Changing, pausing, resuming, deleting


def test_patch_changes_the_rule_and_recomputes_the_next_run(alice, pack):
    response = api(alice).patch(
        f"/api/schedules/{pack.id}/", {"cron": "15 18 * * *"}, format="json"
    )

    assert response.status_code == 200, response.json()
    changed = response.json()
    assert changed["cron"] == "15 18 * * *"
    assert changed["recipients"]["users"] == ["bob", "carol"]  # untouched fields stay
    # 18:15 on Friday 27 March in London is still GMT: 18:15 UTC, after noon.
    assert changed["next_run_at"] == "2026-03-27T18:15:00+00:00"


def test_a_bad_patch_is_a_400_and_changes_nothing(alice, pack):
    response = api(alice).patch(
        f"/api/schedules/{pack.id}/", {"timezone": "Europe/Atlantis"}, format="json"
    )

    assert response.status_code == 400
    assert "timezone" in response.json()
    pack.refresh_from_db()
    assert pack.timezone == "Europe/London"


def test_pause_then_resume(alice, pack, clock):
    paused = api(alice).post(f"/api/schedules/{pack.id}/pause/")

    assert paused.status_code == 200
    assert paused.json()["enabled"] is False
    assert paused.json()["next_run_at"] is None

    # Resumed on Monday 30 March at 07:30 UTC (08:30 BST): Monday's 08:00 has
    # passed while paused and is not made up; the next is Tuesday 08:00 BST.
    clock.set(dt.datetime(2026, 3, 30, 7, 30, tzinfo=dt.UTC))
    resumed = api(alice).post(f"/api/schedules/{pack.id}/resume/")

    assert resumed.status_code == 200
    assert resumed.json()["enabled"] is True
    assert resumed.json()["next_run_at"] == "2026-03-31T08:00:00+01:00"


def test_delete_answers_204(alice, pack):
    response = api(alice).delete(f"/api/schedules/{pack.id}/")

    assert response.status_code == 204
    assert not Schedule.objects.filter(id=pack.id).exists()


# --- Preview


def test_preview_lists_run_times_with_their_utc_offsets_across_the_change(
    alice, schedule_template, make_schedule, growth
):
    daily = make_schedule(alice, schedule_template, cron="0 8 * * *", timezone="Europe/London")

    response = api(alice).get(f"/api/schedules/{daily.id}/preview/", {"from": "2026-03-27", "n": 4})

    assert response.status_code == 200
    assert response.json() == {
        "timezone": "Europe/London",
        "runs": [
            "2026-03-27T08:00:00+00:00",
            "2026-03-28T08:00:00+00:00",
            "2026-03-29T08:00:00+01:00",  # the first morning of summer time
            "2026-03-30T08:00:00+01:00",
        ],
    }


def test_preview_from_a_day_includes_a_run_at_its_midnight(
    alice, schedule_template, make_schedule, growth
):
    midnight = make_schedule(alice, schedule_template, cron="0 0 * * *", timezone="Asia/Tokyo")

    response = api(alice).get(
        f"/api/schedules/{midnight.id}/preview/", {"from": "2026-07-01", "n": 2}
    )

    assert response.json()["runs"] == ["2026-07-01T00:00:00+09:00", "2026-07-02T00:00:00+09:00"]


def test_preview_of_a_market_calendar_rule(alice, schedule_template, make_schedule, growth):
    month_end = make_schedule(
        alice,
        schedule_template,
        cron=None,
        calendar_rule="last_business_day_of_month",
        exchange="XNYS",
        time="17:00",
        timezone="America/New_York",
    )

    response = api(alice).get(
        f"/api/schedules/{month_end.id}/preview/", {"from": "2026-03-01", "n": 3}
    )

    # Tuesday 31 March, Thursday 30 April, Friday 29 May 2026 (all trading days).
    assert response.json()["runs"] == [
        "2026-03-31T17:00:00-04:00",
        "2026-04-30T17:00:00-04:00",
        "2026-05-29T17:00:00-04:00",
    ]


def test_preview_defaults_to_ten_runs_from_now(alice, pack):
    runs = api(alice).get(f"/api/schedules/{pack.id}/preview/").json()["runs"]

    # Weekdays at 08:00 from Friday noon: Mon 30 Mar ... Fri 10 Apr, ten of them.
    assert len(runs) == 10
    assert runs[0] == "2026-03-30T08:00:00+01:00"
    assert runs[-1] == "2026-04-10T08:00:00+01:00"


@pytest.mark.parametrize(
    ("query", "field"),
    [({"from": "27/03/2026"}, "from"), ({"n": "0"}, "n"), ({"n": "ten"}, "n"), ({"n": "101"}, "n")],
)
def test_a_bad_preview_query_is_a_400_naming_it(alice, pack, query, field):
    response = api(alice).get(f"/api/schedules/{pack.id}/preview/", query)

    assert response.status_code == 400
    assert field in response.json()


def test_an_unsaved_rule_is_previewed_for_the_form(alice):
    response = api(alice).get(
        "/api/schedules/preview/",
        {
            "calendar_rule": "last_business_day_of_quarter",
            "exchange": "XLON",
            "time": "18:00",
            "timezone": "Europe/London",
            "n": 2,
        },
    )

    assert response.status_code == 200, response.json()
    # Q1 2026 ends on Tuesday 31 March (BST); Q2 on Tuesday 30 June.
    assert response.json()["runs"] == ["2026-03-31T18:00:00+01:00", "2026-06-30T18:00:00+01:00"]

    bad = api(alice).get("/api/schedules/preview/", {"cron": "every day", "timezone": "UTC"})
    assert bad.status_code == 400
    assert "cron" in bad.json()


# --- Run now


def test_run_now_answers_202_with_a_manual_occurrence(alice, pack, no_tasks):
    response = api(alice).post(f"/api/schedules/{pack.id}/run-now/")

    assert response.status_code == 202, response.json()
    occurrence = response.json()
    assert occurrence["schedule"] == pack.id
    assert occurrence["manual"] is True
    # "Previous month" on Friday 27 March 2026 is February 2026.
    assert occurrence["period_start"] == "2026-02-01"
    assert occurrence["period_end"] == "2026-02-28"
    assert ScheduleOccurrence.objects.filter(schedule=pack, manual=True).count() == 1
    assert ("reports.occurrence_advance", (occurrence["id"],)) in no_tasks
    assert AuditEvent.objects.filter(
        action=AuditAction.SCHEDULE_RUN_REQUESTED, actor=alice
    ).exists()


# --- Deliveries


@pytest.fixture
def delivered(pack, bob, carol):
    """Monday's slot: bob's inbox copy confirmed by his read, carol's e-mail failed
    after three attempts."""
    slot = dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC)
    occurrence = ScheduleOccurrence.objects.create(
        schedule=pack,
        slot_at=slot,
        period_start=dt.date(2026, 2, 1),
        period_end=dt.date(2026, 2, 28),
        period_label="February 2026",
        state=OccurrenceState.DONE,
        ready_by=slot + dt.timedelta(hours=2),
    )
    bobs = Delivery.objects.create(
        key=f"{pack.pk}:20260330T0700Z:u{bob.pk}:inbox:*",
        occurrence=occurrence,
        schedule=pack,
        channel=DeliveryChannel.INBOX,
        recipient=bob,
        state=DeliveryState.CONFIRMED,
        attempts=1,
        sent_at=slot + dt.timedelta(minutes=3),
        confirmed_at=slot + dt.timedelta(minutes=40),
        confirmation="inbox item read",
    )
    carols = Delivery.objects.create(
        key=f"{pack.pk}:20260330T0700Z:u{carol.pk}:email:*",
        occurrence=occurrence,
        schedule=pack,
        channel=DeliveryChannel.EMAIL,
        recipient=carol,
        state=DeliveryState.FAILED,
        attempts=3,
        error="SMTP 554: mailbox unavailable",
        failed_at=slot + dt.timedelta(minutes=20),
    )
    return bobs, carols


def test_deliveries_of_a_schedule_with_state_attempts_and_confirmation(alice, pack, delivered):
    bobs, carols = delivered

    response = api(alice).get("/api/deliveries/", {"schedule": pack.id})

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {bobs.id, carols.id}
    assert rows[bobs.id]["recipient"] == "bob"
    assert rows[bobs.id]["channel"] == "inbox"
    assert rows[bobs.id]["state"] == "confirmed"
    assert rows[bobs.id]["attempts"] == 1
    assert rows[bobs.id]["confirmation"] == "inbox item read"
    assert rows[bobs.id]["confirmed_at"] is not None
    assert rows[bobs.id]["period_label"] == "February 2026"
    assert rows[carols.id]["state"] == "failed"
    assert rows[carols.id]["attempts"] == 3
    assert rows[carols.id]["error"] == "SMTP 554: mailbox unavailable"
    assert rows[carols.id]["confirmation"] == ""

    failed = api(alice).get("/api/deliveries/", {"schedule": pack.id, "state": "failed"})
    assert [row["id"] for row in failed.json()["results"]] == [carols.id]


def test_a_recipient_sees_only_their_own_deliveries_an_outsider_none(
    bob, mallory, olga, pack, delivered
):
    bobs, carols = delivered

    assert [r["id"] for r in api(bob).get("/api/deliveries/").json()["results"]] == [bobs.id]
    assert api(bob).get(f"/api/deliveries/{carols.id}/").status_code == 404
    assert api(bob).get(f"/api/deliveries/{bobs.id}/").json()["state"] == "confirmed"
    assert api(mallory).get("/api/deliveries/", {"schedule": pack.id}).json()["results"] == []
    assert api(mallory).get(f"/api/deliveries/{bobs.id}/").status_code == 404
    everyone = api(olga).get("/api/deliveries/").json()["results"]
    assert {r["id"] for r in everyone} == {bobs.id, carols.id}


def test_a_bad_deliveries_filter_is_a_400(alice, pack):
    assert "schedule" in api(alice).get("/api/deliveries/", {"schedule": "morning"}).json()
    assert "state" in api(alice).get("/api/deliveries/", {"state": "lost"}).json()


def test_retry_is_for_the_owner_and_queues_the_failed_delivery(alice, bob, pack, delivered):
    bobs, carols = delivered

    assert api(bob).post(f"/api/deliveries/{carols.id}/retry/").status_code == 404  # not his
    assert api(bob).post(f"/api/deliveries/{bobs.id}/retry/").status_code == 403  # his, read-only

    response = api(alice).post(f"/api/deliveries/{carols.id}/retry/")

    assert response.status_code == 202, response.json()
    assert response.json()["state"] == "queued"
    carols.refresh_from_db()
    assert carols.state == DeliveryState.QUEUED


# --- Schema


def test_the_schema_documents_schedules_and_deliveries_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/schedules/:",
        "/api/schedules/{schedule_id}/:",
        "/api/schedules/{schedule_id}/preview/:",
        "/api/schedules/{schedule_id}/run-now/:",
        "/api/schedules/{schedule_id}/pause/:",
        "/api/schedules/{schedule_id}/resume/:",
        "/api/deliveries/:",
        "/api/deliveries/{delivery_id}/retry/:",
    ):
        assert path in schema, path
