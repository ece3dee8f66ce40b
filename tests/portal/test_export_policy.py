"""The export policy: who may not export which files (portal/export_policy.py).

bob is a trader on the equity desk, carol a risk manager on no team, alice a
portfolio manager; an admin and a superuser are never restricted."""

import pytest
from django.contrib.auth.models import AnonymousUser

from portal.export_policy import (
    export_formats_allowed,
    export_refusal,
    export_restriction_delete,
    export_restriction_save,
)
from portal.models import AuditAction, AuditEvent, ExportRestriction, Role
from portal.origins import RequestOrigin
from tests.factories import UserFactory

ALL_FORMATS = ["pdf", "xlsx", "csv", "parquet", "json"]


def test_nothing_is_refused_without_rules(bob):
    assert export_refusal(user=bob, file_format="xlsx") is None
    assert export_formats_allowed(user=bob, formats=ALL_FORMATS) == ALL_FORMATS


def test_a_team_rule_refuses_its_members_only(bob, carol, desk):
    ExportRestriction.objects.create(team=desk, file_format="xlsx")

    assert (
        export_refusal(user=bob, file_format="xlsx")
        == "Members of the team Equity desk may not export Excel files."
    )
    assert export_refusal(user=bob, file_format="XLSX") is not None
    assert export_refusal(user=bob, file_format="pdf") is None
    assert export_refusal(user=carol, file_format="xlsx") is None
    assert export_formats_allowed(user=bob, formats=ALL_FORMATS) == [
        "pdf",
        "csv",
        "parquet",
        "json",
    ]


def test_a_role_rule_applies_only_to_that_role_in_that_team(bob, alice, desk):
    desk.members.add(alice)
    ExportRestriction.objects.create(team=desk, role=Role.TRADER, file_format="csv")

    assert export_refusal(user=bob, file_format="csv") == (
        "Members of the team Equity desk with the role Trader may not export CSV files."
    )
    assert export_refusal(user=alice, file_format="csv") is None


def test_a_rule_for_everyone_applies_to_every_user_and_to_anonymous_links(bob, carol):
    ExportRestriction.objects.create(file_format="parquet", note="Ask the data desk.")

    sentence = "You may not export Parquet files. Ask the data desk."
    assert export_refusal(user=bob, file_format="parquet") == sentence
    assert export_refusal(user=carol, file_format="parquet") == sentence
    assert export_refusal(user=AnonymousUser(), file_format="parquet") == sentence


def test_a_role_rule_without_team_does_not_reach_anonymous_users(carol):
    ExportRestriction.objects.create(role=Role.RISK_MANAGER, file_format="json")

    assert export_refusal(user=carol, file_format="json") == (
        "Users with the role Risk manager may not export JSON files."
    )
    assert export_refusal(user=AnonymousUser(), file_format="json") is None


def test_a_report_kind_rule_refuses_only_reports_with_that_block(bob, desk):
    ExportRestriction.objects.create(team=desk, report_kind="holdings")

    assert export_refusal(user=bob, file_format="pdf", report_kinds=["holdings", "risk"]) == (
        "Members of the team Equity desk may not export files of reports containing a "
        "holdings block."
    )
    assert export_refusal(user=bob, file_format="pdf", report_kinds=["risk"]) is None
    # a tabular export that is not a report is not a report of that kind
    assert export_refusal(user=bob, file_format="csv") is None
    assert export_formats_allowed(user=bob, formats=ALL_FORMATS, report_kinds={"holdings"}) == []


def test_a_format_and_kind_rule_needs_both(bob, desk):
    ExportRestriction.objects.create(team=desk, file_format="xlsx", report_kind="trades")

    assert export_refusal(user=bob, file_format="xlsx", report_kinds=["trades"]) is not None
    assert export_refusal(user=bob, file_format="pdf", report_kinds=["trades"]) is None
    assert export_refusal(user=bob, file_format="xlsx", report_kinds=["risk"]) is None
    assert export_refusal(user=bob, file_format="xlsx") is None


def test_admins_and_superusers_are_never_restricted(db):
    ExportRestriction.objects.create(file_format="pdf")
    admin = UserFactory(username="ada", role=Role.ADMIN)
    root = UserFactory(username="root", role=Role.TRADER, is_superuser=True)

    assert export_refusal(user=admin, file_format="pdf") is None
    assert export_refusal(user=root, file_format="pdf") is None
    assert export_formats_allowed(user=admin, formats=["pdf"]) == ["pdf"]


def test_allowed_formats_cost_one_query(bob, desk, django_assert_num_queries):
    ExportRestriction.objects.create(team=desk, file_format="xlsx")
    ExportRestriction.objects.create(file_format="csv")

    with django_assert_num_queries(1):
        allowed = export_formats_allowed(user=bob, formats=ALL_FORMATS)
    assert allowed == ["pdf", "parquet", "json"]


def test_saving_and_deleting_a_rule_is_audited(desk):
    admin = UserFactory(username="ada", role=Role.ADMIN)
    origin = RequestOrigin(ip_address="10.0.0.7", user_agent="test")

    rule = export_restriction_save(
        actor=admin,
        restriction=ExportRestriction(team=desk, file_format="XLSX", note="MiFID"),
        origin=origin,
    )
    assert rule.file_format == "xlsx"
    rule.role = Role.TRADER
    export_restriction_save(actor=admin, restriction=rule, origin=origin)
    export_restriction_delete(actor=admin, restriction=rule, origin=origin)

    events = AuditEvent.objects.filter(action=AuditAction.EXPORT_POLICY_CHANGED).order_by("id")
    assert [event.details["change"] for event in events] == ["created", "changed", "deleted"]
    assert events[1].details == {
        "change": "changed",
        "team": "Equity desk",
        "role": "trader",
        "file_format": "xlsx",
        "report_kind": "",
        "note": "MiFID",
    }
    assert {event.actor_username for event in events} == {"ada"}
    assert {event.ip_address for event in events} == {"10.0.0.7"}
    assert not ExportRestriction.objects.exists()


@pytest.mark.parametrize("file_format", ALL_FORMATS)
def test_a_blank_format_rule_refuses_every_format_of_that_kind(bob, file_format):
    ExportRestriction.objects.create(report_kind="risk")

    assert export_refusal(user=bob, file_format=file_format, report_kinds=["risk"]) is not None
