"""The portfolio manager's dashboard in headless Chromium: logging in lands on
it, it opens from the dashboards list, the period filter redraws the charts, a
sector clicked in the exposure treemap filters the holdings table, a widget added
and moved keeps its place after a reload, and a price imported while the page is
open shows up within 5 seconds without a reload. Screenshots at 1440 and 390
pixels.

The demo is the quick one (4 portfolios, 260 trading days) with the compliance
demo on top, snapshots computed in process as the worker would.
"""

import datetime as dt

import pytest

from analytics.demo.people import DEMO_PASSWORD
from analytics.models import DERIVED_SOURCE, PositionSnapshot
from analytics.selectors.entitlements import portfolio_list_visible_to
from analytics.services.imports.runs import data_import
from portal.models import User
from tests.browser.test_phone_widths import demo, no_sideways_page_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["demo"]

WIDGET_LOADED = (
    "(kind) => { const el = document.querySelector(`[data-kind=${kind}]`);"
    " return el && el.dataset.version; }"
)
FIRST_DATE = "(kind) => document.querySelector(`[data-kind=${kind}] .widget-plot`).data[0].x[0]"


def log_in(page, base_url, username="pm"):
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def open_landing_dashboard(page, base_url):
    page.goto(f"{base_url}/dashboards/")
    page.click("#landing-dashboard")
    page.wait_for_selector("#dashboard-grid[data-ready=true]")
    for kind in ("kpis", "cumulative", "exposure", "holdings"):
        page.wait_for_function(WIDGET_LOADED, arg=kind)


def holdings_sectors(page):
    cells = page.locator("[data-kind=holdings] tbody tr td:nth-child(3)")
    return {cells.nth(i).inner_text() for i in range(cells.count())}


def import_a_new_price_for_the_first_portfolio(pm):
    """A 10 % higher close for the largest holding of the first portfolio the
    dashboard shows, on its latest position date (through the import service)."""
    portfolio = portfolio_list_visible_to(user=pm).order_by("code").first()
    latest = (
        PositionSnapshot.objects.filter(portfolio=portfolio, source=DERIVED_SOURCE)
        .exclude(instrument__asset_class="cash")
        .order_by("-date", "-market_value_base")
        .select_related("instrument")
        .first()
    )
    close = latest.price * 11 / 10
    run = data_import(
        kind="prices",
        rows=[
            {
                "instrument": latest.instrument.identifier,
                "date": latest.date.isoformat(),
                "close": f"{close:.4f}",
            }
        ],
        source=latest.instrument.prices.order_by("-date").first().source,
    )
    assert run.status == "committed", run.status
    return portfolio


def test_portfolio_manager_works_with_their_dashboard(demo, browser, live_server, artifacts):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url)
    # Logging in lands on the role's dashboard.
    page.wait_for_selector("#dashboard-grid[data-ready=true]")
    assert page.locator("h1#dashboard-name").inner_text() == "Portfolio manager"
    open_landing_dashboard(page, live_server.url)
    assert page.locator("h1#dashboard-name").inner_text() == "Portfolio manager"
    page.screenshot(path=str(artifacts / "dashboard-pm-1440.png"), full_page=True)

    # The period filter redraws the cumulative return from a later first date.
    since = dt.date.fromisoformat(page.evaluate(FIRST_DATE, "cumulative")[:10])
    version = page.evaluate(WIDGET_LOADED, "cumulative")
    page.select_option("#filter-period", "3M")
    page.wait_for_function(
        "([kind, old]) => document.querySelector(`[data-kind=${kind}]`).dataset.version !== old",
        arg=["cumulative", version],
    )
    three_months = dt.date.fromisoformat(page.evaluate(FIRST_DATE, "cumulative")[:10])
    assert (three_months - since).days > 200
    assert "period=3M" in page.url

    # A sector clicked in the treemap filters the holdings table to it.
    assert len(holdings_sectors(page)) > 1
    sector = page.locator("[data-kind=exposure] g.slice").nth(1)
    sector.click(position={"x": 12, "y": 8})
    page.wait_for_selector("#drill-chip:not([hidden])")
    chosen = page.locator("#drill-sector").inner_text()
    page.wait_for_function(
        "(sector) => [...document.querySelectorAll("
        "'[data-kind=holdings] tbody tr td:nth-child(3)')]"
        ".every((td) => td.textContent === sector)",
        arg=chosen,
    )
    assert holdings_sectors(page) == {chosen}
    assert (
        page.locator("[data-kind=holdings] .holdings-sector").text_content() == f"Sector: {chosen}"
    )

    # Add a widget, then drag it half the grid's width to the right.
    count = page.locator(".dashboard-widget").count()
    page.select_option("#add-kind", "rolling")
    page.click("#add-widget")
    page.wait_for_function(
        f"() => document.querySelectorAll('.dashboard-widget').length === {count + 1}"
    )
    added = page.locator(".dashboard-widget[data-kind=rolling]")
    page.wait_for_function(
        "() => document.getElementById('dashboard-grid').dataset.saved === 'saved'"
    )
    assert added.get_attribute("gs-x") in (None, "0")
    added.scroll_into_view_if_needed()
    head = added.locator(".widget-head").bounding_box()
    grid = page.locator("#dashboard-grid").bounding_box()
    start_x, start_y = head["x"] + 40, head["y"] + head["height"] / 2
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(start_x + grid["width"] / 2 * step / 20, start_y)
    page.mouse.up()
    page.wait_for_function(
        "() => document.querySelector('.dashboard-widget[data-kind=rolling]')"
        ".getAttribute('gs-x') === '6'"
    )
    page.wait_for_function(
        "() => document.getElementById('dashboard-grid').dataset.saved === 'saved'"
    )
    widget_id = added.get_attribute("data-widget")

    # A reload keeps the layout (and the filters, which live in the address).
    page.reload()
    page.wait_for_selector("#dashboard-grid[data-ready=true]")
    moved = page.locator(f".dashboard-widget[data-widget='{widget_id}']")
    assert moved.get_attribute("gs-x") == "6"
    assert page.locator("#filter-period").input_value() == "3M"

    # A price lands: the key figures update without a reload within 5 seconds.
    page.wait_for_function(WIDGET_LOADED, arg="kpis")
    before = page.evaluate(WIDGET_LOADED, "kpis")
    net_assets = page.locator("[data-kind=kpis] .kpi-tile[data-key=net_assets] .kpi-value")
    shown_before = net_assets.inner_text()
    import_a_new_price_for_the_first_portfolio(User.objects.get(username="pm"))
    # The new data may arrive in two steps (positions, then the snapshot), each
    # announced by a new data version: wait for the figure itself, within 5 s.
    page.wait_for_function(
        "([kind, old, text]) => {"
        " const widget = document.querySelector(`[data-kind=${kind}]`);"
        " const value = widget.querySelector('.kpi-tile[data-key=net_assets] .kpi-value');"
        " return widget.dataset.version !== old && value && value.innerText !== text; }",
        arg=["kpis", before, shown_before],
        timeout=5000,
    )
    assert net_assets.inner_text() != shown_before
    assert "Updated" in page.locator("#live-status").inner_text()
    page.screenshot(path=str(artifacts / "dashboard-pm-live-1440.png"), full_page=True)
    context.close()


def test_portfolio_manager_dashboard_on_a_phone(demo, browser, live_server, artifacts):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    log_in(page, live_server.url)
    open_landing_dashboard(page, live_server.url)
    kinds = [
        page.locator(".dashboard-widget").nth(i).get_attribute("data-kind")
        for i in range(page.locator(".dashboard-widget").count())
    ]
    # One column, the tiles first.
    assert kinds[:2] == ["kpis", "data_quality"]
    boxes = [page.locator(".dashboard-widget").nth(i).bounding_box() for i in range(3)]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
    assert all(box["width"] <= 390 for box in boxes)
    assert no_sideways_page_scroll(page)
    page.screenshot(path=str(artifacts / "dashboard-pm-390.png"), full_page=True)
    context.close()
