"""Alice logs in and walks through her portfolio's tabs in headless Chromium, on a
desktop (1440 px) and a phone (390 px): charts are drawn by the local plotly.js,
the key tables are there, and no page scrolls sideways (wide tables scroll inside
their wrapper). Screenshots go to the artifacts folder."""

import pytest

from analytics.models import RiskLimit, RiskLimitMetric
from tests.analytics.test_analytics_pages import snapshot_portfolio_build, snapshot_store
from tests.factories import PASSWORD, PortfolioFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1440, 390]


@pytest.fixture
def alice_portfolio():
    alice = UserFactory(username="alice", first_name="Alice", last_name="Owner")
    portfolio = PortfolioFactory(code="EQ-SNAP", name="Snapshot Equity", owner=alice)
    snapshot_portfolio_build(portfolio)
    snapshot_store(portfolio)
    values = portfolio.snapshots.get(status="done").result["risk_values"]
    RiskLimit.objects.create(
        portfolio=portfolio, metric=RiskLimitMetric.VAR_95, limit=values["var_95"] * 1.05
    )
    RiskLimit.objects.create(portfolio=portfolio, metric=RiskLimitMetric.TOP10_WEIGHT, limit=0.5)
    RiskLimit.objects.create(portfolio=portfolio, metric=RiskLimitMetric.BETA, limit=1.2)
    return portfolio


@pytest.fixture
def page_for(browser, live_server):
    pages = []

    def open_page(width):
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.js_errors = errors
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.close()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def wait_for_chart(page, chart_id):
    page.wait_for_selector(f"#{chart_id}-chart .main-svg", timeout=15_000)


@pytest.mark.parametrize("width", WIDTHS)
def test_overview_tab(page_for, live_server, alice_portfolio, artifacts, width):
    page = page_for(width)
    page.goto(f"{live_server.url}/portfolios/{alice_portfolio.pk}/")

    wait_for_chart(page, "net-assets")
    wait_for_chart(page, "cumulative")
    assert page.locator("#cumulative-chart .scatterlayer .trace").count() == 2
    assert "Analytics as of" in page.locator("#snapshot-status").inner_text()
    assert page.locator("#period-returns-table tbody tr").count() == 8  # day … since inception
    assert page.locator("#holdings-table tbody tr").count() >= 4
    assert page.locator("nav.tabs a.active").inner_text() == "Overview"
    assert no_sideways_scroll(page)
    assert page.js_errors == []
    page.screenshot(path=str(artifacts / f"analytics-overview-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_performance_tab(page_for, live_server, alice_portfolio, artifacts, width):
    page = page_for(width)
    page.goto(f"{live_server.url}/portfolios/{alice_portfolio.pk}/")
    page.click("nav.tabs >> text=Performance")

    page.wait_for_selector("#metrics-table")
    for chart in ("calendar", "underwater", "rolling"):
        wait_for_chart(page, chart)
    assert page.locator("#calendar-chart .heatmaplayer, #calendar-chart .hm").count() >= 1
    sharpe = page.locator("#metrics-table tr[data-metric=sharpe] td").first.inner_text()
    assert sharpe.replace("-", "").replace(".", "").isdigit()
    page.click("nav[aria-label=Window] >> text=1Y")
    page.wait_for_url("**window=1Y")
    assert "1 year" in page.locator("#metrics h2").inner_text()
    assert no_sideways_scroll(page)
    assert page.js_errors == []
    page.screenshot(path=str(artifacts / f"analytics-performance-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_risk_tab(page_for, live_server, alice_portfolio, artifacts, width):
    page = page_for(width)
    page.goto(f"{live_server.url}/portfolios/{alice_portfolio.pk}/risk/")

    page.wait_for_selector("#var-table")
    wait_for_chart(page, "backtest")
    wait_for_chart(page, "exposure")
    assert page.locator("#var-table tbody tr").count() == 16
    assert "Square-root-of-time" in page.locator("#var-assumptions").inner_text()
    assert page.locator("#limits-table tbody tr").count() == 3
    assert page.locator("#limits-table .util-bar").count() == 3
    page.click("#exposures nav >> text=Country")
    page.wait_for_url("**by=country*")
    wait_for_chart(page, "exposure")
    assert "by country" in page.locator("#exposures h2").inner_text()
    assert no_sideways_scroll(page)
    assert page.js_errors == []
    page.screenshot(path=str(artifacts / f"analytics-risk-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_attribution_tab(page_for, live_server, alice_portfolio, artifacts, width):
    page = page_for(width)
    page.goto(f"{live_server.url}/portfolios/{alice_portfolio.pk}/attribution/")

    page.wait_for_selector("#attribution-table")
    wait_for_chart(page, "effects")
    assert page.locator("#effects-chart .barlayer .trace").count() == 3
    assert page.locator("#attribution-table tfoot tr").count() == 1
    assert page.locator("#factor-table tbody tr").count() == 4
    assert no_sideways_scroll(page)
    assert page.js_errors == []
    page.screenshot(path=str(artifacts / f"analytics-attribution-{width}.png"), full_page=True)


def test_unknown_parameter_page(page_for, live_server, alice_portfolio, artifacts):
    page = page_for(390)
    response = page.goto(f"{live_server.url}/portfolios/{alice_portfolio.pk}/risk/?by=colour")

    assert response.status == 400
    assert "Unknown by “colour”" in page.locator("#bad-request").inner_text()
    page.click("#bad-request >> text=Country")
    page.wait_for_selector("#exposure-table")
    page.screenshot(path=str(artifacts / "analytics-bad-request-390.png"), full_page=True)
