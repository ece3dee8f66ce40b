"""Fan-out: each recipient's copy rendered under their own entitlements, team
members included, bursting per portfolio, one identical copy refused to a
recipient not entitled to all of it, and natural keys that make a repeated
fan-out create nothing.

Personas: alice owns GROWTH and INCOME; bob sees GROWTH through the equity
desk; carol sees INCOME; mallory sees neither. The slot is Monday 1 April 2024
07:00 UTC, covering March 2024."""

import datetime as dt
import json

import pytest

from portal.models import AuditAction, AuditEvent, InboxMessage
from reports.models import (
    Delivery,
    DeliveryState,
    ExternalRecipientKind,
    ReportRun,
    RunStatus,
)
from reports.services.dispatch import occurrence_fan_out
from reports.services.runs import report_run_execute
from reports.services.schedules import occurrence_create, schedule_create
from reports.services.templates import report_template_create
from reports.storage import report_storage
from tests.reports.core_support import probe_install, renderers_install, snapshot_done
from tests.reports.schedules.conftest import schedule_data

SLOT = dt.datetime(2024, 4, 1, 7, 0, tzinfo=dt.UTC)
SLOT_KEY = "20240401T0700Z"


@pytest.fixture(autouse=True)
def probe(monkeypatch):
    return probe_install(monkeypatch)


@pytest.fixture
def probe_template(alice):
    return report_template_create(
        user=alice,
        name="Probe pack",
        blocks=["probe"],
        parameters={"scope": "entitled", "period": "ytd"},
    )


@pytest.fixture
def fan_out(alice, growth, income, probe_template, clock, tasks_sent):
    """``fan_out(**fields)``: a schedule of alice's with those fields, its slot's
    occurrence, and that occurrence fanned out; returns (schedule, occurrence,
    deliveries)."""
    clock.set(dt.datetime(2024, 3, 30, 10, 0, tzinfo=dt.UTC))

    def make(**fields):
        fields.setdefault("channels", ["email", "inbox"])
        schedule = schedule_create(user=alice, data=schedule_data(probe_template, **fields))
        occurrence, _ = occurrence_create(schedule=schedule, slot_at=SLOT)
        return schedule, occurrence, occurrence_fan_out(occurrence)

    return make


def _by_key(deliveries):
    return {delivery.key: delivery for delivery in deliveries}


def _delivered(tasks_sent):
    return sorted(args[0] for name, args in tasks_sent if name == "reports.deliver")


def test_each_recipient_gets_a_copy_of_only_their_portfolios_team_members_included(
    fan_out, alice, bob, carol, tasks_sent
):
    schedule, _occurrence, deliveries = fan_out(
        recipients={"users": ["carol"], "teams": ["Equity desk"]}
    )

    prefix = f"{schedule.pk}:{SLOT_KEY}"
    by_key = _by_key(deliveries)
    assert sorted(by_key) == sorted(
        [
            f"{prefix}:u{bob.pk}:email:*",
            f"{prefix}:u{bob.pk}:inbox:*",
            f"{prefix}:u{carol.pk}:email:*",
            f"{prefix}:u{carol.pk}:inbox:*",
        ]
    )
    assert {delivery.state for delivery in deliveries} == {DeliveryState.QUEUED}
    bobs = by_key[f"{prefix}:u{bob.pk}:email:*"]
    carols = by_key[f"{prefix}:u{carol.pk}:email:*"]
    # One rendering per recipient, shared by their channels.
    assert by_key[f"{prefix}:u{bob.pk}:inbox:*"].run == bobs.run
    assert (bobs.run.run_as, bobs.run.requested_by) == (bob, alice)
    assert bobs.run.parameters["portfolios"] == ["GROWTH"]
    assert carols.run.run_as == carol
    assert carols.run.parameters["portfolios"] == ["INCOME"]
    assert bobs.run.parameters["period"] == "custom"
    assert (bobs.run.parameters["start"], bobs.run.parameters["end"]) == (
        "2024-03-01",
        "2024-03-31",
    )
    assert bobs.run.key == f"user:{alice.pk}:sched:{schedule.pk}:{SLOT_KEY}:{bob.pk}:*"
    assert bobs.run.status == RunStatus.QUEUED
    # The runs' own task is not sent: each delivery renders its run.
    assert [name for name, _ in tasks_sent if name == "reports.report_run_execute"] == []
    assert _delivered(tasks_sent) == sorted(delivery.pk for delivery in deliveries)


def test_a_copy_is_rendered_as_its_recipient(fan_out, bob, growth, income, monkeypatch):
    renderers_install(monkeypatch)
    snapshot_done(growth, as_of=dt.date(2024, 3, 28))
    snapshot_done(income, as_of=dt.date(2024, 3, 28))
    _, _, deliveries = fan_out(recipients={"users": ["bob"]}, formats=["json"])
    run = deliveries[0].run

    report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    with report_storage().open(run.files.get().storage_name, "rb") as handle:
        rendered = json.loads(handle.read())
    assert rendered["portfolios"] == ["GROWTH"]
    assert rendered["period"] == ["custom", "2024-03-01", "2024-03-31"]


def test_a_recipient_entitled_to_none_of_the_portfolios_is_refused_and_the_owner_told(
    fan_out, alice, mallory, tasks_sent
):
    _schedule, _occurrence, deliveries = fan_out(recipients={"users": ["mallory"]})

    assert {(d.channel, d.state) for d in deliveries} == {
        ("email", DeliveryState.REFUSED),
        ("inbox", DeliveryState.REFUSED),
    }
    assert deliveries[0].error == (
        "mallory is not entitled to any of the portfolios this schedule reports."
    )
    assert deliveries[0].run is None
    assert not ReportRun.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELIVERY_REFUSED).count() == 2
    [notice] = InboxMessage.objects.filter(recipient=alice)
    assert "2 deliveries refused" in notice.subject
    assert _delivered(tasks_sent) == []


def test_bursting_gives_one_copy_per_portfolio_each_recipient_may_see(fan_out, alice, bob):
    schedule, _, deliveries = fan_out(
        recipients={"users": ["alice", "bob"]}, channels=["inbox"], burst=True
    )

    prefix = f"{schedule.pk}:{SLOT_KEY}"
    by_key = _by_key(deliveries)
    assert sorted(by_key) == sorted(
        [
            f"{prefix}:u{alice.pk}:inbox:GROWTH",
            f"{prefix}:u{alice.pk}:inbox:INCOME",
            f"{prefix}:u{bob.pk}:inbox:GROWTH",
        ]
    )
    for key, delivery in by_key.items():
        code = key.rsplit(":", 1)[1]
        assert delivery.portfolio.code == code
        assert delivery.run.parameters["portfolios"] == [code]
    assert by_key[f"{prefix}:u{bob.pk}:inbox:GROWTH"].run.run_as == bob
    assert ReportRun.objects.count() == 3


def test_an_identical_copy_is_refused_to_a_recipient_not_entitled_to_all_of_it(
    fan_out, alice, bob, carol, tasks_sent
):
    _schedule, _occurrence, deliveries = fan_out(
        recipients={"users": ["alice", "bob", "carol"]}, channels=["email"], copies="identical"
    )

    by_recipient = {delivery.recipient.username: delivery for delivery in deliveries}
    owners = by_recipient["alice"]
    assert owners.state == DeliveryState.QUEUED
    assert owners.run.run_as == alice
    assert owners.run.parameters["portfolios"] == ["GROWTH", "INCOME"]
    for name in ("bob", "carol"):
        refused = by_recipient[name]
        assert refused.state == DeliveryState.REFUSED
        assert refused.run is None
        assert refused.error == (
            f"Refused: this schedule sends one identical copy, and {name} is not "
            "entitled to 1 of its 2 portfolios."
        )
    events = {
        event.details["recipient"]: event
        for event in AuditEvent.objects.filter(action=AuditAction.DELIVERY_REFUSED)
    }
    assert sorted(events) == ["bob", "carol"]
    assert events["bob"].details["not_entitled"] == ["INCOME"]
    assert events["carol"].details["not_entitled"] == ["GROWTH"]
    assert events["bob"].target_id == str(by_recipient["bob"].pk)
    [notice] = InboxMessage.objects.filter(recipient=alice)
    assert notice.subject == "“Probe pack” for March 2024: 2 deliveries refused"
    assert "bob, email" in notice.body and "not entitled to INCOME" in notice.body
    assert _delivered(tasks_sent) == [owners.pk]
    assert ReportRun.objects.count() == 1


def test_an_identical_burst_refuses_only_the_portfolios_a_recipient_may_not_see(fan_out, bob):
    _, _, deliveries = fan_out(
        recipients={"users": ["bob"]}, channels=["inbox"], copies="identical", burst=True
    )

    states = {delivery.portfolio.code: delivery.state for delivery in deliveries}
    assert states == {"GROWTH": DeliveryState.QUEUED, "INCOME": DeliveryState.REFUSED}


def test_external_addresses_and_the_webhook_get_the_owner_s_copy(fan_out, alice, allow):
    allow(ExternalRecipientKind.EMAIL_DOMAIN, "partner.example")
    allow(ExternalRecipientKind.WEBHOOK_HOST, "127.0.0.1")

    schedule, _, deliveries = fan_out(
        recipients={"emails": ["ops@partner.example"]},
        channels=["email", "webhook"],
        webhook_url="http://127.0.0.1:9000/hook",
    )

    prefix = f"{schedule.pk}:{SLOT_KEY}"
    by_key = _by_key(deliveries)
    assert sorted(by_key) == [
        f"{prefix}:http://127.0.0.1:9000/hook:webhook:*",
        f"{prefix}:ops@partner.example:email:*",
    ]
    webhook = by_key[f"{prefix}:http://127.0.0.1:9000/hook:webhook:*"]
    email = by_key[f"{prefix}:ops@partner.example:email:*"]
    assert (webhook.address, webhook.recipient, webhook.channel) == (
        "http://127.0.0.1:9000/hook",
        None,
        "webhook",
    )
    assert email.address == "ops@partner.example"
    assert email.run == webhook.run
    assert email.run.run_as == alice
    assert email.run.parameters["portfolios"] == ["GROWTH", "INCOME"]


def test_an_address_taken_off_the_allow_list_since_is_refused(
    alice, growth, probe_template, allow, clock, tasks_sent
):
    clock.set(dt.datetime(2024, 3, 30, 10, 0, tzinfo=dt.UTC))
    entry = allow(ExternalRecipientKind.EMAIL, "cfo@client.example")
    schedule = schedule_create(
        user=alice,
        data=schedule_data(
            probe_template, channels=["email"], recipients={"emails": ["cfo@client.example"]}
        ),
    )
    entry.delete()
    occurrence, _ = occurrence_create(schedule=schedule, slot_at=SLOT)

    [delivery] = occurrence_fan_out(occurrence)

    assert delivery.state == DeliveryState.REFUSED
    assert (
        delivery.error
        == "cfo@client.example is no longer on the allow-list of external recipients."
    )


def test_a_repeated_fan_out_creates_nothing_new(fan_out, alice, mallory, tasks_sent):
    _schedule, occurrence, first = fan_out(
        recipients={"users": ["alice", "mallory"], "teams": ["Equity desk"]}
    )
    sent = list(tasks_sent)
    counts = (
        Delivery.objects.count(),
        ReportRun.objects.count(),
        AuditEvent.objects.filter(action=AuditAction.DELIVERY_REFUSED).count(),
        InboxMessage.objects.count(),
    )

    again = occurrence_fan_out(occurrence)

    assert sorted(d.pk for d in again) == sorted(d.pk for d in first)
    assert (
        Delivery.objects.count(),
        ReportRun.objects.count(),
        AuditEvent.objects.filter(action=AuditAction.DELIVERY_REFUSED).count(),
        InboxMessage.objects.count(),
    ) == counts
    assert counts[:2] == (6, 2)  # alice and bob on two channels; mallory refused on two
    assert tasks_sent == sent
