"""The schedule pages: "My schedules", "All schedules" for administrators, the
create/edit form with its preview, a schedule's page with its occurrences and
deliveries, and the actions each offers to whom.

Alice owns "Morning pack" (08:00 London on weekdays, to bob and carol); mallory
is an outsider; olga administers the portal. The clock is fixed on Friday 27
March 2026 at 12:00 UTC, two days before London's clocks go forward.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from portal.models import AuditAction, AuditEvent, Role
from reports.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    ExternalRecipient,
    OccurrenceState,
    Schedule,
    ScheduleOccurrence,
)
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


@pytest.fixture
def pack(alice, bob, carol, growth, income, schedule_template, make_schedule):
    return make_schedule(
        alice,
        schedule_template,
        name="Morning pack",
        cron="0 8 * * 1-5",
        recipients={"users": ["bob", "carol"]},
    )


def page(client, user, url, **query):
    client.force_login(user)
    return client.get(url, query)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def form_post(**changes):
    """The form as a browser posts it: a weekday 08:00 London cron to bob's inbox."""
    data = {
        "name": "Desk pack",
        "template": "",
        "rule_kind": "cron",
        "cron": "0 8 * * 1-5",
        "calendar_rule": "every_business_day",
        "calendar_n": "1",
        "exchange": "XNYS",
        "time": "08:00",
        "timezone": "Europe/London",
        "period": "previous_month",
        "formats": ["pdf"],
        "channels": ["inbox"],
        "recipient_users": "bob",
        "recipient_emails": "",
        "webhook_url": "",
        "copies": "per_recipient",
        "ready_wait_minutes": "120",
        "incomplete_action": "send",
        "missed_action": "run_once",
        "enabled": "on",
    }
    data.update(changes)
    return data


# --- The list


def test_my_schedules_lists_the_next_run_in_its_zone_and_the_actions(client, alice, pack):
    Schedule.objects.filter(pk=pack.pk).update(last_outcome="2 sent, 1 failed")

    response = page(client, alice, reverse("reports:schedules"))

    assert response.status_code == 200
    html = text(response)
    assert "My schedules" in html
    assert "Morning pack" in html
    assert "cron 0 8 * * 1-5 · Europe/London" in html
    assert "2026-03-30 08:00 BST" in html  # Monday, the first summer-time morning
    assert "2 sent, 1 failed" in html
    row = html[html.index(f'data-schedule="{pack.id}"') :]
    assert reverse("reports:schedule-pause", args=[pack.id]) in row
    assert reverse("reports:schedule-run-now", args=[pack.id]) in row
    assert reverse("reports:schedule-edit", args=[pack.id]) in row
    assert "All schedules" not in html  # not an administrator
    # The navigation's Schedules entry is enabled and marked as the current area.
    assert re.search(r'<a href="/reports/schedules/" aria-current="page"', html)


def test_others_do_not_see_the_schedule_and_admins_see_all(client, mallory, olga, pack):
    assert "Morning pack" not in text(page(client, mallory, reverse("reports:schedules")))
    assert "Morning pack" not in text(page(client, mallory, reverse("reports:schedules"), all="1"))

    olgas_own = text(page(client, olga, reverse("reports:schedules")))
    everyone = text(page(client, olga, reverse("reports:schedules"), all="1"))

    assert "Morning pack" not in olgas_own  # "My schedules" is her own
    assert "All schedules" in olgas_own
    assert "Morning pack" in everyone
    assert "Alice" in everyone  # the owner column
    assert reverse("reports:schedule-pause", args=[pack.id]) in everyone


def test_a_paused_schedule_offers_resume(client, alice, pack):
    Schedule.objects.filter(pk=pack.pk).update(enabled=False, next_run_at=None)

    html = text(page(client, alice, reverse("reports:schedules")))

    assert reverse("reports:schedule-resume", args=[pack.id]) in html
    assert reverse("reports:schedule-pause", args=[pack.id]) not in html
    assert "paused" in html


def test_the_list_sorts_by_next_run_and_refuses_an_unknown_sort(
    client, alice, pack, schedule_template, make_schedule
):
    make_schedule(alice, schedule_template, name="Alpha evening", cron="0 18 * * *")

    by_name = text(page(client, alice, reverse("reports:schedules")))
    by_next = text(page(client, alice, reverse("reports:schedules"), sort="next"))

    assert by_name.index("Alpha evening") < by_name.index("Morning pack")
    # Alpha runs tonight at 18:00 GMT, the pack on Monday: soonest first.
    assert by_next.index("Alpha evening") < by_next.index("Morning pack")
    by_next_reversed = text(page(client, alice, reverse("reports:schedules"), sort="-next"))
    assert by_next_reversed.index("Morning pack") < by_next_reversed.index("Alpha evening")
    assert page(client, alice, reverse("reports:schedules"), sort="colour").status_code == 400


# --- The form


def test_the_new_form_previews_the_next_ten_business_days(client, alice, schedule_template):
    response = page(client, alice, reverse("reports:schedule-new"))

    assert response.status_code == 200
    html = text(response)
    preview = html[html.index('id="schedule-preview"') :]
    preview = preview[: preview.index("</ol>")]
    runs = re.findall(r"<li>(.*?)</li>", preview)
    # Every NYSE business day at 08:00 London from Friday noon: Good Friday
    # (3 April) is a holiday; London is on BST (+01:00) from Sunday.
    assert runs == [
        "Mon 2026-03-30 08:00 +01:00",
        "Tue 2026-03-31 08:00 +01:00",
        "Wed 2026-04-01 08:00 +01:00",
        "Thu 2026-04-02 08:00 +01:00",
        "Mon 2026-04-06 08:00 +01:00",
        "Tue 2026-04-07 08:00 +01:00",
        "Wed 2026-04-08 08:00 +01:00",
        "Thu 2026-04-09 08:00 +01:00",
        "Fri 2026-04-10 08:00 +01:00",
        "Mon 2026-04-13 08:00 +01:00",
    ]
    assert schedule_template.name in html  # offered as a report to schedule
    assert reverse("api-schedule-rule-preview") in html  # the refresh's endpoint


def test_creating_from_the_form(client, alice, bob, growth, schedule_template):
    client.force_login(alice)

    response = client.post(
        reverse("reports:schedule-new"),
        form_post(template=str(schedule_template.id), portfolios=["GROWTH"]),
    )

    schedule = Schedule.objects.get(name="Desk pack")
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:schedule-detail", args=[schedule.id])
    assert schedule.owner == alice
    assert schedule.cron == "0 8 * * 1-5"
    assert schedule.calendar_rule == ""
    assert schedule.parameters["portfolios"] == ["GROWTH"]
    assert list(schedule.recipient_users.values_list("username", flat=True)) == ["bob"]
    assert schedule.next_run_at == dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC)
    assert AuditEvent.objects.filter(action=AuditAction.SCHEDULE_CHANGED, actor=alice).exists()


def test_a_calendar_rule_from_the_form(client, alice, bob, schedule_template):
    client.force_login(alice)

    client.post(
        reverse("reports:schedule-new"),
        form_post(
            template=str(schedule_template.id),
            rule_kind="calendar",
            calendar_rule="nth_business_day",
            calendar_n="3",
            exchange="XNYS",
            time="09:30",
            timezone="America/New_York",
        ),
    )

    schedule = Schedule.objects.get(name="Desk pack")
    assert (schedule.cron, schedule.calendar_rule, schedule.calendar_n) == (
        "",
        "nth_business_day",
        3,
    )
    # April 2026: Wed 1, Thu 2, Good Friday closed, Mon 6 is the third; EDT.
    assert schedule.next_run_at == dt.datetime(2026, 4, 6, 13, 30, tzinfo=dt.UTC)


def test_a_bad_cron_is_shown_on_its_field_and_nothing_is_stored(
    client, alice, bob, schedule_template
):
    client.force_login(alice)

    response = client.post(
        reverse("reports:schedule-new"),
        form_post(template=str(schedule_template.id), cron="0 25 * * *"),
    )

    assert response.status_code == 400
    html = text(response)
    assert "schedule-form-errors" in html
    field = html[html.index('id="id_cron-field"') :]
    assert 'class="errorlist' in field[: field.index("</div>")]
    assert not Schedule.objects.exists()
    assert 'value="0 25 * * *"' in html  # what was typed is kept


def test_an_address_outside_the_allow_list_is_refused(client, alice, schedule_template, allow):
    allow("email_domain", "partner.example")
    client.force_login(alice)

    response = client.post(
        reverse("reports:schedule-new"),
        form_post(
            template=str(schedule_template.id),
            channels=["email"],
            recipient_users="",
            recipient_emails="ops@partner.example\nleak@elsewhere.example",
        ),
    )

    assert response.status_code == 400
    html = text(response)
    assert "leak@elsewhere.example is outside the portal" in html
    assert not Schedule.objects.exists()


def test_editing_prefills_and_saves(client, alice, pack):
    form = text(page(client, alice, reverse("reports:schedule-edit", args=[pack.id])))

    assert 'value="Morning pack"' in form
    assert 'value="0 8 * * 1-5"' in form
    assert 'value="bob, carol"' in form
    assert "Mon 2026-03-30 08:00 +01:00" in form  # the saved rule's preview

    response = client.post(
        reverse("reports:schedule-edit", args=[pack.id]),
        form_post(
            name="Evening pack",
            template=str(pack.template_id),
            cron="30 18 * * 1-5",
            recipient_users="carol",
        ),
    )

    assert response.status_code == 302
    pack.refresh_from_db()
    assert pack.name == "Evening pack"
    assert list(pack.recipient_users.values_list("username", flat=True)) == ["carol"]
    assert pack.next_run_at == dt.datetime(2026, 3, 27, 18, 30, tzinfo=dt.UTC)


def test_outsiders_cannot_edit_or_act(client, mallory, pack):
    client.force_login(mallory)

    assert client.get(reverse("reports:schedule-edit", args=[pack.id])).status_code == 404
    assert client.get(reverse("reports:schedule-detail", args=[pack.id])).status_code == 404
    for name in ("schedule-pause", "schedule-resume", "schedule-run-now", "schedule-delete"):
        assert client.post(reverse(f"reports:{name}", args=[pack.id])).status_code == 404, name
    pack.refresh_from_db()
    assert pack.enabled is True


# --- A schedule's page


@pytest.fixture
def delivered(pack, bob, carol):
    slot = dt.datetime(2026, 3, 23, 8, 0, tzinfo=dt.UTC)
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
        key=f"{pack.pk}:20260323T0800Z:u{bob.pk}:inbox:*",
        occurrence=occurrence,
        schedule=pack,
        channel=DeliveryChannel.INBOX,
        recipient=bob,
        state=DeliveryState.CONFIRMED,
        attempts=1,
        sent_at=slot + dt.timedelta(minutes=2),
        confirmed_at=slot + dt.timedelta(minutes=30),
        confirmation="inbox item read",
    )
    carols = Delivery.objects.create(
        key=f"{pack.pk}:20260323T0800Z:u{carol.pk}:email:*",
        occurrence=occurrence,
        schedule=pack,
        channel=DeliveryChannel.EMAIL,
        recipient=carol,
        state=DeliveryState.FAILED,
        attempts=5,
        error="SMTP 554: mailbox unavailable",
        failed_at=slot + dt.timedelta(minutes=25),
    )
    return bobs, carols


def test_the_schedule_page_shows_each_delivery_with_retry_on_the_failed(
    client, alice, pack, delivered
):
    bobs, carols = delivered

    response = page(client, alice, reverse("reports:schedule-detail", args=[pack.id]))

    assert response.status_code == 200
    html = text(response)
    assert "February 2026" in html
    assert "2026-03-23 08:00 GMT" in html  # the slot in London's winter time
    bob_row = html[html.index(f'data-delivery="{bobs.id}"') :]
    bob_row = bob_row[: bob_row.index("</tr>")]
    assert "Bob" in bob_row and "In-app inbox" in bob_row and "Confirmed" in bob_row
    assert "inbox item read" in bob_row
    assert "Retry" not in bob_row
    carol_row = html[html.index(f'data-delivery="{carols.id}"') :]
    carol_row = carol_row[: carol_row.index("</tr>")]
    assert "Failed" in carol_row and "SMTP 554: mailbox unavailable" in carol_row
    assert ">5<" in carol_row  # attempts
    assert reverse("reports:delivery-retry", args=[carols.id]) in carol_row
    # The next ten runs, and the owner's actions.
    assert "Mon 2026-03-30 08:00 +01:00" in html
    assert reverse("reports:schedule-run-now", args=[pack.id]) in html
    assert reverse("reports:schedule-edit", args=[pack.id]) in html


def test_an_admin_sees_the_page_with_its_actions(client, olga, pack, delivered):
    html = text(page(client, olga, reverse("reports:schedule-detail", args=[pack.id])))

    assert "Morning pack" in html
    assert reverse("reports:delivery-retry", args=[delivered[1].id]) in html


# --- Actions


def test_pause_resume_and_run_now_from_the_pages(client, alice, pack, no_tasks):
    client.force_login(alice)
    listing = reverse("reports:schedules")

    paused = client.post(reverse("reports:schedule-pause", args=[pack.id]), {"next": listing})
    assert paused.status_code == 302 and paused["Location"] == listing
    pack.refresh_from_db()
    assert (pack.enabled, pack.next_run_at) == (False, None)

    client.post(reverse("reports:schedule-resume", args=[pack.id]))
    pack.refresh_from_db()
    assert pack.enabled is True
    assert pack.next_run_at == dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC)

    ran = client.post(reverse("reports:schedule-run-now", args=[pack.id]))
    assert ran["Location"] == reverse("reports:schedule-detail", args=[pack.id])
    occurrence = ScheduleOccurrence.objects.get(schedule=pack, manual=True)
    assert ("reports.occurrence_advance", (occurrence.id,)) in no_tasks
    detail = text(client.get(ran["Location"]))
    assert "run now" in detail and "is running now" in detail


def test_an_unsafe_next_is_ignored(client, alice, pack):
    client.force_login(alice)

    response = client.post(
        reverse("reports:schedule-pause", args=[pack.id]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("reports:schedule-detail", args=[pack.id])


def test_delete_goes_back_to_the_list(client, alice, pack):
    client.force_login(alice)

    response = client.post(reverse("reports:schedule-delete", args=[pack.id]))

    assert response["Location"] == reverse("reports:schedules")
    assert not Schedule.objects.filter(pk=pack.pk).exists()


def test_retry_from_the_page_queues_the_failed_delivery(client, alice, bob, pack, delivered):
    _, carols = delivered
    client.force_login(bob)
    assert client.post(reverse("reports:delivery-retry", args=[carols.id])).status_code == 404

    client.force_login(alice)
    response = client.post(reverse("reports:delivery-retry", args=[carols.id]))

    assert response.status_code == 302
    carols.refresh_from_db()
    assert carols.state == DeliveryState.QUEUED


# --- Admin


def test_the_admin_lists_schedules_and_deliveries_and_audits_the_allow_list(
    client, pack, delivered
):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)

    for model in ("schedule", "delivery", "scheduleoccurrence", "externalrecipient"):
        assert client.get(reverse(f"admin:reports_{model}_changelist")).status_code == 200, model
    assert client.get(reverse("admin:reports_schedule_change", args=[pack.id])).status_code == 200
    assert client.get(reverse("admin:reports_schedule_add")).status_code == 403  # read-only

    response = client.post(
        reverse("admin:reports_externalrecipient_add"),
        {"kind": "email_domain", "value": " @Partner.Example ", "note": "Board pack"},
    )

    assert response.status_code == 302
    entry = ExternalRecipient.objects.get()
    assert (entry.kind, entry.value, entry.created_by) == ("email_domain", "partner.example", root)
    event = AuditEvent.objects.get(action=AuditAction.SCHEDULE_CHANGED, actor=root)
    assert event.details == {
        "change": "allow_list_added",
        "kind": "email_domain",
        "value": "partner.example",
    }
