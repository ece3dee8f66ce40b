"""The portfolio list an executive opens first: returns, active return, open alerts
by severity, completeness and assets under management in a chosen currency."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import (
    DERIVED_SOURCE,
    AnalyticsSnapshot,
    FxRate,
    PortfolioDataStatus,
    PositionSnapshot,
    SnapshotStatus,
)
from analytics.selectors.overview import portfolio_overview
from compliance.models import Alert, AlertState, Rule
from tests.factories import InstrumentFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 3, 28)


@pytest.fixture
def book(growth, income):
    """GROWTH: USD 1,000,000 with a snapshot (YTD +5 % against a benchmark's +3 %);
    INCOME: EUR 500,000 without a snapshot; EUR 1 = USD 1.08 the day before."""
    income.base_currency = "EUR"
    income.save()
    stock = InstrumentFactory(identifier="OVW1")
    for portfolio, value in ((growth, "1000000"), (income, "500000")):
        PositionSnapshot.objects.create(
            portfolio=portfolio,
            instrument=stock,
            date=AS_OF,
            quantity=Decimal(1),
            price=Decimal(value),
            market_value_local=Decimal(value),
            market_value_base=Decimal(value),
            source=DERIVED_SOURCE,
        )
    FxRate.objects.create(
        date=AS_OF - dt.timedelta(days=1), base_currency="EUR", quote_currency="USD", rate=1.08
    )
    AnalyticsSnapshot.objects.create(
        portfolio=growth,
        as_of=AS_OF,
        data_version=growth.data_version,
        status=SnapshotStatus.DONE,
        result={
            "period_returns": {
                "portfolio": {"day": 0.001, "mtd": 0.012, "ytd": 0.05},
                "benchmark": {"day": 0.002, "mtd": 0.010, "ytd": 0.03},
                "active_arithmetic": {"day": -0.001, "mtd": 0.002, "ytd": 0.02},
            }
        },
    )
    PortfolioDataStatus.objects.create(
        portfolio=growth,
        date=AS_OF,
        holdings=4,
        priced=3,
        valued=3,
        completeness=0.75,
        computed_at=timezone.now(),
    )
    for number, (severity, state) in enumerate(
        (
            ("breach", AlertState.OPEN),
            ("breach", AlertState.ACKNOWLEDGED),
            ("breach", AlertState.RESOLVED),
            ("warning", AlertState.SNOOZED),
        ),
    ):
        rule = Rule.objects.create(name=f"Max {number}%", kind="max_instrument_weight", limit=0.1)
        Alert.objects.create(
            rule=rule,
            portfolio=growth,
            severity=severity,
            state=state,
            opened_on=AS_OF,
            last_observed_on=AS_OF,
        )
    return {"growth": growth, "income": income}


def test_rows_read_returns_active_return_alerts_and_completeness(book, alice):
    overview = portfolio_overview(user=alice, reporting_currency="USD")
    growth, income = overview.rows
    assert (growth.day, growth.mtd, growth.ytd, growth.active_ytd) == (0.001, 0.012, 0.05, 0.02)
    assert growth.facts["open_alerts"] == {"breach": 2, "warning": 1}  # the resolved one is closed
    assert growth.completeness == 0.75
    assert income.ytd is None and income.facts["open_alerts"] is None


def test_assets_under_management_are_converted_at_the_latest_rate(book, alice):
    overview = portfolio_overview(user=alice, reporting_currency="USD")
    assert overview.total == pytest.approx(1_000_000 + 500_000 * 1.08)
    in_euro = portfolio_overview(user=alice, reporting_currency="EUR")
    assert in_euro.total == pytest.approx(1_000_000 / 1.08 + 500_000)


def test_a_portfolio_without_a_rate_is_named_and_left_out_of_the_total(book, alice):
    overview = portfolio_overview(user=alice, reporting_currency="GBP")
    assert overview.unconverted == ["GROWTH", "INCOME"]
    assert overview.total == 0


def test_the_page_sorts_by_any_column_with_the_sort_in_the_url(book, alice, client):
    client.force_login(alice)
    page = client.get(reverse("portfolio-list"), {"sort": "-ytd", "currency": "USD"})
    assert page.status_code == 200
    assert [row.portfolio.code for row in page.context["rows"]] == ["GROWTH", "INCOME"]
    by_assets = client.get(reverse("portfolio-list"), {"sort": "-net_assets"})
    assert [row.portfolio.code for row in by_assets.context["rows"]] == ["GROWTH", "INCOME"]
    html = page.content.decode()
    assert "USD 1,540,000.00" in html
    assert "2 breaches" in html and "1 warning" in html
    assert 'aria-sort="descending"' in html


def test_an_unknown_sort_or_currency_is_a_bad_request_naming_the_choices(book, alice, client):
    client.force_login(alice)
    bad_sort = client.get(reverse("portfolio-list"), {"sort": "password"})
    assert bad_sort.status_code == 400
    assert "sort by one of code" in bad_sort.content.decode()
    bad_currency = client.get(reverse("portfolio-list"), {"currency": "XXX"})
    assert bad_currency.status_code == 400
    assert "EUR" in bad_currency.content.decode()
