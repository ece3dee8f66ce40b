"""A compliance officer opens the alert queue in Chromium, filters it, tries to
acknowledge without a comment (and is told why), then acknowledges two alerts in
bulk and opens one to see its holdings, utilisation chart and history."""

import pytest

from compliance.models import Alert, AlertState, Rule
from compliance.services.evaluation.run import evaluate_now
from tests.compliance.conftest import BUY, book, business_days
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(growth, income, hidden, olivia):
    days = business_days(4)
    closes = {"AAA": [100, 110, 121, 133.1], "BBB": [50] * 4}
    book(growth, days=days, closes=closes, trades=[(0, "AAA", BUY, 90), (0, "BBB", BUY, 100)])
    rule = Rule.objects.create(
        name="Max 10% per instrument",
        kind="max_instrument_weight",
        limit=0.1,
        params={"exclude_asset_classes": ["cash"]},
    )
    for day in days:
        evaluate_now(portfolio=growth, as_of=day)
    other = Rule.objects.create(name="Min cash 95%", kind="min_cash", limit=0.95)
    Alert.objects.create(
        rule=other,
        portfolio=income,
        severity="warning",
        opened_on=days[0],
        last_observed_on=days[0],
        last_utilisation=0.93,
    )
    Alert.objects.create(
        rule=other,
        portfolio=hidden,
        severity="breach",
        opened_on=days[0],
        last_observed_on=days[0],
        last_utilisation=2.0,
    )
    return rule


@pytest.mark.parametrize("width", [1440, 390])
def test_officer_works_the_alert_queue(browser, live_server, queue, olivia, artifacts, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}/compliance/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.wait_for_selector("#alert-table")
    rows = page.locator("#alert-table tbody tr[data-alert]")
    assert rows.count() == 2  # growth's and income's; hidden's is not olivia's to see
    assert "HIDDEN" not in page.content()

    page.select_option("#alert-filters select[name=severity]", "breach")
    page.click("#alert-filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#alert-table tbody tr[data-alert]").count() == 1

    page.select_option("#alert-filters select[name=severity]", "")
    page.click("#alert-filters button[type=submit]")
    page.wait_for_load_state()
    for checkbox in page.locator("#alert-table input[type=checkbox]").all():
        checkbox.check()
    page.click("#bulk-acknowledge")
    page.wait_for_selector("text=Acknowledging an alert requires a comment.")

    for checkbox in page.locator("#alert-table input[type=checkbox]").all():
        checkbox.check()
    page.fill("#bulk-form textarea[name=comment]", "Reviewed with the desk")
    page.click("#bulk-acknowledge")
    page.wait_for_selector("text=Acknowledged 2 alert(s).")
    assert set(Alert.objects.exclude(portfolio__code="HIDDEN").values_list("state", flat=True)) == {
        AlertState.ACKNOWLEDGED
    }

    page.select_option("#alert-filters select[name=state]", "acknowledged")
    page.click("#alert-filters button[type=submit]")
    page.wait_for_load_state()
    alert = Alert.objects.get(rule=queue)
    page.click(f"a[href='/compliance/alerts/{alert.id}/']")
    page.wait_for_selector("#causing-holdings")
    assert "AAA" in page.locator("#causing-holdings").inner_text()
    page.wait_for_selector("#utilisation-chart .main-svg")
    history = page.locator("#alert-history").inner_text()
    # Transitions by their labels, people by their names.
    assert "Opened by the system" in history
    assert f"Acknowledged by {olivia.get_full_name() or olivia.username}" in history
    page.screenshot(path=str(artifacts / f"compliance-alert-{width}.png"), full_page=True)
