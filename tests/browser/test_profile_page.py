"""The profile page in headless Chromium at phone and desktop widths: a user makes
an API token, sees its secret once with a copy button, finds it listed, revokes
it after confirming, and nothing widens the page."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.models import ApiToken
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1440])
def test_a_token_is_made_shown_once_listed_and_revoked(
    browser, live_server, alice, artifacts, width
):
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    page.goto(f"{live_server.url}/profile/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/profile/")

    page.click("#token-create summary")
    page.fill("#id_name", "Nightly export")
    page.check("input[name=scope][value=read]")
    expires = timezone.localdate() + dt.timedelta(days=30)
    page.fill("#id_expires_on", expires.isoformat())
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#new-token")
    secret = page.input_value("#new-token-secret")
    token = ApiToken.objects.get(user=alice)
    assert secret.startswith(token.token_key) and token.digest != secret
    assert page.locator("#new-token-copy").is_visible()
    row = page.locator(f"#token-table tr[data-token='{token.token_key}']")
    assert "Nightly export" in row.inner_text() and "Read only" in row.inner_text()
    page.screenshot(path=str(artifacts / f"profile-token-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.goto(f"{live_server.url}/profile/")
    assert page.locator("#new-token").count() == 0, "the secret is shown once only"
    row.locator("summary").click()
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#token-table td.empty")
    assert not ApiToken.objects.filter(user=alice).exists()
    page.close()
