"""Alice's schedule pages in headless Chromium on a phone (390 px) and a desktop
(1440 px): the list, the form (whose "Next ten runs" follows the rule as she
changes it, through the preview API) and a schedule's page with its deliveries.
At 390 px each key column (the schedule, its next run and status; each
delivery's recipient, state and attempts) is on screen whole; no page has a
script error or sideways scroll. Screenshots go to the artifacts folder.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reports.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    OccurrenceState,
    ScheduleOccurrence,
)
from reports.services.schedules import schedule_create
from reports.services.templates import report_template_create
from tests.browser.test_phone_widths import WHY_NOT_VISIBLE
from tests.factories import PASSWORD, PortfolioFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alices_schedule():
    alice = UserFactory(username="alice", first_name="Alice", last_name="Owner")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Reader")
    PortfolioFactory(code="GROWTH", name="Global Growth", owner=alice)
    template = report_template_create(
        user=alice,
        name="Monthly pack",
        blocks=["holdings"],
        parameters={"scope": "entitled", "period": "ytd"},
    )
    schedule = schedule_create(
        user=alice,
        data={
            "name": "Morning pack for the equity desk",
            "template": template.slug,
            "cron": "0 8 * * 1-5",
            "timezone": "Europe/London",
            "period": "previous_month",
            "formats": ["pdf"],
            "channels": ["inbox", "email"],
            "recipients": {"users": ["alice", "bob"]},
        },
    )
    slot = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=1)
    occurrence = ScheduleOccurrence.objects.create(
        schedule=schedule,
        slot_at=slot,
        period_start=dt.date(2026, 2, 1),
        period_end=dt.date(2026, 2, 28),
        period_label="February 2026",
        state=OccurrenceState.DONE,
        ready_by=slot + dt.timedelta(hours=2),
    )
    Delivery.objects.create(
        key=f"{schedule.pk}:a:u{bob.pk}:inbox:*",
        occurrence=occurrence,
        schedule=schedule,
        channel=DeliveryChannel.INBOX,
        recipient=bob,
        state=DeliveryState.CONFIRMED,
        attempts=1,
        sent_at=slot,
        confirmed_at=slot + dt.timedelta(minutes=5),
        confirmation="inbox item read",
    )
    Delivery.objects.create(
        key=f"{schedule.pk}:a:u{bob.pk}:email:*",
        occurrence=occurrence,
        schedule=schedule,
        channel=DeliveryChannel.EMAIL,
        recipient=bob,
        state=DeliveryState.FAILED,
        attempts=5,
        error="SMTP 554: mailbox unavailable for bob@example.com after five attempts",
        failed_at=slot,
    )
    return schedule


@pytest.fixture
def page_for(browser, live_server):
    contexts = []

    def open_page(width):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        refused: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # A refused request is logged by the browser as a console error too; those
        # are checked one by one (``refused``), every other console error fails.
        page.on(
            "console",
            lambda message: (
                errors.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                refused.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.js_errors = errors
        page.refused = refused
        contexts.append(context)
        return page

    yield open_page
    for context in contexts:
        context.close()


def not_visible(page, selector: str) -> list[str]:
    """Why each element matching ``selector`` is not fully on screen (none: [])."""
    problems = []
    for element in page.locator(selector).all():
        element.scroll_into_view_if_needed()
        why = element.evaluate(WHY_NOT_VISIBLE)
        if why:
            problems.append(f"{selector}: {why}")
    return problems


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [390, 1440])
def test_schedule_list_form_and_detail(page_for, live_server, alices_schedule, artifacts, width):
    page = page_for(width)
    schedule = alices_schedule

    # The list
    page.goto(f"{live_server.url}/reports/schedules/")
    row = f"#schedule-table tr[data-schedule='{schedule.id}']"
    assert page.locator(row).count() == 1
    assert "Morning pack for the equity desk" in page.locator(row).inner_text()
    key_cells = [f"{row} td.stack-title a", f"{row} td.schedule-next", f"{row} .badge"]
    problems = [problem for cell in key_cells for problem in not_visible(page, cell)]
    assert problems == []
    assert page.locator(f"{row} button", has_text="Run now").is_visible()
    assert no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"schedule-list-{width}.png"), full_page=True)

    # The form: the preview follows the rule.
    page.goto(f"{live_server.url}/reports/schedules/{schedule.id}/edit/")
    preview = page.locator("#schedule-preview li")
    assert preview.count() == 10
    assert page.locator("#id_calendar_rule").is_hidden()  # a cron schedule
    page.select_option("#id_timezone", "Asia/Tokyo")
    page.wait_for_function(
        """() => {
          const items = document.querySelectorAll("#schedule-preview li");
          return items.length === 10 && items[0].textContent.endsWith("+09:00");
        }""",
        timeout=15_000,
    )
    assert all(item.endswith(" 08:00 +09:00") for item in preview.all_inner_texts())
    page.check("#id_rule_kind_1")  # a market-calendar rule
    assert page.locator("#id_calendar_rule").is_visible()
    page.select_option("#id_calendar_rule", "nth_business_day")
    assert page.locator("#id_calendar_n").is_visible()
    assert page.refused == []
    page.fill("#id_calendar_n", "40")  # no month has forty business days
    page.wait_for_function(
        "() => !document.getElementById('schedule-preview-error').hidden", timeout=15_000
    )
    assert page.locator("#schedule-preview-error").inner_text().strip()
    assert preview.count() == 0
    assert [line.split("?")[0] for line in page.refused] == [
        f"400 {live_server.url}/api/schedules/preview/"
    ]
    page.refused.clear()
    assert no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"schedule-form-{width}.png"), full_page=True)

    # A schedule's page
    page.goto(f"{live_server.url}/reports/schedules/{schedule.id}/")
    assert page.locator("#schedule-preview li").count() == 10
    deliveries = page.locator("tr[data-delivery]")
    assert deliveries.count() == 2
    key_cells = [
        "tr[data-delivery] td.stack-title",
        "tr[data-delivery] td[data-label='State'] .badge",
        "tr[data-delivery] td[data-label='Attempts']",
        "tr[data-delivery] td[data-label='Channel']",
    ]
    problems = [problem for cell in key_cells for problem in not_visible(page, cell)]
    assert problems == []
    failed = page.locator("tr[data-delivery]", has_text="Failed")
    assert failed.locator("button", has_text="Retry").is_visible()
    assert "mailbox unavailable" in failed.inner_text()
    assert no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"schedule-detail-{width}.png"), full_page=True)

    assert page.js_errors == []
    assert page.refused == []
