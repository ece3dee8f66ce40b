"""The report pages: the library, the builder, sharing, a run and the history.

Alice owns "Book review" over GROWTH and INCOME; bob sees GROWTH through his
desk, carol sees INCOME personally, mallory sees nothing of alice's. Runs are
executed in process with renderers that write the document as JSON
(``tests.reports.core_support``); what is tested is what each page shows and
offers to whom."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.urls import reverse

from portal.models import AuditAction, AuditEvent, Role
from reports.models import ReportRun, ReportShare, ReportTemplate, RunStatus
from reports.services.runs import report_run_execute, report_run_request
from reports.services.templates import report_template_create
from reports.views import duration_text
from tests.reports.core_support import (
    PROBE,
    probe_block,
    probe_install,
    renderers_install,
    snapshot_done,
)

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 6, 28)


@pytest.fixture(autouse=True)
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


@pytest.fixture
def book(alice, growth, income):
    return report_template_create(
        user=alice,
        name="Book review",
        description="Both books, side by side",
        blocks=[{"kind": PROBE, "options": {}}],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH", "INCOME"], "period": "ytd"},
    )


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


# --- Library


def test_the_library_has_mine_shared_and_built_in(client, alice, bob, book):
    ReportShare.objects.create(template=book, user=bob, level="run")

    alices = page(client, alice, reverse("reports:index")).content.decode()
    bobs = page(client, bob, reverse("reports:index")).content.decode()

    assert 'href="/reports/"' in alices  # the navigation's Reports entry is enabled
    mine = alices[alices.index('id="library-mine"') : alices.index('id="library-shared"')]
    assert "Book review" in mine
    assert "Both books, side by side" in mine
    assert reverse("reports:template-edit", args=[book.id]) in mine
    assert reverse("reports:template-run", args=[book.id]) in mine
    shared = bobs[bobs.index('id="library-shared"') : bobs.index('id="library-builtin"')]
    assert "Book review" in shared
    assert "share-run" in shared
    assert reverse("reports:template-run", args=[book.id]) in shared
    assert reverse("reports:template-edit", args=[book.id]) not in bobs
    assert "Book review" not in bobs[: bobs.index('id="library-shared"')]


def test_a_view_share_is_listed_without_a_run_button(client, bob, book):
    ReportShare.objects.create(template=book, user=bob, level="view")

    html = page(client, bob, reverse("reports:index")).content.decode()

    assert "Book review" in html
    assert reverse("reports:template-run", args=[book.id]) not in html
    assert reverse("reports:template-edit", args=[book.id]) not in html
    assert f"{reverse('reports:template-new')}?from={book.id}" in html  # copy it


def test_built_in_templates_offer_run_and_copy_but_not_edit(client, mallory):
    html = page(client, mallory, reverse("reports:index")).content.decode()
    builtins = list(ReportTemplate.objects.filter(is_builtin=True))
    if not builtins:
        pytest.skip("no built-in template has all its blocks in the catalog yet")

    section = html[html.index('id="library-builtin"') :]
    for template in builtins:
        assert template.name in section
        assert reverse("reports:template-run", args=[template.id]) in section
        assert reverse("reports:template-edit", args=[template.id]) not in html


def test_an_outsider_never_sees_alices_template(client, mallory, book):
    html = page(client, mallory, reverse("reports:index")).content.decode()

    assert "Book review" not in html
    assert (
        page(client, mallory, reverse("reports:template-edit", args=[book.id])).status_code == 404
    )


# --- Running from the library


def test_run_from_the_library_opens_the_run_page(client, alice, book):
    client.force_login(alice)

    response = client.post(
        reverse("reports:template-run", args=[book.id]), {"formats": ["pdf", "xlsx"]}
    )

    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:run-detail", args=[run.id])
    assert run.formats == ["pdf", "xlsx"]
    assert run.template == book
    assert run.run_as == alice


def test_a_run_needs_a_format(client, alice, book):
    client.force_login(alice)

    response = client.post(reverse("reports:template-run", args=[book.id]), {}, follow=True)

    assert "choose at least one format" in response.content.decode()
    assert not ReportRun.objects.exists()


def test_run_is_403_for_a_view_share_and_404_for_an_outsider(client, bob, mallory, book):
    ReportShare.objects.create(template=book, user=bob, level="view")
    url = reverse("reports:template-run", args=[book.id])

    client.force_login(bob)
    assert client.post(url, {"formats": ["pdf"]}).status_code == 403
    client.force_login(mallory)
    assert client.post(url, {"formats": ["pdf"]}).status_code == 404
    assert not ReportRun.objects.exists()


# --- Builder


def builder_post(**overrides):
    data = {
        "name": "Desk review",
        "description": "",
        "blocks": json.dumps([{"kind": PROBE, "options": {"label": "two"}}]),
        "scope": "portfolios",
        "portfolios": ["GROWTH"],
        "team": "",
        "period": "custom",
        "start": "2024-01-01",
        "end": "2024-03-31",
        "benchmark": "",
        "reporting_currency": "",
        "orientation": "landscape",
        "accent_colour": "#336699",
        "cover_page": "on",
        "logo": "",
        "disclaimer": "Internal use only.",
        "formats": ["pdf"],
        "action": "save",
    }
    data.update(overrides)
    return data


def test_the_builder_offers_the_catalog_and_the_user_s_portfolios(client, bob, growth, income):
    html = page(client, bob, reverse("reports:template-new")).content.decode()

    catalog = json.loads(
        html.split('<script id="block-catalog" type="application/json">')[1].split("</script>")[0]
    )
    assert PROBE in [block["kind"] for block in catalog]
    assert 'value="GROWTH"' in html
    assert 'value="INCOME"' not in html  # bob may not see it
    assert reverse("api-report-preview") in html
    assert 'data-field="parameters.period"' in html
    assert 'id="report-preview"' in html
    assert 'id="sharing"' not in html  # nothing to share before it is saved


def test_saving_in_the_builder_creates_version_one(client, alice, growth):
    client.force_login(alice)

    response = client.post(reverse("reports:template-new"), builder_post())

    template = ReportTemplate.objects.get(is_builtin=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:template-edit", args=[template.id])
    version = template.version_latest()
    assert version.number == 1
    assert version.blocks == [{"kind": PROBE, "options": {"label": "two"}}]
    assert version.parameters["portfolios"] == ["GROWTH"]
    assert (version.parameters["start"], version.parameters["end"]) == ("2024-01-01", "2024-03-31")
    assert version.layout["orientation"] == "landscape"
    assert version.layout["accent_colour"] == "#336699"
    assert version.layout["disclaimer"] == "Internal use only."

    again = client.post(
        reverse("reports:template-edit", args=[template.id]), builder_post(name="Desk review 2")
    )
    assert again.status_code == 302
    assert template.version_latest().number == 2
    assert template.version_latest().name == "Desk review 2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"blocks": "[]"}, "at least one block"),
        ({"name": ""}, "This field is required"),
        ({"scope": "portfolios", "portfolios": []}, "Choose at least one portfolio"),
        ({"end": ""}, "needs both a start and an end date"),
        ({"start": "2024-04-01"}, "after it ends on 2024-03-31"),
        ({"accent_colour": "blue"}, "hex colour"),
    ],
)
def test_a_bad_draft_comes_back_with_its_errors(client, alice, growth, change, message):
    client.force_login(alice)

    response = client.post(reverse("reports:template-new"), builder_post(**change))

    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert message in html
    assert not ReportTemplate.objects.filter(is_builtin=False).exists()


def test_run_without_saving_queues_an_ad_hoc_run(client, alice, growth):
    client.force_login(alice)

    response = client.post(
        reverse("reports:template-new"), builder_post(action="run", formats=["csv", "json"])
    )

    run = ReportRun.objects.get()
    assert response["Location"] == reverse("reports:run-detail", args=[run.id])
    assert run.template is None
    assert run.definition["blocks"] == [{"kind": PROBE, "options": {"label": "two"}}]
    assert run.formats == ["csv", "json"]
    assert not ReportTemplate.objects.filter(is_builtin=False).exists()


def test_copy_starts_the_builder_from_another_template(client, bob, book):
    ReportShare.objects.create(template=book, user=bob, level="view")

    html = page(client, bob, f"{reverse('reports:template-new')}?from={book.id}").content.decode()

    assert 'value="Book review (copy)"' in html


def test_edit_access_decides_the_builder(client, alice, bob, carol, mallory, book):
    ReportShare.objects.create(template=book, user=bob, level="run")
    ReportShare.objects.create(template=book, user=carol, level="edit")
    url = reverse("reports:template-edit", args=[book.id])

    owner = page(client, alice, url)
    editor = page(client, carol, url)

    assert owner.status_code == editor.status_code == 200
    assert 'id="sharing"' in owner.content.decode()
    assert 'id="delete-form"' in owner.content.decode()
    assert 'id="sharing"' not in editor.content.decode()
    assert 'id="delete-form"' not in editor.content.decode()
    assert page(client, bob, url).status_code == 403
    assert page(client, mallory, url).status_code == 404


def test_a_built_in_template_cannot_be_edited(client, alice):
    builtin = ReportTemplate.objects.filter(is_builtin=True).first()
    if builtin is None:
        pytest.skip("no built-in template has all its blocks in the catalog yet")

    response = page(client, alice, reverse("reports:template-edit", args=[builtin.id]))

    assert response.status_code == 403


# --- Sharing


def test_sharing_from_the_builder_is_audited(client, alice, bob, desk, book):
    client.force_login(alice)
    url = reverse("reports:template-share", args=[book.id])

    client.post(url, {"action": "add", "user": "bob", "team": "", "level": "run"})
    share = ReportShare.objects.get(user=bob)
    assert share.level == "run"
    client.post(url, {"action": "change", "share": share.id, "level": "edit"})
    share.refresh_from_db()
    assert share.level == "edit"
    client.post(url, {"action": "add", "user": "", "team": desk.id, "level": "view"})
    edit_page = page(client, alice, reverse("reports:template-edit", args=[book.id]))
    assert "Team Equity desk" in edit_page.content.decode()
    client.post(url, {"action": "revoke", "share": share.id})

    assert not ReportShare.objects.filter(user=bob).exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="share.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        AuditAction.SHARE,
        AuditAction.SHARE_CHANGED,
        AuditAction.SHARE,
        AuditAction.SHARE_REVOKED,
    ]


def test_a_share_needs_one_recipient(client, alice, bob, desk, book):
    client.force_login(alice)
    url = reverse("reports:template-share", args=[book.id])

    neither = client.post(url, {"action": "add", "user": "", "team": "", "level": "view"})
    both = client.post(url, {"action": "add", "user": "bob", "team": desk.id, "level": "view"})

    assert neither.status_code == both.status_code == 400
    assert "Choose either a person or a team" in neither.content.decode()
    assert not ReportShare.objects.exists()


def test_only_the_owner_shares(client, carol, book):
    ReportShare.objects.create(template=book, user=carol, level="edit")
    client.force_login(carol)

    response = client.post(
        reverse("reports:template-share", args=[book.id]),
        {"action": "add", "user": "bob", "level": "view"},
    )

    assert response.status_code == 403


# --- Runs


def run_of(template, user, formats=("pdf", "xlsx")):
    return report_run_request(user=user, template=template, formats=list(formats))


def test_a_queued_run_shows_a_live_progress_bar(client, alice, book):
    run = run_of(book, alice)

    html = page(client, alice, reverse("reports:run-detail", args=[run.id])).content.decode()

    assert 'id="run-live"' in html
    assert f'data-status-url="{reverse("api-report-run", args=[run.id])}"' in html
    assert 'role="progressbar"' in html
    assert 'aria-valuenow="0.0"' in html
    assert "Queued" in html
    assert "js/report_run" in html
    assert alice.get_full_name() in html


def test_a_finished_run_shows_files_quality_and_duration(
    monkeypatch, client, alice, growth, income, book
):
    renderers_install(monkeypatch)
    snapshot_done(growth, as_of=AS_OF)
    snapshot_done(income, as_of=AS_OF, stale=True)
    run = run_of(book, alice)
    report_run_execute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED

    html = page(client, alice, reverse("reports:run-detail", args=[run.id])).content.decode()

    assert "Succeeded" in html
    assert "data-status-url" not in html  # nothing left to poll
    assert 'aria-valuenow="100.0"' in html
    for file in run.files.all():
        assert reverse("reports:run-file", args=[run.id, file.name]) in html
        assert file.sha256 in html
    assert "1 page" in html
    assert "2 sheets" in html
    assert 'id="run-quality-table"' in html
    assert "GROWTH" in html and "Global Income" in html
    assert 'id="incomplete-banner"' in html
    assert "Global Income (INCOME): figures are from the data as of 2024-06-28" in html
    assert "Took " in html
    assert "Book review" in html and "v1" in html


def test_a_failed_run_says_why_and_only_admins_see_the_traceback(
    monkeypatch, client, alice, growth, book, django_user_model
):
    def broken(context):
        raise ZeroDivisionError("no returns in the period")

    probe_install(monkeypatch, probe_block(broken))
    snapshot_done(growth, as_of=AS_OF)
    run = run_of(book, alice)
    report_run_execute(run_id=run.id)
    admin = django_user_model.objects.create_user("adam", role=Role.ADMIN, password="x")
    run.requested_by = admin  # the admin requested it, so may see it
    run.save(update_fields=["requested_by"])

    alices = page(client, alice, reverse("reports:run-detail", args=[run.id])).content.decode()
    admins = page(client, admin, reverse("reports:run-detail", args=[run.id])).content.decode()

    assert 'id="run-failure"' in alices
    assert "The block “Probe” failed: no returns in the period" in alices
    assert "Traceback" not in alices
    assert "ZeroDivisionError" in admins
    assert "Traceback (shown to administrators)" in admins


def test_the_run_history_lists_my_runs_only(client, alice, mallory, book):
    run = run_of(book, alice)

    alices = page(client, alice, reverse("reports:run-list")).content.decode()
    mallorys = page(client, mallory, reverse("reports:run-list")).content.decode()

    assert reverse("reports:run-detail", args=[run.id]) in alices
    assert "Queued" in alices
    assert reverse("reports:run-detail", args=[run.id]) not in mallorys
    assert "No runs yet" in mallorys
    assert page(client, mallory, reverse("reports:run-detail", args=[run.id])).status_code == 404


def test_run_again_repeats_the_parameters(client, alice, book):
    first = report_run_request(
        user=alice, template=book, formats=["json"], parameters={"period": "1y"}
    )
    client.force_login(alice)

    response = client.post(reverse("reports:run-again", args=[first.id]))

    second = ReportRun.objects.exclude(id=first.id).get()
    assert response["Location"] == reverse("reports:run-detail", args=[second.id])
    assert second.parameters["period"] == "1y"
    assert second.formats == ["json"]


def test_downloading_from_the_run_page_is_audited(
    monkeypatch, client, alice, mallory, growth, book
):
    renderers_install(monkeypatch)
    snapshot_done(growth, as_of=AS_OF)
    run = run_of(book, alice, formats=["xlsx"])
    report_run_execute(run_id=run.id)
    file = run.files.get()
    url = reverse("reports:run-file", args=[run.id, file.name])

    client.force_login(alice)
    response = client.get(url)

    content = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["X-Content-SHA256"] == hashlib.sha256(content).hexdigest() == file.sha256
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor, event.details["format"], event.details["size"]) == (
        alice,
        "xlsx",
        len(content),
    )
    client.force_login(mallory)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (0.84, "0.8 s"), (42.6, "42 s"), (185, "3 min 05 s"), (3720, "1 h 02 min")],
)
def test_durations_read_naturally(seconds, text):
    assert duration_text(seconds) == text
