"""The portal's main pages under its Content-Security-Policy in headless Chromium:
not one violation (no inline script, handler or style, no eval, nothing from
another origin), and the charts still draw. Every page is opened as the demo user
who works with it: the portfolio manager (portfolio list, every portfolio tab,
dashboards, inbox, report library, builder with its live preview, a report run,
schedules), the compliance officer (alert queue, an alert with its chart) and the
admin (admin index, an import-export page, the API docs).

Violations are caught twice: a ``securitypolicyviolation`` listener that every
frame gets before its first script (the builder's preview is an iframe), and the
browser console's "Content Security Policy" errors. A first check proves the
listener hears a violation the policy must block.

The demo is the quick one (4 portfolios, 260 trading days) with the compliance
demo on top, snapshots computed in process as the worker would.
"""

from __future__ import annotations

import pytest

from analytics.demo.people import DEMO_PASSWORD
from analytics.models import Portfolio
from compliance.models import Alert
from reports.models import ReportRun, RunStatus
from tests.browser.test_phone_widths import demo
from tests.browser.test_report_builder import add_block, preview_updated, queued, work_off

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["demo", "queued"]

LISTEN = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} ` +
    `(${event.sourceFile || document.URL}:${event.lineNumber}) ${event.sample}`
  );
});
"""

CHARTS_DRAWN = """() => {
  const charts = [...document.querySelectorAll("div.chart[id$='-chart']")];
  return charts.length > 0 && charts.every((chart) => chart.querySelector(".main-svg"));
}"""


class Browsing:
    """One user's browser context: opens pages, checks each carries the policy, and
    gathers what the policy refused and the scripts' errors."""

    def __init__(self, browser, base_url: str):
        self.base_url = base_url
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.violations: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.console.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def log_in(self, username: str) -> None:
        self.open("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def open(self, path: str, *, charts: bool = False, ready: str | None = None) -> None:
        self.collect()
        response = self.page.goto(self.base_url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        if ready:
            self.page.wait_for_selector(ready, timeout=20_000)
        if charts:
            self.page.wait_for_function(CHARTS_DRAWN, timeout=20_000)

    def collect(self) -> None:
        """The violations the frames of the page now open have heard."""
        for frame in self.page.frames:
            self.violations += frame.evaluate("window.cspViolations || []")
            frame.evaluate("window.cspViolations = []")

    def close(self) -> list[str]:
        self.collect()
        self.context.close()
        return self.violations + self.console + self.errors


@pytest.fixture
def browsing(browser, live_server):
    opened: list[Browsing] = []

    def open_as(username: str | None = None) -> Browsing:
        session = Browsing(browser, live_server.url)
        opened.append(session)
        if username:
            session.log_in(username)
        return session

    yield open_as
    for session in opened:
        if not session.page.is_closed():
            session.context.close()


def test_a_blocked_inline_handler_is_heard(browsing):
    session = browsing()
    session.open("/login/")
    session.page.evaluate(
        """() => document.body.insertAdjacentHTML(
             "beforeend", '<img src="/static/missing.png" onerror="window.ran = true">')"""
    )
    session.page.wait_for_function("() => window.cspViolations.length > 0")
    assert session.page.evaluate("() => window.ran") is None
    assert any("script-src-attr" in violation for violation in session.close())


def test_the_portfolio_managers_pages_break_no_rule_and_draw_their_charts(demo, browsing, queued):
    session = browsing("pm")
    page = session.page
    session.open("/portfolios/", ready="#portfolio-table")
    portfolio = Portfolio.objects.get(code="EQ-US-GROWTH")
    session.open(f"/portfolios/{portfolio.pk}/", charts=True)
    tabs = page.locator("nav.tabs a").evaluate_all("(links) => links.map((a) => a.href)")
    assert len(tabs) >= 4
    for tab in tabs[1:]:
        session.open(tab.removeprefix(session.base_url))
        if page.locator("div.chart[id$='-chart']").count():
            page.wait_for_function(CHARTS_DRAWN, timeout=20_000)
    session.open(f"/portfolios/{portfolio.pk}/risk/", charts=True)
    assert page.locator("#limits-table .util-bar").count() > 0
    widths = page.locator("#limits-table .util-bar").evaluate_all(
        "(bars) => bars.map((bar) => bar.style.width)"
    )
    assert all(width.endswith("%") for width in widths), widths

    session.open("/dashboards/", ready="#landing-dashboard")
    page.click("#landing-dashboard")
    page.wait_for_selector("#dashboard-grid[data-ready=true]")
    page.wait_for_selector("[data-kind=cumulative] .main-svg", timeout=20_000)
    page.wait_for_selector("[data-kind=exposure] .main-svg", timeout=20_000)
    session.open("/inbox/")

    session.open("/reports/")
    session.open("/reports/new/", ready="#builder-form")
    page.fill("#id_name", "CSP check")
    add_block(page, "Performance summary")
    add_block(page, "Drawdowns")
    preview_updated(page)
    preview = page.frame_locator("#report-preview")
    preview.locator(".main-svg").first.wait_for(timeout=20_000)
    accent = preview.locator("article.report").evaluate(
        "(article) => article.style.getPropertyValue('--report-accent')"
    )
    assert accent.startswith("#"), accent
    page.click("#run-adhoc")
    page.wait_for_url("**/reports/runs/*/")
    page.wait_for_selector("#run-state:text('Queued')")
    work_off(list(queued)).join(timeout=120)
    run = ReportRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.error
    page.wait_for_selector("#run-state:text('Succeeded')", timeout=30_000)
    fill = page.locator(".run-progress-fill").evaluate("(fill) => fill.style.width")
    assert fill == "100%", fill
    session.open(f"/reports/runs/{run.pk}/", ready="#run-files")
    session.open("/reports/runs/")

    session.open("/reports/schedules/")
    session.open("/reports/schedules/new/", ready="form")

    assert session.close() == []


def test_the_compliance_officers_pages_break_no_rule_and_draw_their_charts(demo, browsing):
    session = browsing("compliance")
    session.open("/compliance/", ready="#alert-table")
    alert = Alert.objects.order_by("id").first()
    session.open(f"/compliance/alerts/{alert.pk}/", charts=True)
    session.open("/compliance/rules/", ready="#rule-table")
    assert session.close() == []


def test_the_admin_and_the_api_docs_break_no_rule(demo, browsing):
    session = browsing("admin")
    session.open("/admin/", ready="#content-main")
    session.open("/admin/analytics/instrument/", ready="#result_list")
    session.open("/admin/analytics/instrument/import/", ready="form")
    session.open("/api/docs/", ready=".swagger-ui .opblock")
    assert session.close() == []
