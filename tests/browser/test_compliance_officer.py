"""A compliance officer in Chromium, on a phone and on a desktop: a decision taken
without its comment or reason shows the error where she is looking (the decision's
form, scrolled into view, with a line at the top of the page), and the headroom view
lists every rule on her portfolios, most used first, re-sorted from its header."""

import pytest

from compliance.models import Alert, AlertState, Rule
from compliance.services.evaluation.run import evaluate_now
from portal.models import AccessLevel, Role
from portal.services import entitlement_grant
from tests.compliance.conftest import BUY, book, business_days
from tests.factories import PASSWORD, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def olivia(growth, income):
    """The compliance officer of GROWTH and INCOME (as in tests/compliance)."""
    officer = UserFactory(username="olivia", role=Role.COMPLIANCE_OFFICER)
    TeamFactory(name="Compliance").members.add(officer)
    for portfolio in (growth, income):
        entitlement_grant(actor=None, portfolio=portfolio, user=officer, level=AccessLevel.VIEW)
    return officer


IN_VIEWPORT = """(element) => {
  const box = element.getBoundingClientRect();
  return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
}"""


@pytest.fixture
def officer_book(growth, income, olivia):
    """GROWTH breaches a 10 % instrument limit (AAA at 11,979 / 102,979 = 116.3 %
    of it on day 3); a 1 % minimum cash rule is far inside (83.5 % cash)."""
    days = business_days(4)
    closes = {"AAA": [100, 110, 121, 133.1], "BBB": [50] * 4}
    book(growth, days=days, closes=closes, trades=[(0, "AAA", BUY, 90), (0, "BBB", BUY, 100)])
    Rule.objects.create(
        name="Max 10% per instrument",
        kind="max_instrument_weight",
        limit=0.1,
        params={"exclude_asset_classes": ["cash"]},
    )
    Rule.objects.create(name="Min cash 1%", kind="min_cash", limit=0.01)
    for day in days:
        evaluate_now(portfolio=growth, as_of=day)
    return Alert.objects.get(rule__kind="max_instrument_weight")


def _log_in(page, url):
    page.goto(url)
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.parametrize("width", [390, 1440])
def test_decision_errors_are_shown_where_the_officer_is_looking(
    browser, live_server, officer_book, artifacts, width
):
    alert = officer_book
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    _log_in(page, f"{live_server.url}/compliance/alerts/{alert.id}/")
    page.wait_for_selector("#action-acknowledge")
    page.screenshot(path=str(artifacts / f"compliance-officer-alert-{width}.png"), full_page=True)

    page.click("#action-acknowledge button[type=submit]")
    summary = page.wait_for_selector("#action-acknowledge-errors")
    assert "Acknowledging an alert requires a comment." in summary.inner_text()
    assert summary.evaluate(IN_VIEWPORT), "the error summary is off screen"
    assert page.evaluate("document.activeElement.id") == "action-acknowledge-errors"
    assert "Not acknowledged." in page.locator("#decision-banner").inner_text()
    page.screenshot(path=str(artifacts / f"compliance-officer-acknowledge-error-{width}.png"))

    page.click("#action-waive button[type=submit]")
    summary = page.wait_for_selector("#action-waive-errors")
    assert "Waiving an alert requires a reason." in summary.inner_text()
    assert summary.evaluate(IN_VIEWPORT), "the error summary is off screen"
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN

    page.fill("#action-acknowledge textarea", "Reviewed with the desk")
    page.click("#action-acknowledge button[type=submit]")
    page.wait_for_selector("text=Acknowledged.")
    assert page.locator("#action-acknowledge").count() == 0  # no longer on offer
    assert page.locator("#action-reopen").count() == 1


@pytest.mark.parametrize("width", [390, 1440])
def test_the_headroom_view_shows_what_is_about_to_breach(
    browser, live_server, officer_book, artifacts, width
):
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    _log_in(page, f"{live_server.url}/compliance/headroom/")
    page.wait_for_selector("#headroom-table")
    rows = page.locator("#headroom-table tbody tr")
    assert rows.count() == 2
    assert "Max 10% per instrument" in rows.nth(0).inner_text()
    assert "16.3% beyond" in rows.nth(0).inner_text()
    page.screenshot(path=str(artifacts / f"compliance-headroom-{width}.png"), full_page=True)

    if width == 390:  # the headers are hidden on a phone: the sort menu instead
        page.select_option("#id_sort", "utilisation")
        page.click("#headroom-sort button[type=submit]")
    else:
        page.click("#headroom-table th.sortable >> text=Utilisation")
    page.wait_for_url("**sort=utilisation**")
    assert "Min cash 1%" in page.locator("#headroom-table tbody tr").nth(0).inner_text()
    header = page.locator("#headroom-table th[aria-sort=ascending]")
    assert "Utilisation" in header.inner_text()


@pytest.mark.parametrize("width", [390, 1440])
def test_the_pre_trade_check_reads_what_the_trade_does(
    browser, live_server, officer_book, growth, artifacts, width
):
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    _log_in(page, f"{live_server.url}/compliance/pre-trade/")
    page.select_option("#id_portfolio", str(growth.id))
    page.fill("#id_instrument", "BBB")
    page.select_option("#id_side", "buy")
    page.fill("#id_quantity", "1")
    page.click("#pretrade-form button[type=submit]")
    headline = page.wait_for_selector("#pretrade-headline").inner_text()
    # AAA's breach is there before and after: the buy of one BBB leaves it unchanged.
    assert headline.startswith("Allowed:") and "would breach" not in headline
    assert "unchanged" in headline
    assert page.locator("#pretrade-groups").count() == 1
    page.screenshot(path=str(artifacts / f"compliance-pretrade-{width}.png"), full_page=True)

    page.select_option("#id_side", "sell")
    page.fill("#id_instrument", "AAA")
    page.fill("#id_quantity", "1000")
    page.click("#pretrade-form button[type=submit]")
    summary = page.wait_for_selector("#pretrade-form-errors")
    assert "no short-selling permission" in summary.inner_text()


@pytest.fixture
def escalated_var(income, admin_user):
    """INCOME's absolute VaR test breached from Monday 1 July 2024 (110 % of the
    20 % limit), escalated on the sixth NYSE business day, 9 July (4 July closed)."""
    from compliance.services.rules import template_apply
    from tests.compliance.test_remediation_18f4 import JULY, observe

    template_apply(
        user=admin_user, template="sec_18f4_absolute", scope="portfolio", portfolio=income
    )
    rule = Rule.objects.get(kind="max_var", portfolio=income)
    for day in (1, 2, 3, 5, 8, 9):
        observe(rule, income, JULY[day], utilisation=1.1)
    return Alert.objects.get(rule=rule)


@pytest.mark.parametrize("width", [390, 1440])
def test_an_escalated_18f4_alert_shows_its_remediation_steps(
    browser, live_server, olivia, escalated_var, artifacts, width
):
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    _log_in(page, f"{live_server.url}/compliance/alerts/{escalated_var.id}/")
    card = page.wait_for_selector("#remediation")
    text = card.inner_text()
    assert "Escalated on 9 Jul 2024" in text or "Escalated on 2024-07-09" in text
    assert "Report to the board" in text and "Form N-RN, Part E" in text
    assert page.locator("#remediation-restriction").count() == 1
    page.wait_for_selector("#utilisation-chart .main-svg")
    page.screenshot(path=str(artifacts / f"compliance-18f4-alert-{width}.png"), full_page=True)


@pytest.fixture
def one_day(income, olivia):
    """One evaluated day: 23 AAA × 100 = 2,300 of INCOME's 100,000 (2.30 %), on a
    watch list and against a 2 % instrument limit (115 % of it)."""
    days = business_days(1)
    book(income, days=days, closes={"AAA": [100]}, trades=[(0, "AAA", BUY, 23)])
    Rule.objects.create(
        name="Watch AAA", kind="watch_list", limit=0.0, params={"identifiers": ["AAA"]}
    )
    Rule.objects.create(name="Max 2% per instrument", kind="max_instrument_weight", limit=0.02)
    evaluate_now(portfolio=income, as_of=days[0])
    return {alert.rule.kind: alert for alert in Alert.objects.select_related("rule")}


@pytest.mark.parametrize("width", [390, 1440])
def test_a_chart_of_one_observation_is_a_dated_point(
    browser, live_server, one_day, artifacts, width
):
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    _log_in(page, f"{live_server.url}/compliance/alerts/{one_day['watch_list'].id}/")
    page.wait_for_selector("#alert-reading")
    assert "Watch-list hit: AAA (2.30% of net assets)" in page.inner_text("#alert-reading")
    assert page.locator("#utilisation-chart").count() == 0  # a list has no utilisation

    page.goto(f"{live_server.url}/compliance/alerts/{one_day['max_instrument_weight'].id}/")
    page.wait_for_selector("#utilisation-chart .main-svg")
    ticks = page.eval_on_selector_all(
        "#utilisation-chart .xtick text", "texts => texts.map(t => t.textContent)"
    )
    assert "04 Mar 2024" in ticks  # dates as dates, a day a tick, not milliseconds
    assert page.locator("#utilisation-chart .scatterlayer .point").count() == 1
    page.screenshot(path=str(artifacts / f"compliance-one-observation-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", [390, 1440])
def test_a_rule_reads_without_slugs_and_offers_no_edit_to_whom_may_not(
    browser, live_server, officer_book, artifacts, width
):
    everyone = Rule.objects.get(kind="min_cash")  # every portfolio: administrators only
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    _log_in(page, f"{live_server.url}/compliance/rules/{everyone.id}/")
    page.wait_for_selector("h1")
    assert page.locator("#rule-edit-form").count() == 0
    assert page.locator("#rule-deactivate-form").count() == 0
    assert "a minimum" in page.inner_text("main")
    page.goto(f"{live_server.url}/compliance/rules/")
    page.wait_for_selector("#rule-table")
    page.screenshot(path=str(artifacts / f"compliance-rules-{width}.png"), full_page=True)
