"""The demo's users on a phone (390 × 844, touch) in headless Chromium: every key
column of the tables they work with is on screen whole, or reachable by swiping
its table sideways, and never cut off without a way to reach it.

* the compliance officer's alert queue: each alert's severity, state and utilisation;
* the rules list: each rule's scope (rules of one template share their name);
* a trader's pre-trade check: each rule's outcome;
* a portfolio manager's portfolio list: each net-assets figure in full;
* the performance tab: the monthly-returns heatmap swipes to December.

The demo is the quick one the demo tests load (4 portfolios, 60 instruments, 260
trading days: a whole first calendar year), with the compliance demo on top.
Screenshots go to the artifacts folder.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from analytics.demo.people import DEMO_PASSWORD
from analytics.models import Portfolio, PositionSnapshot
from compliance.engine.pretrade import EFFECT_LABELS
from tests.analytics.test_load_demo import QUICK

OUTCOMES = {label.lower() for label in EFFECT_LABELS.values()}
"""What the pre-trade check says a trade does to each rule, as its badges read."""

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# Why an element is not fully visible, or "" when it is: it must be rendered, lie
# inside the viewport's width and inside every ancestor that clips its overflow,
# and its own content must not overflow it (a number cut at the cell's edge).
WHY_NOT_VISIBLE = """(element) => {
  const box = element.getBoundingClientRect();
  if (box.width === 0 || box.height === 0) { return "not rendered"; }
  for (let parent = element.parentElement; parent; parent = parent.parentElement) {
    const style = getComputedStyle(parent);
    if (style.overflowX === "visible" && style.overflowY === "visible") { continue; }
    const frame = parent.getBoundingClientRect();
    if (box.left < frame.left - 1 || box.right > frame.right + 1) {
      return "cut by " + parent.tagName.toLowerCase() + "." + parent.className;
    }
  }
  if (box.left < -1 || box.right > window.innerWidth + 1) { return "outside the viewport"; }
  // (A chart's SVG label has no CSS box to overflow.)
  if (!(element instanceof SVGElement) && element.scrollWidth > element.clientWidth + 1) {
    return "its content overflows it";
  }
  return "";
}"""

# Scroll the page down (only down: no table is scrolled sideways) to the element.
SCROLL_DOWN_TO = """(element) => {
  const box = element.getBoundingClientRect();
  window.scrollTo(0, window.scrollY + box.top - window.innerHeight / 3);
}"""

# Scroll the element's nearest horizontal scroller (a .table-wrap) just far enough
# to show the element, as a swipe would.
SCROLL_SIDEWAYS_TO = """(element) => {
  for (let parent = element.parentElement; parent; parent = parent.parentElement) {
    if (parent.scrollWidth > parent.clientWidth + 1
        && ["auto", "scroll"].includes(getComputedStyle(parent).overflowX)) {
      const box = element.getBoundingClientRect(), frame = parent.getBoundingClientRect();
      if (box.right > frame.right) { parent.scrollLeft += box.right - frame.right; }
      if (box.left < frame.left) { parent.scrollLeft -= frame.left - box.left; }
      return;
    }
  }
}"""


@pytest.fixture
def demo(settings):
    # The demo sets eight passwords; a fast hasher keeps the load quick. Snapshots
    # and evaluations run in process, as the worker would run them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        call_command("load_demo", **QUICK, stdout=StringIO())
        call_command("load_compliance_demo", stdout=StringIO())
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture
def phone_for(browser, live_server):
    contexts = []

    def open_phone(username):
        context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    yield open_phone
    for context in contexts:
        context.close()


def why_not_visible(locator) -> str:
    return locator.evaluate(WHY_NOT_VISIBLE)


def seen_without_swiping(locator) -> str:
    """Empty when the element is visible whole once the page is scrolled down to it."""
    locator.evaluate(SCROLL_DOWN_TO)
    return why_not_visible(locator)


def reachable(locator) -> str:
    """Empty when the element is visible whole, at once or after swiping its table."""
    if seen_without_swiping(locator) == "":
        return ""
    locator.evaluate(SCROLL_SIDEWAYS_TO)
    return why_not_visible(locator)


def no_sideways_page_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def swipe_left(page, locator, distance):
    """A finger dragged ``distance`` px leftwards across the element (touch events,
    as a phone sends them, so a chart that swallowed touches would not scroll)."""
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] - 20, box["y"] + box["height"] / 2
    touch = page.context.new_cdp_session(page)
    touch.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}
    )
    for step in range(1, 11):
        point = {"x": x - distance * step / 10, "y": y}
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    touch.detach()


def test_officer_sees_severity_state_and_utilisation_of_every_alert(
    demo, phone_for, live_server, artifacts
):
    page = phone_for("compliance")
    page.goto(f"{live_server.url}/compliance/")
    page.wait_for_selector("#alert-table")
    rows = page.locator("#alert-table tbody tr[data-alert]")
    assert rows.count() > 0
    for index in range(rows.count()):
        row = rows.nth(index)
        for label in ("Severity", "State", "Utilisation"):
            cell = row.locator(f"td[data-label='{label}']")
            assert cell.inner_text().strip(), (index, label)
            assert seen_without_swiping(cell) == "", (index, label, why_not_visible(cell))
        badge = row.locator("td[data-label='Severity'] .badge")
        assert why_not_visible(badge) == ""
    assert no_sideways_page_scroll(page)
    page.screenshot(path=str(artifacts / "phone-alert-queue-390.png"), full_page=True)


def test_officer_tells_rules_of_one_name_apart_by_their_scope(
    demo, phone_for, live_server, artifacts
):
    page = phone_for("compliance")
    page.goto(f"{live_server.url}/compliance/rules/")
    rows = page.locator("#rule-table tbody tr")
    names = [rows.nth(i).locator("td.stack-title").inner_text() for i in range(rows.count())]
    assert len(set(names)) == len(names)  # a template's rules carry their portfolio or scope
    seen = set()
    for index in range(rows.count()):
        scope = rows.nth(index).locator("td[data-label='Scope']")
        assert seen_without_swiping(scope) == "", (names[index], why_not_visible(scope))
        seen.add((names[index], scope.inner_text()))
    assert len(seen) == len(names)  # name and scope together tell every rule apart
    assert no_sideways_page_scroll(page)
    page.screenshot(path=str(artifacts / "phone-rules-390.png"), full_page=True)


def test_trader_sees_the_outcome_of_a_pre_trade_check(demo, phone_for, live_server, artifacts):
    portfolio = Portfolio.objects.get(code="EQ-US-GROWTH")
    holding = (
        PositionSnapshot.objects.filter(portfolio=portfolio)
        .exclude(instrument__asset_class="cash")
        .order_by("-date", "-quantity")
        .values_list("instrument__identifier", flat=True)
        .first()
    )
    page = phone_for("trader")
    page.goto(f"{live_server.url}/compliance/pre-trade/")
    page.select_option("#id_portfolio", str(portfolio.pk))
    page.fill("#id_instrument", holding)
    page.fill("#id_quantity", "100000")
    page.click("#pretrade-form button[type=submit]")
    page.wait_for_selector("#pretrade-result")
    rows = page.locator("#pretrade-table tbody tr")
    assert rows.count() > 0
    for index in range(rows.count()):
        outcome = rows.nth(index).locator("td[data-label='Outcome'] .badge")
        assert outcome.inner_text().strip().lower() in OUTCOMES
        assert seen_without_swiping(outcome) == "", (index, why_not_visible(outcome))
    assert no_sideways_page_scroll(page)
    page.screenshot(path=str(artifacts / "phone-pretrade-390.png"), full_page=True)


def test_manager_reads_whole_net_assets_and_every_month(demo, phone_for, live_server, artifacts):
    page = phone_for("pm")
    page.goto(f"{live_server.url}/portfolios/")  # logging in lands on the PM dashboard
    page.wait_for_selector("#portfolio-table")
    rows = page.locator("#portfolio-table tbody tr")
    assert rows.count() > 0
    for index in range(rows.count()):
        cell = rows.nth(index).locator("td.num").first  # net assets, in the reporting currency
        currency, amount = cell.inner_text().splitlines()[0].split(" ", 1)
        assert len(currency) == 3 and amount.replace(",", "").replace(".", "").isdigit()
        assert seen_without_swiping(cell) == "", (index, why_not_visible(cell))
    assert no_sideways_page_scroll(page)
    page.screenshot(path=str(artifacts / "phone-portfolio-list-390.png"), full_page=True)

    portfolio = Portfolio.objects.get(code="EQ-US-GROWTH")  # a whole first calendar year
    page.goto(f"{live_server.url}/portfolios/{portfolio.pk}/performance/")
    page.wait_for_selector("#calendar-chart .main-svg", timeout=15_000)
    scroller = page.locator("#calendar-scroller")
    december = page.locator("#calendar-chart .xtick text", has_text="Dec")
    assert seen_without_swiping(december) == "cut by div.chart-scroll"  # at first
    swipe_left(page, scroller, 400)
    page.wait_for_function(
        "e => e.scrollLeft + e.clientWidth >= e.scrollWidth - 1", arg=scroller.element_handle()
    )
    assert why_not_visible(december) == ""
    december_cell = page.locator("#calendar-table thead th", has_text="Dec")
    assert reachable(december_cell) == ""
    assert no_sideways_page_scroll(page)
    page.locator("#calendar").screenshot(path=str(artifacts / "phone-heatmap-390.png"))
