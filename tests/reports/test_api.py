"""The reports REST API: alice owns templates and shares them; bob sees GROWTH
through his desk, carol sees INCOME personally, mallory sees nothing of alice's.

Runs are requested (202) and, where a test needs files, executed in process with
renderers that write the document as JSON (``tests.reports.core_support``), so
what is tested here is the API: scoping, status codes, field errors, the audited
download and the schema."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from portal.models import AuditAction, AuditEvent
from reports.blocks import CATALOG
from reports.models import ReportRun, ReportShare, ReportTemplate, RunStatus
from reports.services.runs import report_run_execute
from reports.services.templates import report_template_create
from tests.reports.core_support import PROBE, probe_install, renderers_install, snapshot_done

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 6, 28)


@pytest.fixture
def probe(monkeypatch):
    return probe_install(monkeypatch)


@pytest.fixture(autouse=True)
def report_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "reports")},
        },
    }


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def book(alice, growth, income, probe):
    """Alice's template over both of her portfolios."""
    return report_template_create(
        user=alice,
        name="Book review",
        blocks=[{"kind": PROBE, "options": {"label": "two"}}],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH", "INCOME"], "period": "ytd"},
    )


def definition(**overrides):
    body = {
        "name": "Quarterly book",
        "description": "For the board",
        "blocks": [{"kind": PROBE, "options": {}}],
        "parameters": {"scope": "portfolios", "portfolios": ["GROWTH"], "period": "qtd"},
        "layout": {"orientation": "landscape", "cover_page": False},
    }
    return {**body, **overrides}


# --- The catalog


def test_catalog_lists_every_block_with_its_options(alice, probe):
    response = api(alice).get("/api/reports/blocks/")

    assert response.status_code == 200
    blocks = response.json()
    assert [block["kind"] for block in blocks] == list(CATALOG)
    entry = next(block for block in blocks if block["kind"] == PROBE)
    assert entry["title"] == "Probe"
    assert entry["per_portfolio"] is True
    assert entry["options"] == [
        {
            "name": "label",
            "label": "Label",
            "default": "one",
            "choices": [{"value": "one", "label": "One"}, {"value": "two", "label": "Two"}],
        }
    ]


def test_catalog_needs_a_login(probe):
    assert api().get("/api/reports/blocks/").status_code in (401, 403)


# --- Templates: CRUD and versions


def test_create_read_update_delete_with_a_version_per_edit(alice, growth, probe):
    client = api(alice)

    created = client.post("/api/reports/templates/", definition(), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["slug"] == "quarterly-book"
    assert body["version"] == 1
    assert body["access"] == "owner"
    assert body["owner"] == "alice"
    assert body["parameters"]["portfolios"] == ["GROWTH"]
    assert body["layout"]["orientation"] == "landscape"
    assert body["layout"]["accent_colour"] == "#1f4e79"  # the default filled in

    by_slug = client.get("/api/reports/templates/quarterly-book/")
    by_id = client.get(f"/api/reports/templates/{body['id']}/")
    assert by_slug.json() == by_id.json()

    renamed = client.patch(
        "/api/reports/templates/quarterly-book/",
        {"name": "Quarterly book (board)", "parameters": {"period": "ytd"}},
        format="json",
    )
    assert renamed.status_code == 200, renamed.json()
    assert renamed.json()["version"] == 2
    assert renamed.json()["name"] == "Quarterly book (board)"
    # A partial parameters object changes only the key it names.
    assert renamed.json()["parameters"]["period"] == "ytd"
    assert renamed.json()["parameters"]["portfolios"] == ["GROWTH"]

    replaced = client.put(
        f"/api/reports/templates/{body['id']}/",
        definition(name="Monthly book", parameters={"scope": "entitled", "period": "mtd"}),
        format="json",
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["version"] == 3

    versions = client.get(f"/api/reports/templates/{body['id']}/versions/").json()
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert [v["name"] for v in versions] == [
        "Monthly book",
        "Quarterly book (board)",
        "Quarterly book",
    ]
    assert versions[2]["parameters"]["period"] == "qtd"

    listed = client.get("/api/reports/templates/").json()["results"]
    assert [t["slug"] for t in listed if not t["is_builtin"]] == ["quarterly-book"]

    assert client.delete(f"/api/reports/templates/{body['id']}/").status_code == 204
    assert client.get(f"/api/reports/templates/{body['id']}/").status_code == 404


def test_clone_makes_a_template_of_your_own(alice, bob, book):
    ReportShare.objects.create(template=book, user=bob, level="view")

    copy = api(bob).post(f"/api/reports/templates/{book.slug}/clone/", {}, format="json")

    assert copy.status_code == 201, copy.json()
    assert copy.json()["owner"] == "bob"
    assert copy.json()["name"] == "Book review (copy)"
    assert copy.json()["version"] == 1


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"name": ""}, {"name"}),
        ({"blocks": [{"kind": "no_such_block"}]}, {"blocks"}),
        ({"blocks": []}, {"blocks"}),
        ({"blocks": [{"kind": PROBE, "options": {"label": "three"}}]}, {"blocks"}),
        ({"parameters": {"period": "fortnight"}}, {"parameters"}),
        ({"parameters": {"period": "custom", "start": "2024-03-31"}}, {"parameters"}),
        ({"parameters": {"scope": "portfolios", "portfolios": []}}, {"parameters"}),
        ({"layout": {"accent_colour": "blue"}}, {"layout"}),
        ({"layout": {"orientation": "sideways"}}, {"layout"}),
    ],
)
def test_bad_definitions_get_field_errors(alice, probe, change, errors):
    response = api(alice).post("/api/reports/templates/", definition(**change), format="json")

    assert response.status_code == 400
    assert set(response.json()) == errors
    assert not ReportTemplate.objects.filter(is_builtin=False).exists()


def test_a_parameter_error_names_the_parameter(alice, probe):
    response = api(alice).post(
        "/api/reports/templates/",
        definition(parameters={"period": "custom", "start": "2024-03-31"}),
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["parameters"]) == ["period"]
    assert "start and an end" in response.json()["parameters"]["period"][0]


# --- Templates: scoping by ownership and shares


def test_an_outsider_gets_404_for_every_way_in(mallory, book):
    client = api(mallory)
    base = f"/api/reports/templates/{book.id}/"

    listed = client.get("/api/reports/templates/").json()["results"]
    assert [t["slug"] for t in listed if not t["is_builtin"]] == []
    assert client.get(base).status_code == 404
    assert client.get(f"/api/reports/templates/{book.slug}/").status_code == 404
    assert client.patch(base, {"name": "Mine now"}, format="json").status_code == 404
    assert client.delete(base).status_code == 404
    assert client.get(base + "versions/").status_code == 404
    assert client.post(base + "share/", {"user": "mallory"}, format="json").status_code == 404
    assert client.post("/api/reports/runs/", {"template": book.slug}).status_code == 404
    assert client.get("/api/reports/templates/999999/").status_code == 404


def test_a_view_share_reads_but_may_not_write_or_run(bob, book):
    ReportShare.objects.create(template=book, user=bob, level="view")
    client = api(bob)
    base = f"/api/reports/templates/{book.id}/"

    shown = client.get(base)
    assert shown.status_code == 200
    assert shown.json()["access"] == "view"
    assert client.patch(base, {"name": "Changed"}, format="json").status_code == 403
    assert client.delete(base).status_code == 403
    assert client.get(base + "share/").status_code == 403
    refused = client.post("/api/reports/runs/", {"template": book.slug}, format="json")
    assert refused.status_code == 403
    assert "view only" in refused.json()["detail"]


def test_an_edit_share_through_a_team_may_edit_but_not_delete(bob, desk, book):
    ReportShare.objects.create(template=book, team=desk, level="edit")
    client = api(bob)
    base = f"/api/reports/templates/{book.id}/"

    edited = client.patch(base, {"description": "Desk notes"}, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["version"] == 2
    assert client.delete(base).status_code == 403


def test_built_in_templates_run_but_never_change(alice, probe):
    builtin = ReportTemplate.objects.filter(is_builtin=True).first()
    if builtin is None:
        pytest.skip("no built-in template has all its blocks in the catalog yet")
    client = api(alice)
    base = f"/api/reports/templates/{builtin.slug}/"

    assert client.get(base).json()["access"] == "run"
    refused = client.patch(base, {"name": "Mine"}, format="json")
    assert refused.status_code == 403
    assert "clone" in refused.json()["detail"]


def test_share_change_and_unshare_are_audited(alice, bob, desk, mallory, book):
    client = api(alice)
    base = f"/api/reports/templates/{book.id}/"

    shared = client.post(base + "share/", {"user": "bob", "level": "run"}, format="json")
    assert shared.status_code == 201, shared.json()
    assert shared.json()["user"] == "bob"
    assert shared.json()["level"] == "run"
    assert (
        client.post(base + "share/", {"user": "bob", "level": "edit"}, format="json").json()[
            "level"
        ]
        == "edit"
    )
    team = client.post(base + "share/", {"team": desk.id}, format="json")
    assert team.json()["team_name"] == "Equity desk"
    assert team.json()["level"] == "view"
    listed = client.get(base + "share/").json()
    assert [(s["user"], s["team"], s["level"]) for s in listed] == [
        ("bob", None, "edit"),
        (None, desk.id, "view"),
    ]

    assert client.post(base + "unshare/", {"user": "bob"}, format="json").status_code == 204
    assert client.post(base + "unshare/", {"user": "bob"}, format="json").status_code == 404

    actions = list(
        AuditEvent.objects.filter(action__startswith="share.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        AuditAction.SHARE,
        AuditAction.SHARE_CHANGED,
        AuditAction.SHARE,
        AuditAction.SHARE_REVOKED,
    ]


def test_share_input_errors(alice, book):
    base = f"/api/reports/templates/{book.id}/share/"
    client = api(alice)

    assert "non_field_errors" in client.post(base, {"level": "run"}, format="json").json()
    assert "user" in client.post(base, {"user": "nobody"}, format="json").json()
    assert "level" in client.post(base, {"user": "bob", "level": "own"}, format="json").json()
    owner = client.post(base, {"user": "alice"}, format="json")
    assert owner.status_code == 400
    assert "user" in owner.json()


# --- Runs


def test_a_run_request_answers_202_with_the_queued_run(alice, book):
    response = api(alice).post(
        "/api/reports/runs/",
        {"template": book.slug, "formats": ["pdf", "xlsx"], "period": "1y"},
        format="json",
    )

    assert response.status_code == 202, response.json()
    run = response.json()
    assert run["state"] == "queued"
    assert run["template"] == "book-review"
    assert run["template_version"] == 1
    assert run["formats"] == ["pdf", "xlsx"]
    assert run["parameters"]["period"] == "1y"
    assert run["run_as"] == {"username": "alice", "full_name": alice.get_full_name()}
    # one step per block, then one per format
    assert run["progress"]["done"] == 0
    assert run["progress"]["total"] == 3
    assert run["progress"]["percent"] == 0
    assert run["files"] == []
    assert run["traceback"] is None

    detail = api(alice).get(f"/api/reports/runs/{run['id']}/")
    assert detail.status_code == 200
    assert detail.json()["id"] == run["id"]
    listed = api(alice).get("/api/reports/runs/").json()
    assert [r["id"] for r in listed["results"]] == [run["id"]]


def test_a_run_request_by_id_with_an_idempotency_key_is_one_run(alice, book):
    client = api(alice)
    body = {"template": str(book.id), "formats": ["json"]}

    first = client.post("/api/reports/runs/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/reports/runs/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert ReportRun.objects.count() == 1


def test_an_ad_hoc_definition_runs_without_saving(alice, growth, probe):
    response = api(alice).post(
        "/api/reports/runs/",
        {"definition": definition(), "formats": ["csv"]},
        format="json",
    )

    assert response.status_code == 202, response.json()
    assert response.json()["template"] is None
    assert response.json()["title"] == "Quarterly book"
    assert not ReportTemplate.objects.filter(is_builtin=False).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"formats": ["docx"]}, "formats"),
        ({"formats": []}, "formats"),
        ({"portfolios": ["HIDDEN"]}, "portfolios"),
        ({"portfolios": ["NOPE"]}, "portfolios"),
        ({"period": "fortnight"}, "period"),
        ({"period": "custom", "start": "2024-05-01"}, "period"),
    ],
)
def test_bad_run_requests_get_field_errors(alice, book, hidden, body, field):
    response = api(alice).post("/api/reports/runs/", {"template": book.slug, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not ReportRun.objects.exists()


def test_a_run_without_template_or_definition_is_a_400(alice):
    response = api(alice).post("/api/reports/runs/", {"formats": ["pdf"]}, format="json")

    assert response.status_code == 400
    assert "template" in response.json()


def test_a_less_entitled_runner_is_scoped_to_what_they_may_see(alice, bob, book):
    ReportShare.objects.create(template=book, user=bob, level="run")

    queued = api(bob).post("/api/reports/runs/", {"template": book.slug}, format="json")
    assert queued.status_code == 202, queued.json()
    # The template names GROWTH and INCOME; bob's run keeps the one he may see.
    assert ReportRun.objects.get(id=queued.json()["id"]).run_as == bob

    asks_for_income = api(bob).post(
        "/api/reports/runs/", {"template": book.slug, "portfolios": ["INCOME"]}, format="json"
    )
    assert asks_for_income.status_code == 400
    assert "portfolios" in asks_for_income.json()


def test_run_detail_and_files_are_404_to_others(alice, mallory, book):
    run_id = (
        api(alice).post("/api/reports/runs/", {"template": book.slug}, format="json").json()["id"]
    )

    assert api(mallory).get(f"/api/reports/runs/{run_id}/").status_code == 404
    assert api(mallory).get("/api/reports/runs/").json()["results"] == []
    assert api(mallory).get(f"/api/reports/runs/{run_id}/files/report.pdf").status_code == 404


def test_a_downloaded_file_is_audited_and_carries_its_checksum(
    monkeypatch, alice, growth, income, mallory, book
):
    renderers_install(monkeypatch)
    snapshot_done(growth, as_of=AS_OF)
    snapshot_done(income, as_of=AS_OF)
    run_id = (
        api(alice)
        .post("/api/reports/runs/", {"template": book.slug, "formats": ["pdf"]}, format="json")
        .json()["id"]
    )
    report_run_execute(run_id=run_id)

    run = api(alice).get(f"/api/reports/runs/{run_id}/").json()
    assert run["state"] == RunStatus.SUCCEEDED
    assert run["progress"]["percent"] == 100
    assert [f["name"] for f in run["files"]] == ["report.pdf"]
    listed = run["files"][0]
    assert listed["pages"] == 1
    assert listed["url"] == f"/api/reports/runs/{run_id}/files/report.pdf"

    response = api(alice).get(listed["url"])

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    digest = hashlib.sha256(content).hexdigest()
    assert response["X-Content-SHA256"] == digest == listed["sha256"]
    assert len(content) == listed["size"]
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="report.pdf"' in response["Content-Disposition"]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.actor == alice
    assert event.details["format"] == "pdf"
    assert event.details["size"] == len(content)
    assert event.details["sha256"] == digest
    assert event.details["run"] == run_id

    assert api(alice).get(f"/api/reports/runs/{run_id}/files/other.pdf").status_code == 404
    assert api(mallory).get(listed["url"]).status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_a_failed_run_shows_its_traceback_to_administrators_only(
    monkeypatch, alice, growth, book, django_user_model
):
    def broken(context):
        raise RuntimeError("the numbers would not add up")

    from tests.reports.core_support import probe_block

    probe_install(monkeypatch, probe_block(broken))
    snapshot_done(growth, as_of=AS_OF)
    run_id = (
        api(alice).post("/api/reports/runs/", {"template": book.slug}, format="json").json()["id"]
    )
    report_run_execute(run_id=run_id)
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "x")

    mine = api(alice).get(f"/api/reports/runs/{run_id}/").json()
    seen_by_admin = api(admin).get(f"/api/reports/runs/{run_id}/").json()

    assert mine["state"] == "failed"
    assert "the numbers would not add up" in mine["error"]
    assert mine["traceback"] is None
    assert "RuntimeError" in seen_by_admin["traceback"]


# --- Preview


def test_the_preview_is_the_html_of_the_stored_data(alice, growth, income, probe):
    snapshot_done(growth, as_of=AS_OF)

    response = api(alice).post(
        "/api/reports/preview/",
        definition(name="", parameters={"scope": "portfolios", "portfolios": ["GROWTH"]}),
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["portfolios"] == ["GROWTH"]
    assert body["as_of"] == "2024-06-28"
    assert "Global Growth" in body["html"]
    assert "Global Income" not in body["html"]
    assert "Untitled report" in body["html"]
    assert not ReportTemplate.objects.filter(is_builtin=False).exists()
    assert not ReportRun.objects.exists()


def test_the_preview_refuses_what_the_user_may_not_see(bob, growth, income, probe):
    response = api(bob).post(
        "/api/reports/preview/",
        definition(parameters={"scope": "portfolios", "portfolios": ["INCOME"]}),
        format="json",
    )

    # A template's own list is narrowed to what the user may see; nothing is left.
    assert response.status_code == 400
    assert "portfolios" in response.json()["parameters"]


def test_the_preview_reports_bad_blocks(alice, growth, probe):
    response = api(alice).post(
        "/api/reports/preview/", definition(blocks=[{"kind": "nope"}]), format="json"
    )

    assert response.status_code == 400
    assert "blocks" in response.json()


# --- Schema


def test_the_schema_has_every_report_path_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/reports/templates/:",
        "/api/reports/templates/{template}/:",
        "/api/reports/templates/{template}/versions/:",
        "/api/reports/templates/{template}/share/:",
        "/api/reports/templates/{template}/unshare/:",
        "/api/reports/templates/{template}/clone/:",
        "/api/reports/blocks/:",
        "/api/reports/preview/:",
        "/api/reports/runs/:",
        "/api/reports/runs/{run_id}/:",
        "/api/reports/runs/{run_id}/files/{name}:",
    ):
        assert path in schema, path
