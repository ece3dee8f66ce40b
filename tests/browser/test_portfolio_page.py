"""A portfolio manager logs in, opens a portfolio and sees its holdings, and that its
analytics are still being computed (the charts come from a stored snapshot)."""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import CashFlow, CashFlowKind, Price, Trade, TradeSide
from analytics.services.positions import portfolio_positions_rebuild
from tests.factories import PASSWORD, InstrumentFactory, PortfolioFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def managed_portfolio():
    manager = UserFactory(username="pm", first_name="Paula", last_name="Manager")
    portfolio = PortfolioFactory(code="EQ-GLOBAL", name="Global Equity", owner=manager)
    PortfolioFactory(code="NOT-MINE", name="Not mine")
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(60)]
    days = [d for d in days if d.weekday() < 5]
    CashFlow.objects.create(
        portfolio=portfolio,
        date=days[0],
        amount=Decimal(100_000),
        currency="USD",
        kind=CashFlowKind.SUBSCRIPTION,
        external_id="SUB-1",
        source="test",
    )
    for n, (ticker, quantity, start) in enumerate(
        [("AAA", 300, 100), ("BBB", 500, 40), ("CCC", 200, 120)]
    ):
        stock = InstrumentFactory(identifier=ticker, name=f"{ticker} Industries")
        Trade.objects.create(
            portfolio=portfolio,
            instrument=stock,
            trade_date=days[0],
            settle_date=days[2],
            side=TradeSide.BUY,
            quantity=Decimal(quantity),
            price=Decimal(start),
            currency="USD",
            external_id=f"T{n}",
            source="test",
        )
        Price.objects.bulk_create(
            Price(
                instrument=stock,
                date=day,
                close=Decimal(start) + Decimal(i % 7) - 3,
                currency="USD",
            )
            for i, day in enumerate(days)
        )
    portfolio_positions_rebuild(portfolio=portfolio)
    return portfolio


@pytest.mark.parametrize("width", [1440, 390])
def test_manager_sees_holdings_and_snapshot_status(
    browser, live_server, managed_portfolio, artifacts, width
):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "pm")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}/portfolios/")  # logging in lands on the role's dashboard

    page.wait_for_selector("#portfolio-table")
    assert page.locator("#portfolio-table tbody tr").count() == 1
    assert "NOT-MINE" not in page.content()
    page.click("text=EQ-GLOBAL")

    page.wait_for_selector("#holdings-table")
    rows = page.locator("#holdings-table tbody tr")
    identifiers = [
        rows.nth(i).locator("td").first.inner_text().splitlines()[0] for i in range(rows.count())
    ]
    assert {"AAA", "BBB", "CCC"} <= set(identifiers)
    # No snapshot was computed for this portfolio: the page says so instead of a chart.
    assert "Analytics are being computed" in page.locator("#snapshot-status").inner_text()
    assert "Global Equity" in page.locator("h1").inner_text()
    page.screenshot(path=str(artifacts / f"portfolio-detail-{width}.png"), full_page=True)
    page.close()
