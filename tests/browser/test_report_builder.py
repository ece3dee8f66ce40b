"""Alice builds a report in the builder in headless Chromium, on a desktop (1440
px) and a phone (390 px): she adds blocks from the catalog, reorders them by drag
and by the up/down buttons, sets an option and the period, sees the live preview
drawn from her portfolio's stored snapshot follow each change, runs the draft,
watches the run page's progress bar go to the end and downloads the PDF, whose
SHA-256 is the one the page shows. Then the library and the run history.

The run's task is executed by a thread of the test (as a worker would, while the
page polls), not by a Celery worker. Screenshots of every page go to the
artifacts folder.
"""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.db import connection

from analytics.models import AnalyticsSnapshot
from reports.models import ReportRun, ReportTemplate, RunStatus
from reports.services import runs
from tests.analytics.test_analytics_pages import snapshot_portfolio_build, snapshot_store
from tests.factories import PASSWORD, PortfolioFactory, UserFactory
from tests.reports.core_support import PROBE, probe_block, probe_install, renderers_install

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice_portfolio():
    alice = UserFactory(username="alice", first_name="Alice", last_name="Owner")
    portfolio = PortfolioFactory(code="EQ-SNAP", name="Snapshot Equity", owner=alice)
    snapshot_portfolio_build(portfolio)
    snapshot_store(portfolio)
    return portfolio


@pytest.fixture
def queued(monkeypatch):
    """Run ids whose task the services sent (run here by :func:`work_off`)."""
    sent: list[int] = []

    def record(name, *args):
        assert name == runs.TASK
        sent.append(args[0])

    monkeypatch.setattr(runs, "task_send_on_commit", record)
    return sent


def work_off(run_ids: list[int]) -> threading.Thread:
    """Execute the queued runs in a thread, as a worker would."""

    def work():
        try:
            for run_id in run_ids:
                runs.report_run_execute(run_id=run_id)
        finally:
            connection.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def page_for(browser, live_server):
    pages = []

    def open_page(width):
        context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.js_errors = errors
        pages.append(context)
        return page

    yield open_page
    for context in pages:
        context.close()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def block_titles(page) -> list[str]:
    return page.locator("#block-list .block-title").all_inner_texts()


def preview_updated(page, previous: str | None = None) -> str:
    """Wait for the preview to be (re)drawn after ``previous``; its stamp."""
    page.wait_for_function(
        """(previous) => {
          const status = document.getElementById("preview-status");
          return status.classList.contains("ok") && status.dataset.updated !== previous;
        }""",
        arg=previous or "",
        timeout=30_000,
    )
    return page.locator("#preview-status").get_attribute("data-updated")


def preview_text(page) -> str:
    return page.frame_locator("#report-preview").locator("body").inner_text()


def add_block(page, title: str) -> None:
    if not page.locator("#catalog-panel").evaluate("(panel) => panel.open"):
        page.click("#catalog-panel > summary")
    page.click(f"#catalog button[aria-label='Add {title}']")


@pytest.mark.parametrize("width", [1440, 390])
def test_build_preview_run_and_download(
    page_for, live_server, alice_portfolio, queued, artifacts, width
):
    page = page_for(width)
    page.goto(f"{live_server.url}/reports/new/")
    page.fill("#id_name", "Alice's monthly review")

    add_block(page, "Performance summary")
    add_block(page, "Drawdowns")
    add_block(page, "Exposures")
    assert block_titles(page) == ["1. Performance summary", "2. Drawdowns", "3. Exposures"]
    stamp = preview_updated(page)
    text = preview_text(page)
    assert "Alice's monthly review" in text
    assert "Snapshot Equity" in text
    assert "Performance summary" in text

    # Reorder: Exposures up by its button, then (on a desktop) Drawdowns to the top by drag.
    page.click("#block-list button[aria-label='Move Exposures up']")
    assert block_titles(page) == ["1. Performance summary", "2. Exposures", "3. Drawdowns"]
    if width >= 1200:
        page.drag_and_drop(
            "#block-list li[data-kind=drawdowns] .block-handle",
            "#block-list li[data-kind=performance_summary] .block-head",
            target_position={"x": 20, "y": 2},
        )
        assert block_titles(page) == ["1. Drawdowns", "2. Performance summary", "3. Exposures"]
    stamp = preview_updated(page, stamp)
    order = preview_text(page)
    if width >= 1200:
        assert order.index("Drawdowns") < order.index("Performance summary")
    assert order.index("Performance summary") < order.rindex("Exposures")

    # An option and a parameter: the preview follows.
    page.select_option("#block-list li[data-kind=exposures] select", "country")
    stamp = preview_updated(page, stamp)
    assert "country" in preview_text(page).lower()
    page.select_option("#id_period", "custom")
    assert page.locator("#id_start").is_visible()
    page.fill("#id_start", "2023-03-01")
    page.fill("#id_end", "2023-06-30")
    page.locator("#id_end").dispatch_event("change")
    stamp = preview_updated(page, stamp)
    assert "2023-03-01" in preview_text(page)
    assert no_sideways_scroll(page)
    assert page.js_errors == []
    page.screenshot(path=str(artifacts / f"reports-builder-{width}.png"), full_page=True)

    # Run the draft without saving it, as PDF.
    assert page.locator("#id_formats input[value=pdf]").is_checked()
    page.click("#run-adhoc")
    page.wait_for_url("**/reports/runs/*/")
    assert page.locator("#run-state").text_content() == "Queued"
    assert page.locator(".run-progress").get_attribute("aria-valuenow") == "0.0"
    worker = work_off(list(queued))
    worker.join(timeout=120)
    run = ReportRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.error
    # The page reloads itself once the run has finished.
    page.wait_for_selector("#run-state:text('Succeeded')", timeout=30_000)
    assert page.locator(".run-progress").get_attribute("aria-valuenow") == "100.0"
    assert "Alice Owner" in page.locator("#run-facts").inner_text()
    assert page.locator("#run-quality-table tbody tr").count() == 1
    assert no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"reports-run-{width}.png"), full_page=True)

    pdf = page.locator("#run-files li[data-format=pdf]")
    shown_sha256 = pdf.locator(".checksum").inner_text().removeprefix("SHA-256 ").strip()
    with page.expect_download() as download_info:
        pdf.locator("a", has_text="Download").click()
    path = download_info.value.path()
    content = open(path, "rb").read()  # noqa: SIM115  # the browser's download
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == shown_sha256 == run.files.get().sha256
    assert page.js_errors == []

    page.goto(f"{live_server.url}/reports/runs/")
    assert page.locator("#run-table tbody tr").count() == 1
    assert no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"reports-run-history-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", [1440, 390])
def test_save_then_find_it_in_the_library(page_for, live_server, alice_portfolio, artifacts, width):
    page = page_for(width)
    page.goto(f"{live_server.url}/reports/new/")
    page.fill("#id_name", "Risk at a glance")
    add_block(page, "Risk")
    stamp = preview_updated(page)
    assert not page.locator("#id_portfolios").is_visible()
    page.check("input[name=scope][value=portfolios]")
    page.check("input[name=portfolios][value=EQ-SNAP]")
    preview_updated(page, stamp)
    assert "Snapshot Equity" in preview_text(page)
    assert no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"reports-builder-chosen-{width}.png"), full_page=True)
    page.click("#save-template")
    page.wait_for_url("**/reports/*/edit/")
    assert "saved" in page.locator(".messages").inner_text()
    assert block_titles(page) == ["1. Risk"]
    saved = ReportTemplate.objects.get(is_builtin=False).version_latest()
    assert saved.parameters["scope"] == "portfolios"
    assert saved.parameters["portfolios"] == ["EQ-SNAP"]
    assert page.locator("input[name=portfolios][value=EQ-SNAP]").is_checked()
    preview_updated(page)
    page.screenshot(path=str(artifacts / f"reports-edit-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/reports/")
    mine = page.locator("#library-mine")
    assert mine.locator("h3", has_text="Risk at a glance").count() == 1
    assert mine.locator("button", has_text="Run").count() == 1
    assert no_sideways_scroll(page)
    assert page.js_errors == []
    page.screenshot(path=str(artifacts / f"reports-library-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", [1440, 390])
def test_failed_and_incomplete_runs_say_so(
    monkeypatch, page_for, live_server, alice_portfolio, queued, artifacts, width
):
    """A run whose block fails shows the reason; one rendered from data that moved
    on since its snapshot shows the incomplete-data banner naming the gap."""
    alice = alice_portfolio.owner
    renderers_install(monkeypatch)
    probe_install(monkeypatch)
    stale = runs.report_run_request(
        user=alice,
        definition={
            "name": "Stale book",
            "blocks": [{"kind": PROBE}],
            "parameters": {"scope": "entitled"},
        },
        formats=["pdf", "xlsx"],
    )
    AnalyticsSnapshot.objects.filter(portfolio=alice_portfolio).update(stale=True)
    runs.report_run_execute(run_id=stale.id)

    def broken(context):
        raise ValueError("the benchmark has no returns in the period")

    probe_install(monkeypatch, probe_block(broken))
    failed = runs.report_run_request(
        user=alice,
        definition={"name": "Broken book", "blocks": [{"kind": PROBE}]},
        formats=["pdf"],
    )
    runs.report_run_execute(run_id=failed.id)

    page = page_for(width)
    page.goto(f"{live_server.url}/reports/runs/{failed.id}/")
    failure = page.locator("#run-failure").inner_text()
    assert "The block “Probe” failed: the benchmark has no returns in the period" in failure
    assert page.locator("#run-failure pre").count() == 0  # no traceback for her
    assert no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"reports-run-failed-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/reports/runs/{stale.id}/")
    banner = page.locator("#incomplete-banner").inner_text()
    assert "Snapshot Equity (EQ-SNAP): figures are from the data as of" in banner
    assert page.locator("#run-files li").count() == 2
    assert no_sideways_scroll(page)
    assert page.js_errors == []
    page.screenshot(path=str(artifacts / f"reports-run-incomplete-{width}.png"), full_page=True)
