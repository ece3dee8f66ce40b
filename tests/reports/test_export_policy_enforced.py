"""The export policy at every door a report file leaves by: the run page and the
API refuse a forbidden file with a 403 and a ``DOWNLOAD_REFUSED`` audit event,
a run is refused a forbidden format up front (400 naming ``formats``), a
scheduled recipient whom the policy forbids a format is refused their copy, a
signed link is refused too, and the pages do not offer what the policy forbids.

bob (trader) is on the equity desk, which may not export Excel or CSV files
here; alice (portfolio manager) is on no team."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.models import AuditAction, AuditEvent, ExportRestriction, Role
from reports.delivery_links import delivery_link_path
from reports.models import DeliveryState
from reports.services.dispatch import occurrence_fan_out
from tests.factories import UserFactory
from tests.reports.core_support import probe_install
from tests.reports.export_support import body, run_with_files
from tests.reports.schedules.delivery_support import (
    TasksSent,
    delivery_of,
    occurrence_of,
    probe_template,
    schedule_of,
)


@pytest.fixture
def desk_no_csv(desk):
    return ExportRestriction.objects.create(team=desk, file_format="csv", note="Ask compliance.")


@pytest.fixture
def bobs_run(bob, growth):
    return run_with_files(bob, portfolio=growth)


def _refusals():
    return list(AuditEvent.objects.filter(action=AuditAction.DOWNLOAD_REFUSED))


# --- downloads -------------------------------------------------------------------


def test_the_api_refuses_a_forbidden_file_with_403_and_audits_it(
    client, bob, bobs_run, desk_no_csv
):
    client.force_login(bob)

    response = client.get(
        reverse("api-report-run-file", args=[bobs_run.pk, "report.csv"]),
        REMOTE_ADDR="192.0.2.10",
    )

    assert response.status_code == 403
    sentence = "Members of the team Equity desk may not export CSV files. Ask compliance."
    assert response.json()["detail"] == sentence
    [event] = _refusals()
    assert event.actor == bob
    assert event.ip_address == "192.0.2.10"
    assert event.details["reason"] == "policy"
    assert event.details["message"] == sentence
    assert (event.details["file"], event.details["format"]) == ("report.csv", "csv")
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()

    allowed = client.get(reverse("api-report-run-file", args=[bobs_run.pk, "report.pdf"]))
    assert allowed.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_the_run_page_refuses_a_forbidden_file_with_the_403_page(
    client, bob, bobs_run, desk_no_csv
):
    client.force_login(bob)

    response = client.get(reverse("reports:run-file", args=[bobs_run.pk, "report.csv"]))

    assert response.status_code == 403
    assert "may not export CSV files" in response.content.decode()
    assert len(_refusals()) == 1


def test_a_report_kind_rule_refuses_every_file_of_such_a_report(client, bob, growth, desk):
    ExportRestriction.objects.create(team=desk, report_kind="holdings")
    holdings = run_with_files(bob, portfolio=growth, kinds=("holdings", "risk"), key="h")
    risk_only = run_with_files(bob, portfolio=growth, kinds=("risk",), key="r")
    client.force_login(bob)

    refused = client.get(reverse("api-report-run-file", args=[holdings.pk, "report.pdf"]))
    allowed = client.get(reverse("api-report-run-file", args=[risk_only.pk, "report.pdf"]))

    assert refused.status_code == 403
    assert "reports containing a holdings block" in refused.json()["detail"]
    assert allowed.status_code == 200


def test_admins_download_whatever_the_policy_says(client, growth):
    ExportRestriction.objects.create(file_format="csv")
    admin = UserFactory(username="ada", role=Role.ADMIN)
    run = run_with_files(admin, portfolio=growth)
    client.force_login(admin)

    response = client.get(reverse("api-report-run-file", args=[run.pk, "report.csv"]))

    assert response.status_code == 200
    assert body(response) == b'code,name\r\nAAA,Alpha\r\nBBB,"Beta, with a comma"\r\nCCC,Gamma\r\n'


# --- requests -------------------------------------------------------------------


def test_a_run_asking_for_a_forbidden_format_is_refused_up_front(client, bob, desk_no_csv, growth):
    client.force_login(bob)

    response = client.post(
        reverse("api-report-runs"),
        {
            "definition": {
                "name": "Mine",
                "blocks": [{"kind": "holdings"}],
                "parameters": {"scope": "portfolios", "portfolios": ["GROWTH"]},
            },
            "formats": ["pdf", "csv"],
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["formats"] == [
        "Members of the team Equity desk may not export CSV files. Ask compliance."
    ]


# --- what pages offer ----------------------------------------------------------


def test_the_run_page_offers_only_the_files_the_user_may_take(client, bob, bobs_run, desk_no_csv):
    client.force_login(bob)

    page = client.get(reverse("reports:run-detail", args=[bobs_run.pk])).content.decode()

    assert reverse("reports:run-file", args=[bobs_run.pk, "report.pdf"]) in page
    assert reverse("reports:run-file", args=[bobs_run.pk, "report.csv"]) not in page
    assert "Not allowed by the export policy" in page
    assert reverse("reports:run-files-zip", args=[bobs_run.pk]) in page  # pdf + json


def test_the_library_and_the_builder_do_not_offer_a_forbidden_format(client, bob, desk):
    ExportRestriction.objects.create(team=desk, file_format="xlsx")
    client.force_login(bob)

    library = client.get(reverse("reports:index")).content.decode()
    builder = client.get(reverse("reports:template-new")).content.decode()

    for page in (library, builder):
        assert 'value="pdf"' in page
        assert 'value="xlsx"' not in page


def test_the_schedule_form_does_not_offer_a_forbidden_format(client, bob, desk):
    ExportRestriction.objects.create(team=desk, file_format="json")
    client.force_login(bob)

    page = client.get(reverse("reports:schedule-new")).content.decode()

    assert 'name="formats" value="pdf"' in page
    assert 'name="formats" value="json"' not in page


# --- scheduled deliveries and their links ---------------------------------------


def test_a_recipient_forbidden_a_format_of_the_schedule_is_refused_their_copy(
    monkeypatch, alice, bob, carol, growth, income, desk
):
    probe_install(monkeypatch)
    TasksSent(monkeypatch)
    ExportRestriction.objects.create(team=desk, file_format="csv")
    schedule = schedule_of(probe_template(alice, growth), formats=["pdf", "csv"])
    schedule.recipient_users.add(bob, carol)

    deliveries = occurrence_fan_out(occurrence_of(schedule))

    by_recipient = {delivery.recipient: delivery for delivery in deliveries}
    refused = by_recipient[bob]
    assert refused.state == DeliveryState.REFUSED
    assert refused.error == (
        "Refused by the export policy: Members of the team Equity desk may not export CSV files."
    )
    [event] = AuditEvent.objects.filter(action=AuditAction.DELIVERY_REFUSED)
    assert event.details["recipient"] == "bob"
    assert "export policy" in event.details["reason"]


def test_a_signed_link_is_refused_when_the_policy_now_forbids_its_file(
    monkeypatch, client, alice, bob, growth, desk
):
    probe_install(monkeypatch)
    TasksSent(monkeypatch)
    schedule = schedule_of(probe_template(alice, growth))
    occurrence = occurrence_of(schedule)
    run = run_with_files(bob, portfolio=growth, key="link-run")
    delivery = delivery_of(occurrence, run, recipient=bob)
    file = run.files.get(name="report.csv")
    ExportRestriction.objects.create(team=desk, file_format="csv")

    response = client.get(delivery_link_path(delivery=delivery, file=file))

    assert response.status_code == 403
    assert "may not export CSV files" in response.content.decode()
    [event] = _refusals()
    assert event.actor == bob
    assert event.details["reason"] == "policy"
    assert event.details["delivery"] == delivery.pk


# --- the admin ------------------------------------------------------------------


def test_the_admin_keeps_the_rules_checks_the_report_kind_and_audits_changes(client, desk):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    add = reverse("admin:portal_exportrestriction_add")

    unknown = client.post(add, {"team": desk.pk, "report_kind": "no_such_block"})
    nothing = client.post(add, {"team": desk.pk})
    created = client.post(add, {"team": desk.pk, "role": "trader", "file_format": "xlsx"})

    assert unknown.status_code == nothing.status_code == 200  # the form again, with errors
    assert "no_such_block is not one of the available choices" in unknown.content.decode()
    assert "Choose a format, a report kind, or both." in nothing.content.decode()
    assert created.status_code == 302
    rule = ExportRestriction.objects.get()
    assert (rule.team, rule.role, rule.file_format, rule.report_kind) == (
        desk,
        "trader",
        "xlsx",
        "",
    )
    [event] = AuditEvent.objects.filter(action=AuditAction.EXPORT_POLICY_CHANGED)
    assert event.actor == root
    assert event.details["change"] == "created"

    client.post(reverse("admin:portal_exportrestriction_delete", args=[rule.pk]), {"post": "yes"})

    assert not ExportRestriction.objects.exists()
    assert [
        e.details["change"]
        for e in AuditEvent.objects.filter(action=AuditAction.EXPORT_POLICY_CHANGED).order_by("id")
    ] == ["created", "deleted"]
