"""The audit page on a phone (390 px) and a desktop in headless Chromium: the
rows are cards (or the table swipes), nothing widens the page, and the export
buttons are on screen."""

import datetime as dt
from unittest import mock

import pytest

from portal.models import AuditAction, Role
from portal.services import audit_record
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def olivia(alice, growth):
    officer = UserFactory(username="olivia", role=Role.COMPLIANCE_OFFICER)
    officer.set_password(PASSWORD)
    officer.save()
    with mock.patch(
        "django.utils.timezone.now", return_value=dt.datetime(2026, 3, 30, 10, tzinfo=dt.UTC)
    ):
        audit_record(
            actor=alice,
            action=AuditAction.EXPORT,
            target=growth,
            details={"format": "xlsx", "size": 123_456, "sha256": "ef" * 32, "rows": 1200},
        )
    return officer


@pytest.mark.parametrize("width", [390, 1440])
def test_the_log_fits_the_screen(browser, live_server, olivia, artifacts, width):
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    page.goto(f"{live_server.url}/audit/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/audit/")
    page.screenshot(path=str(artifacts / f"audit-page-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    export_row = page.locator("#audit-table tr", has_text="Export downloaded")
    details = export_row.locator("td.audit-details")
    assert "XLSX · 120.6 KiB · SHA-256 efefefefefef…" in details.inner_text()
    box = details.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    for button in ("#audit-export-csv", "#audit-export-xlsx"):
        assert page.locator(button).is_visible()
    page.close()
