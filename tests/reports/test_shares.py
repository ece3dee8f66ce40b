"""Sharing: levels view/run/edit to users and teams, each change audited, and a
recipient's run shows only what the recipient may see.

Alice owns GROWTH (seen by bob through the equity desk) and INCOME (granted to
carol); mallory sees neither."""

import datetime as dt
import json

import pytest

from portal.models import AuditAction, AuditEvent
from reports.errors import ReportInvalid, ReportNotFound, ReportPermissionDenied
from reports.models import ReportShare, ShareLevel
from reports.selectors import report_template_get_for_user, report_templates_visible_to
from reports.services import runs
from reports.services.runs import report_render_sync, report_run_request
from reports.services.shares import report_template_share, report_template_unshare
from reports.services.templates import report_template_create
from reports.storage import report_storage
from tests.reports.core_support import probe_install, renderers_install, snapshot_done

AS_OF = dt.date(2024, 3, 28)


@pytest.fixture(autouse=True)
def probe(monkeypatch):
    return probe_install(monkeypatch)


@pytest.fixture
def rendered(monkeypatch):
    return renderers_install(monkeypatch)


@pytest.fixture
def template(alice, growth, income, hidden):
    for portfolio in (growth, income):
        snapshot_done(portfolio, as_of=AS_OF)
    return report_template_create(
        user=alice,
        name="Alice's book",
        blocks=["probe"],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH", "INCOME", "HIDDEN"]},
    )


def _file_json(run):
    [file] = run.files.all()
    with report_storage().open(file.storage_name, "rb") as handle:
        return json.loads(handle.read())


def _share_events(template):
    return list(
        AuditEvent.objects.filter(
            target_id=str(template.pk),
            action__in=[AuditAction.SHARE, AuditAction.SHARE_CHANGED, AuditAction.SHARE_REVOKED],
        ).order_by("id")
    )


def test_the_owner_sees_every_portfolio_of_the_template_they_may_see(alice, template, rendered):
    run = report_render_sync(user=alice, template=template, formats=["json"])

    # HIDDEN is dave's: not even the owner of the template may see it.
    assert _file_json(run)["portfolios"] == ["GROWTH", "INCOME"]


def test_a_less_entitled_recipient_sees_fewer_portfolios_and_none_of_the_owners_others(
    alice, carol, template, rendered
):
    report_template_share(actor=alice, template=template, user=carol, level=ShareLevel.RUN)

    run = report_render_sync(user=carol, template=template, formats=["json"])

    document = _file_json(run)
    assert document["portfolios"] == ["INCOME"]
    assert [s["key"] for s in document["sections"]] == ["probe-INCOME"]
    text = json.dumps(document)
    assert "GROWTH" not in text and "Global Growth" not in text and "HIDDEN" not in text
    assert set(run.data) == {"INCOME"}
    assert set(run.quality) == {"INCOME"}


def test_a_team_share_runs_under_each_members_own_entitlements(
    alice, bob, desk, template, rendered
):
    report_template_share(actor=alice, template=template, team=desk, level=ShareLevel.RUN)

    run = report_render_sync(user=bob, template=template, formats=["json"])

    assert _file_json(run)["portfolios"] == ["GROWTH"]
    assert template in report_templates_visible_to(user=bob)


def test_a_recipient_naming_a_portfolio_they_may_not_see_is_refused_without_naming_others(
    alice, carol, template, rendered
):
    report_template_share(actor=alice, template=template, user=carol, level=ShareLevel.RUN)

    for code in ("GROWTH", "NO-SUCH"):
        with pytest.raises(ReportInvalid) as error:
            report_run_request(
                user=carol, template=template, formats=["json"], parameters={"portfolios": [code]}
            )
        assert error.value.message == f"No portfolio “{code}” that you may see."
        assert error.value.field == "portfolios"


def test_a_recipient_who_may_see_none_of_the_portfolios_gets_a_clear_refusal(
    alice, mallory, template
):
    report_template_share(actor=alice, template=template, user=mallory, level=ShareLevel.RUN)

    with pytest.raises(ReportInvalid, match="no portfolio that you may see"):
        report_run_request(user=mallory, template=template, formats=["json"])


def test_a_view_share_may_not_run(alice, carol, template):
    report_template_share(actor=alice, template=template, user=carol, level=ShareLevel.VIEW)

    assert report_template_get_for_user(user=carol, template=template.slug) == template
    with pytest.raises(ReportPermissionDenied):
        report_template_get_for_user(user=carol, template=template.slug, level="run")
    with pytest.raises(ReportPermissionDenied):
        report_run_request(user=carol, template=template, formats=["json"])


def test_the_highest_of_a_personal_and_a_team_share_applies(alice, bob, desk, template):
    report_template_share(actor=alice, template=template, user=bob, level=ShareLevel.VIEW)
    report_template_share(actor=alice, template=template, team=desk, level=ShareLevel.EDIT)

    assert report_template_get_for_user(user=bob, template=template.pk, level="edit") == template


def test_share_changes_are_audited(alice, carol, template):
    share = report_template_share(actor=alice, template=template, user=carol)
    report_template_share(actor=alice, template=template, user=carol)  # same level: nothing
    report_template_share(actor=alice, template=template, user=carol, level=ShareLevel.EDIT)
    share.refresh_from_db()
    report_template_unshare(actor=alice, share=share)

    events = _share_events(template)
    assert [e.action for e in events] == [
        AuditAction.SHARE,
        AuditAction.SHARE_CHANGED,
        AuditAction.SHARE_REVOKED,
    ]
    assert all(e.actor == alice for e in events)
    assert events[0].details == {"user": "carol", "team": None, "level": "view"}
    assert events[1].details == {
        "user": "carol",
        "team": None,
        "level": "edit",
        "previous_level": "view",
    }
    assert not ReportShare.objects.filter(template=template).exists()
    with pytest.raises(ReportNotFound):
        report_template_get_for_user(user=carol, template=template.pk)


def test_only_the_owner_shares(alice, carol, mallory, template):
    report_template_share(actor=alice, template=template, user=carol, level=ShareLevel.EDIT)

    with pytest.raises(ReportPermissionDenied):
        report_template_share(actor=carol, template=template, user=mallory)
    assert _share_events(template)[-1].action == AuditAction.SHARE  # carol's share only


def test_a_share_names_exactly_one_recipient(alice, carol, desk, template):
    with pytest.raises(ReportInvalid, match="one user or one team"):
        report_template_share(actor=alice, template=template, user=carol, team=desk)
    with pytest.raises(ReportInvalid, match="level must be one of"):
        report_template_share(actor=alice, template=template, user=carol, level="admin")


def test_a_share_revoked_before_the_run_renders_stops_it(alice, carol, template, rendered):
    share = report_template_share(actor=alice, template=template, user=carol, level="run")
    run = report_run_request(user=carol, template=template, formats=["json"])
    report_template_unshare(actor=alice, share=share)

    runs.report_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "carol may no longer run this template.")
    assert rendered.calls == []


def test_a_team_scope_shows_the_teams_portfolios_the_runner_may_see(
    alice, bob, carol, desk, growth, income, rendered
):
    for portfolio in (growth, income):
        snapshot_done(portfolio, as_of=AS_OF)
    team_report = report_template_create(
        user=alice,
        name="Desk book",
        blocks=["probe"],
        parameters={"scope": "team", "team": desk.pk},
    )
    for user in (bob, carol):
        report_template_share(actor=alice, template=team_report, user=user, level="run")

    run = report_render_sync(user=bob, template=team_report, formats=["json"])

    assert _file_json(run)["portfolios"] == ["GROWTH"]  # the desk's, which bob sees
    with pytest.raises(ReportInvalid, match="no portfolio that you may see"):
        report_run_request(user=carol, template=team_report, formats=["json"])
