"""Templates and their versions: every edit is a new version, checked against the
block catalog and audited; a run names the version and the data it rendered."""

import datetime as dt

import pytest

from portal.models import AuditAction, AuditEvent
from reports.errors import ReportInvalid, ReportNotFound, ReportPermissionDenied
from reports.models import ReportTemplate, ShareLevel
from reports.selectors import report_template_get_for_user, report_templates_visible_to
from reports.services.runs import report_render_sync
from reports.services.shares import report_template_share
from reports.services.templates import (
    report_template_clone,
    report_template_create,
    report_template_delete,
    report_template_update,
)
from tests.reports.core_support import (
    probe_install,
    renderers_install,
    snapshot_done,
)

AS_OF = dt.date(2024, 3, 28)


@pytest.fixture(autouse=True)
def probe(monkeypatch):
    return probe_install(monkeypatch)


@pytest.fixture
def template(alice, growth):
    return report_template_create(
        user=alice,
        name="Growth monthly",
        blocks=[{"kind": "probe", "options": {"label": "one"}}],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH"], "period": "mtd"},
        layout={"orientation": "landscape"},
    )


def _audits(template):
    return list(
        AuditEvent.objects.filter(
            action=AuditAction.REPORT_TEMPLATE_CHANGED, target_id=str(template.pk)
        ).order_by("id")
    )


def test_a_new_template_has_version_one_and_an_audit_event(alice, template):
    version = template.version_latest()

    assert template.slug == "growth-monthly"
    assert template.owner == alice
    assert version.number == 1
    assert version.blocks == [{"kind": "probe", "options": {"label": "one"}}]
    assert version.parameters["portfolios"] == ["GROWTH"]
    assert version.layout["orientation"] == "landscape"
    assert version.layout["cover_page"] is True  # the Layout default filled in
    [event] = _audits(template)
    assert event.actor == alice
    assert event.details == {"change": "created", "version": 1}


def test_every_edit_is_a_new_version_and_old_ones_stay(alice, template):
    second = report_template_update(
        user=alice, template=template, blocks=[{"kind": "probe", "options": {"label": "two"}}]
    )
    third = report_template_update(user=alice, template=template, name="Growth, monthly")

    assert [v.number for v in template.versions.order_by("number")] == [1, 2, 3]
    first = template.versions.get(number=1)
    assert first.blocks == [{"kind": "probe", "options": {"label": "one"}}]
    assert second.blocks == [{"kind": "probe", "options": {"label": "two"}}]
    assert third.blocks == second.blocks  # a rename keeps the blocks
    assert third.name == "Growth, monthly"
    template.refresh_from_db()
    assert template.name == "Growth, monthly"
    assert [e.details["version"] for e in _audits(template)] == [1, 2, 3]
    assert _audits(template)[2].details["fields"] == ["name"]


def test_a_block_that_is_not_in_the_catalog_is_refused(alice, template):
    with pytest.raises(ReportInvalid) as error:
        report_template_update(user=alice, template=template, blocks=[{"kind": "horoscope"}])

    assert error.value.field == "blocks"
    assert error.value.message == "There is no report block “horoscope”."
    assert template.versions.count() == 1


def test_an_option_outside_its_choices_is_refused(alice, template):
    with pytest.raises(ReportInvalid, match=r"“Label” must be one of: one, two\."):
        report_template_update(
            user=alice, template=template, blocks=[{"kind": "probe", "options": {"label": "9"}}]
        )


def test_an_unknown_option_is_refused(alice):
    with pytest.raises(ReportInvalid, match="has no option “colour”"):
        report_template_create(
            user=alice, name="X", blocks=[{"kind": "probe", "options": {"colour": "red"}}]
        )


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"scope": "everyone"}, "scope"),
        ({"scope": "portfolios", "portfolios": []}, "portfolios"),
        ({"period": "fortnight"}, "period"),
        ({"period": "custom", "start": "2024-03-01"}, "period"),
        ({"benchmark": "NO-SUCH-INDEX"}, "benchmark"),
        ({"reporting_currency": "dollars"}, "reporting_currency"),
        ({"colour": "red"}, "parameters"),
    ],
)
def test_bad_parameters_are_refused_with_the_field_named(alice, parameters, field):
    with pytest.raises(ReportInvalid) as error:
        report_template_create(user=alice, name="X", blocks=["probe"], parameters=parameters)

    assert error.value.field == field


def test_a_layout_outside_its_options_is_refused(alice):
    with pytest.raises(ReportInvalid, match="hex colour"):
        report_template_create(
            user=alice, name="X", blocks=["probe"], layout={"accent_colour": "red"}
        )


def test_two_templates_with_one_name_get_distinct_slugs(alice, bob):
    first = report_template_create(user=alice, name="Risk review", blocks=["probe"])
    second = report_template_create(user=bob, name="Risk review", blocks=["probe"])

    assert (first.slug, second.slug) == ("risk-review", "risk-review-2")


def test_a_viewer_may_not_edit_and_an_outsider_finds_nothing(alice, carol, mallory, template):
    report_template_share(actor=alice, template=template, user=carol, level=ShareLevel.VIEW)

    with pytest.raises(ReportPermissionDenied):
        report_template_get_for_user(user=carol, template=template.slug, level="edit")
    with pytest.raises(ReportPermissionDenied):
        report_template_update(user=carol, template=template, name="Mine now")
    with pytest.raises(ReportNotFound):
        report_template_get_for_user(user=mallory, template=template.pk)
    with pytest.raises(ReportNotFound):
        report_template_get_for_user(user=mallory, template="no-such-template")
    assert template not in report_templates_visible_to(user=mallory)


def test_an_editor_makes_new_versions_but_may_not_delete(alice, carol, template):
    report_template_share(actor=alice, template=template, user=carol, level=ShareLevel.EDIT)

    version = report_template_update(user=carol, template=template, description="Carol's notes")

    assert version.number == 2
    assert version.created_by == carol
    with pytest.raises(ReportPermissionDenied):
        report_template_delete(user=carol, template=template)


def test_a_clone_is_the_viewers_own_copy(alice, carol, template):
    report_template_share(actor=alice, template=template, user=carol, level=ShareLevel.VIEW)

    copy = report_template_clone(user=carol, template=template)

    assert copy.owner == carol
    assert copy.name == "Growth monthly (copy)"
    assert copy.version_latest().blocks == template.version_latest().blocks
    assert copy.shares.count() == 0
    assert _audits(copy)[0].details["change"] == "cloned"


def test_the_owner_deletes_a_template_and_its_runs_stay(alice, growth, template, monkeypatch):
    renderers_install(monkeypatch)
    snapshot_done(growth, as_of=AS_OF)
    run = report_render_sync(user=alice, template=template, formats=["json"])
    template_id = template.pk

    report_template_delete(user=alice, template=template)

    assert not ReportTemplate.objects.filter(pk=template_id).exists()
    run.refresh_from_db()
    assert (run.template, run.title, run.status) == (None, "Growth monthly", "succeeded")
    deleted = AuditEvent.objects.filter(
        action=AuditAction.REPORT_TEMPLATE_CHANGED, target_id=str(template_id)
    ).first()
    assert deleted.details == {"change": "deleted", "slug": "growth-monthly"}


def test_a_run_records_its_version_and_each_portfolios_data(alice, growth, template, monkeypatch):
    renderers_install(monkeypatch)
    growth.data_version = 7
    growth.save()
    snapshot = snapshot_done(growth, as_of=AS_OF)
    first_run = report_render_sync(user=alice, template=template, formats=["json"])
    report_template_update(
        user=alice, template=template, blocks=[{"kind": "probe", "options": {"label": "two"}}]
    )

    second_run = report_render_sync(user=alice, template=template, formats=["json"])

    assert first_run.version.number == 1
    assert second_run.version.number == 2
    assert second_run.data == {
        "GROWTH": {
            "data_version": 7,
            "snapshot_id": snapshot.pk,
            "as_of": "2024-03-28",
            "stale": False,
            "period_start": "2024-03-01",
            "period_end": "2024-03-28",
        }
    }
    assert second_run.data_as_of == AS_OF
    assert second_run.parameters["period"] == "mtd"
