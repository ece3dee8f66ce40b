"""The dispatcher claims each due slot once, collapses missed slots, and the
readiness gate keeps a slot waiting until its data has landed, then sends it
with the gaps named or holds it and tells the owner.

Worked dates: London moves to BST (UTC+1) at 01:00 UTC on Sunday 31 March 2024
and on Sunday 29 March 2026. Good Friday 29 March 2024 is a holiday on the New
York Stock Exchange, so March 2024's last business day there is Thursday 28
March, although the month ends on Sunday 31 March."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from portal.leases import RESENT, leases_sweep
from portal.models import InboxMessage
from reports.models import (
    Delivery,
    DeliveryState,
    OccurrenceState,
    RunStatus,
    Schedule,
    ScheduleOccurrence,
)
from reports.services import dispatch
from reports.services.dispatch import occurrence_advance, schedules_dispatch
from reports.services.runs import report_run_execute
from reports.services.schedules import schedule_create, schedule_run_now
from reports.services.templates import report_template_create
from tests.reports.core_support import probe_install, renderers_install, snapshot_done
from tests.reports.schedules.conftest import schedule_data

UTC = dt.UTC
ADVANCE = "reports.occurrence_advance"


def _advances(tasks_sent):
    return [args[0] for name, args in tasks_sent if name == ADVANCE]


@pytest.fixture
def daily(alice, growth, schedule_template, clock):
    """Every day at 08:00 London, created on Thursday 26 March 2026 (GMT): due
    first at 08:00 UTC on Friday 27 March."""
    clock.set(dt.datetime(2026, 3, 26, 12, 0, tzinfo=UTC))
    schedule = schedule_create(user=alice, data=schedule_data(schedule_template))
    assert schedule.next_run_at == dt.datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    return schedule


def test_a_slot_is_not_started_before_it_is_due(daily, tasks_sent):
    assert schedules_dispatch(now=dt.datetime(2026, 3, 27, 7, 59, 59, tzinfo=UTC)) == 0
    assert not ScheduleOccurrence.objects.exists()


def test_a_second_dispatch_for_the_same_slot_starts_nothing(daily, tasks_sent):
    now = dt.datetime(2026, 3, 27, 8, 0, 30, tzinfo=UTC)

    first = schedules_dispatch(now=now)
    second = schedules_dispatch(now=now)

    assert (first, second) == (1, 0)
    [occurrence] = ScheduleOccurrence.objects.all()
    assert occurrence.slot_at == dt.datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert (occurrence.state, occurrence.manual) == (OccurrenceState.WAITING, False)
    # The previous month on 27 March is February.
    assert (occurrence.period_start, occurrence.period_end, occurrence.period_label) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
        "February 2026",
    )
    assert occurrence.ready_by == dt.datetime(2026, 3, 27, 10, 0, tzinfo=UTC)  # 120 minutes
    assert occurrence.lease_holder == RESENT  # the sweeper re-sends it if its task is lost
    assert _advances(tasks_sent) == [occurrence.pk]
    daily.refresh_from_db()
    assert (daily.next_run_at, daily.last_run_at) == (
        dt.datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
        now,
    )


def test_a_dispatcher_that_read_the_slot_before_another_claimed_it_starts_nothing(
    daily, tasks_sent
):
    """Two dispatchers both saw next_run_at = 08:00; the conditional UPDATE lets
    only the first through."""
    due = daily.next_run_at
    now = dt.datetime(2026, 3, 27, 8, 0, 5, tzinfo=UTC)

    claims = [dispatch._schedule_claim(daily.pk, due, now=now) for _ in range(2)]

    assert claims == [True, False]
    assert ScheduleOccurrence.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_on_two_connections_start_the_slot_once(
    alice, growth, schedule_template, clock, tasks_sent
):
    if connection.vendor != "postgresql":
        pytest.skip("the row-lock race needs PostgreSQL")
    clock.set(dt.datetime(2026, 3, 26, 12, 0, tzinfo=UTC))
    schedule_create(user=alice, data=schedule_data(schedule_template))
    now = dt.datetime(2026, 3, 27, 8, 0, 10, tzinfo=UTC)
    start = threading.Barrier(2)
    started: list[int] = []
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            start.wait(timeout=30)
            started.append(schedules_dispatch(now=now))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(started) == [0, 1]
    assert ScheduleOccurrence.objects.count() == 1
    assert len(_advances(tasks_sent)) == 1


def test_slots_missed_while_down_run_once_for_the_latest(daily, tasks_sent):
    # Down from before Friday 08:00 until Monday 30 March 09:10 UTC: the slots of
    # Friday and Saturday (08:00 GMT), Sunday and Monday (08:00 BST = 07:00 UTC)
    # were missed.
    now = dt.datetime(2026, 3, 30, 9, 10, tzinfo=UTC)

    assert schedules_dispatch(now=now) == 1

    [occurrence] = ScheduleOccurrence.objects.all()
    assert occurrence.slot_at == dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert "missed since 2026-03-27 08:00" in occurrence.note
    daily.refresh_from_db()
    assert daily.next_run_at == dt.datetime(2026, 3, 31, 7, 0, tzinfo=UTC)
    assert schedules_dispatch(now=now) == 0


def test_slots_missed_while_down_are_skipped_when_the_schedule_says_so(daily, tasks_sent):
    Schedule.objects.filter(pk=daily.pk).update(missed_action="skip")
    now = dt.datetime(2026, 3, 30, 9, 10, tzinfo=UTC)

    assert schedules_dispatch(now=now) == 0

    assert not ScheduleOccurrence.objects.exists()
    daily.refresh_from_db()
    assert daily.next_run_at == dt.datetime(2026, 3, 31, 7, 0, tzinfo=UTC)
    assert "Skipped the slot of 2026-03-30 07:00 UTC" in daily.last_outcome
    assert tasks_sent == []


def test_a_slot_started_a_little_late_is_not_a_missed_one(daily, tasks_sent):
    Schedule.objects.filter(pk=daily.pk).update(missed_action="skip")

    # 90 seconds late: within one dispatch interval (60 s) and the grace (120 s).
    assert schedules_dispatch(now=dt.datetime(2026, 3, 27, 8, 1, 30, tzinfo=UTC)) == 1


def test_a_lost_occurrence_task_is_sent_again_by_the_lease_sweeper(daily, tasks_sent, clock):
    schedules_dispatch(now=dt.datetime(2026, 3, 27, 8, 0, 30, tzinfo=UTC))
    [occurrence] = ScheduleOccurrence.objects.all()
    tasks_sent.clear()

    # The occurrence lease is 120 s: three minutes on, nobody has claimed it.
    leases_sweep(now=occurrence.lease_expires_at + dt.timedelta(seconds=1))

    assert _advances(tasks_sent) == [occurrence.pk]


# --- the readiness gate --------------------------------------------------------------


@pytest.fixture
def probe(monkeypatch):
    return probe_install(monkeypatch)


@pytest.fixture
def first_of_month(alice, growth, probe, clock):
    """A probe report of GROWTH for the previous month, on the 1st at 08:00
    London, waiting up to 120 minutes for data. Created on 30 March 2024; its
    first slot is Monday 1 April 2024 08:00 BST (07:00 UTC), covering March."""
    template = report_template_create(
        user=alice,
        name="Month end",
        blocks=["probe"],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH"], "period": "ytd"},
    )
    clock.set(dt.datetime(2024, 3, 30, 10, 0, tzinfo=UTC))
    schedule = schedule_create(
        user=alice,
        data=schedule_data(
            template,
            cron="0 8 1 * *",
            exchange="XNYS",
            portfolios=["GROWTH"],
            recipients={"users": ["alice"]},
        ),
    )
    assert schedule.next_run_at == dt.datetime(2024, 4, 1, 7, 0, tzinfo=UTC)
    return schedule


SLOT = dt.datetime(2024, 4, 1, 7, 0, tzinfo=UTC)


def _due(schedule, tasks_sent, clock) -> ScheduleOccurrence:
    clock.set(SLOT + dt.timedelta(seconds=20))
    assert schedules_dispatch(now=SLOT + dt.timedelta(seconds=20)) == 1
    occurrence = ScheduleOccurrence.objects.get(schedule=schedule)
    assert (occurrence.period_start, occurrence.period_end) == (
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 31),
    )
    return occurrence


def test_a_slot_waits_while_its_data_has_not_reached_the_period_s_last_business_day(
    first_of_month, growth, data_status, tasks_sent, clock
):
    data_status(growth, dt.date(2024, 3, 27))
    occurrence = _due(first_of_month, tasks_sent, clock)
    clock.set(SLOT + dt.timedelta(minutes=1))

    advanced = occurrence_advance(occurrence_id=occurrence.pk)

    assert advanced.state == OccurrenceState.WAITING
    assert advanced.lease_holder == ""  # released: the next dispatch looks again
    assert advanced.incomplete == [
        "Global Growth (GROWTH): data for the period's last business day 2024-03-28 "
        "has not landed (only up to 2024-03-27)."
    ]
    assert not Delivery.objects.exists()
    tasks_sent.clear()
    schedules_dispatch(now=SLOT + dt.timedelta(minutes=2))
    assert _advances(tasks_sent) == [occurrence.pk]


def test_data_complete_on_the_last_business_day_before_a_holiday_is_ready(
    first_of_month, growth, data_status, tasks_sent, clock
):
    data_status(growth, dt.date(2024, 3, 28))  # Good Friday and the weekend follow
    occurrence = _due(first_of_month, tasks_sent, clock)

    advanced = occurrence_advance(occurrence_id=occurrence.pk)

    assert advanced.state == OccurrenceState.DELIVERING
    assert (advanced.incomplete, advanced.note) == ([], "Data complete.")
    [delivery] = Delivery.objects.all()
    assert (delivery.recipient.username, delivery.channel, delivery.state) == (
        "alice",
        "inbox",
        DeliveryState.QUEUED,
    )
    assert ("reports.deliver", (delivery.pk,)) in tasks_sent
    assert occurrence_advance(occurrence_id=occurrence.pk) is None  # moved on: safe twice


def test_after_the_deadline_an_incomplete_slot_is_sent_with_the_banner(
    first_of_month, growth, data_status, tasks_sent, clock, monkeypatch
):
    rendered = renderers_install(monkeypatch)
    snapshot_done(growth, as_of=dt.date(2024, 3, 28))
    data_status(growth, dt.date(2024, 3, 28), completeness=0.9)
    occurrence = _due(first_of_month, tasks_sent, clock)
    clock.set(SLOT + dt.timedelta(minutes=30))
    assert occurrence_advance(occurrence_id=occurrence.pk).state == OccurrenceState.WAITING
    clock.set(occurrence.ready_by + dt.timedelta(seconds=1))

    advanced = occurrence_advance(occurrence_id=occurrence.pk)

    assert advanced.state == OccurrenceState.DELIVERING
    assert advanced.incomplete == [
        "Global Growth (GROWTH): 90% of the holdings valued on 2024-03-28."
    ]
    [delivery] = Delivery.objects.all()
    run = delivery.run
    assert run.status == RunStatus.QUEUED
    assert not [name for name, _ in tasks_sent if name == "reports.report_run_execute"]
    report_run_execute(run_id=run.pk)  # what the delivery does in-process
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.incomplete == [
        "Global Growth (GROWTH): 1 day of the period with incomplete data "
        "(latest 2024-03-28, 90% complete)."
    ]
    [(_, document)] = rendered.calls
    assert (str(document.period_start), str(document.period_end)) == ("2024-03-01", "2024-03-31")


def test_after_the_deadline_a_holding_schedule_holds_the_slot_and_tells_the_owner(
    first_of_month,
    alice,
    growth,
    data_status,
    tasks_sent,
    clock,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    Schedule.objects.filter(pk=first_of_month.pk).update(incomplete_action="hold")
    data_status(growth, dt.date(2024, 3, 26))
    occurrence = _due(first_of_month, tasks_sent, clock)
    clock.set(occurrence.ready_by + dt.timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        advanced = occurrence_advance(occurrence_id=occurrence.pk)

    assert advanced.state == OccurrenceState.HELD
    assert advanced.finished_at == occurrence.ready_by + dt.timedelta(minutes=1)
    assert "2024-03-28 has not landed (only up to 2024-03-26)" in advanced.incomplete[0]
    assert not Delivery.objects.exists()
    [message] = InboxMessage.objects.filter(recipient=alice)
    assert message.subject == "“Month end” for March 2024 is held: its data is incomplete"
    assert "only up to 2024-03-26" in message.body
    [mail] = mailoutbox
    assert (mail.to, mail.subject) == ([alice.email], message.subject)
    first_of_month.refresh_from_db()
    assert first_of_month.last_outcome == "March 2024: held, the data is incomplete."


def test_run_now_does_not_wait_for_data(
    first_of_month, alice, growth, data_status, tasks_sent, clock
):
    data_status(growth, dt.date(2024, 3, 20))
    clock.set(dt.datetime(2024, 4, 2, 15, 0, tzinfo=UTC))

    occurrence = schedule_run_now(user=alice, schedule=first_of_month)
    advanced = occurrence_advance(occurrence_id=occurrence.pk)

    assert advanced.state == OccurrenceState.DELIVERING
    assert advanced.incomplete  # named, and shown in the report's banner
    assert Delivery.objects.get().occurrence == occurrence


def test_a_slot_is_done_once_none_of_its_deliveries_is_pending(
    first_of_month, growth, data_status, tasks_sent, clock
):
    data_status(growth, dt.date(2024, 3, 28))
    occurrence = _due(first_of_month, tasks_sent, clock)
    occurrence_advance(occurrence_id=occurrence.pk)
    Delivery.objects.update(state=DeliveryState.SENT)

    schedules_dispatch(now=SLOT + dt.timedelta(minutes=5))

    occurrence.refresh_from_db()
    assert occurrence.state == OccurrenceState.DONE
    first_of_month.refresh_from_db()
    assert first_of_month.last_outcome == "March 2024: 1 delivered."
