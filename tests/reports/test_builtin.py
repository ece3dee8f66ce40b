"""The built-in templates: present after migrate, kept in step with
``reports.builtin`` (a changed definition is a new version, an unchanged one
nothing), visible to and runnable by everyone, changed by nobody."""

import copy
import logging

import pytest

from reports.blocks import CATALOG
from reports.blocks.base import Block, Option
from reports.builtin import BUILTIN_TEMPLATES
from reports.errors import ReportPermissionDenied
from reports.models import ReportTemplate
from reports.selectors import report_template_get_for_user, report_templates_visible_to
from reports.services.templates import report_template_builtin_sync, report_template_update

SLUGS = {
    "monthly-performance",
    "risk",
    "compliance",
    "trading-review",
    "executive-summary",
    "holdings",
}


def _kinds(definition):
    return [block["kind"] for block in definition["blocks"]]


def _latest_kinds(template):
    return [block["kind"] for block in template.version_latest().blocks]


@pytest.fixture
def stub_catalog(db, monkeypatch):
    """A catalog holding every kind the built-ins use (the ``by`` option of the
    exposures block included), standing in for the real blocks."""
    kinds = {kind for definition in BUILTIN_TEMPLATES for kind in _kinds(definition)}
    stubs = {
        kind: Block(
            kind=kind,
            title=kind,
            description="",
            build=lambda context: [],
            options=(Option("by", "Group by", "sector", choices=(("sector", "Sector"),)),),
        )
        for kind in kinds
    }
    monkeypatch.setattr("reports.blocks.CATALOG", stubs)
    ReportTemplate.objects.filter(is_builtin=True).delete()
    return stubs


def test_the_built_in_templates_are_present_after_migrate(db):
    builtins = {t.slug: t for t in ReportTemplate.objects.filter(is_builtin=True)}

    assert set(builtins) == SLUGS
    for definition in BUILTIN_TEMPLATES:
        template = builtins[definition["slug"]]
        assert template.owner is None
        assert _latest_kinds(template) == [kind for kind in _kinds(definition) if kind in CATALOG]


def test_the_definitions_use_only_the_catalogs_kinds_in_the_documented_order():
    by_slug = {d["slug"]: _kinds(d) for d in BUILTIN_TEMPLATES}

    assert set(by_slug) == SLUGS
    assert by_slug["monthly-performance"][0] == "performance_summary"
    assert by_slug["executive-summary"] == ["executive_summary"]
    assert by_slug["compliance"] == ["compliance", "data_quality"]
    assert by_slug["trading-review"] == ["trading_review", "trades"]
    executive = next(d for d in BUILTIN_TEMPLATES if d["slug"] == "executive-summary")
    assert executive["parameters"]["scope"] == "entitled"


def test_syncing_again_changes_nothing_and_a_changed_definition_is_a_new_version(
    stub_catalog,
):
    report_template_builtin_sync(definitions=BUILTIN_TEMPLATES)
    report_template_builtin_sync(definitions=BUILTIN_TEMPLATES)
    changed = copy.deepcopy(BUILTIN_TEMPLATES)
    risk = next(d for d in changed if d["slug"] == "risk")
    risk["blocks"] = risk["blocks"][:2]

    report_template_builtin_sync(definitions=changed)

    numbers = {
        t.slug: sorted(t.versions.values_list("number", flat=True))
        for t in ReportTemplate.objects.filter(is_builtin=True)
    }
    assert numbers == {slug: [1, 2] if slug == "risk" else [1] for slug in SLUGS}
    risk_template = ReportTemplate.objects.get(slug="risk")
    assert _latest_kinds(risk_template) == ["risk", "rolling_risk"]
    assert risk_template.versions.get(number=1).blocks[2] == {
        "kind": "exposures",
        "options": {"by": "sector"},
    }


def test_a_kind_missing_from_the_catalog_is_left_out_with_a_warning(stub_catalog, caplog):
    del stub_catalog["data_quality"]

    with caplog.at_level(logging.WARNING, logger="reports.services.templates"):
        report_template_builtin_sync(definitions=BUILTIN_TEMPLATES)

    compliance = ReportTemplate.objects.get(slug="compliance")
    assert _latest_kinds(compliance) == ["compliance"]
    assert "There is no report block “data_quality”." in caplog.text


def test_everyone_may_view_and_run_a_built_in_and_nobody_may_change_it(
    stub_catalog, mallory, alice
):
    report_template_builtin_sync(definitions=BUILTIN_TEMPLATES)
    risk = ReportTemplate.objects.get(slug="risk")

    assert set(report_templates_visible_to(user=mallory).values_list("slug", flat=True)) == SLUGS
    assert report_template_get_for_user(user=mallory, template="risk", level="run") == risk
    with pytest.raises(ReportPermissionDenied, match="clone it to make your own"):
        report_template_get_for_user(user=alice, template="risk", level="edit")
    with pytest.raises(ReportPermissionDenied, match="clone it to make your own"):
        report_template_update(user=alice, template=risk, name="Mine")
