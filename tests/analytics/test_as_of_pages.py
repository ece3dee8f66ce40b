"""Every portfolio tab takes an as-of date: answered from a stored snapshot where
one exists, queued as a snapshot compute where none does (never computed inside
the request), with the page saying so."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import DERIVED_SOURCE, AnalyticsSnapshot, PositionSnapshot, SnapshotStatus
from tests.factories import InstrumentFactory

pytestmark = pytest.mark.django_db

WEDNESDAY, THURSDAY = dt.date(2024, 3, 27), dt.date(2024, 3, 28)


@pytest.fixture
def positions(growth):
    stock = InstrumentFactory(identifier="ASOF1")
    for day in (WEDNESDAY, THURSDAY):
        PositionSnapshot.objects.create(
            portfolio=growth,
            instrument=stock,
            date=day,
            quantity=Decimal(10),
            price=Decimal(100),
            market_value_local=Decimal(1000),
            market_value_base=Decimal(1000),
            source=DERIVED_SOURCE,
        )
    AnalyticsSnapshot.objects.create(
        portfolio=growth,
        as_of=THURSDAY,
        data_version=growth.data_version,
        status=SnapshotStatus.DONE,
        result={},
    )
    return growth


@pytest.mark.parametrize("tab", ["portfolio-detail", "portfolio-performance", "portfolio-risk"])
def test_a_past_date_without_a_snapshot_is_queued_and_the_page_says_so(
    positions, alice, client, tab
):
    client.force_login(alice)
    page = client.get(reverse(tab, args=[positions.id]), {"as_of": "2024-03-27"})
    assert page.status_code == 200
    queued = AnalyticsSnapshot.objects.get(portfolio=positions, as_of=WEDNESDAY)
    assert queued.status == SnapshotStatus.PENDING
    html = page.content.decode()
    assert "Analytics as of 2024-03-27 are being computed" in html
    assert 'http-equiv="refresh"' in html
    assert f"{reverse('portfolio-risk', args=[positions.id])}?as_of=2024-03-27" in html


def test_a_stored_snapshot_of_the_date_answers_at_once(positions, alice, client):
    AnalyticsSnapshot.objects.create(
        portfolio=positions,
        as_of=WEDNESDAY,
        data_version=positions.data_version,
        status=SnapshotStatus.DONE,
        result={},
    )
    client.force_login(alice)
    page = client.get(reverse("portfolio-detail", args=[positions.id]), {"as_of": "2024-03-27"})
    html = page.content.decode()
    assert page.context["view"].snapshot.as_of == WEDNESDAY
    assert "being computed" not in html and 'http-equiv="refresh"' not in html
    assert AnalyticsSnapshot.objects.filter(portfolio=positions).count() == 2  # nothing queued


def test_a_date_without_positions_shows_the_date_before_and_says_so(positions, alice, client):
    client.force_login(alice)
    saturday = client.get(reverse("portfolio-detail", args=[positions.id]), {"as_of": "2024-03-30"})
    assert saturday.context["view"].snapshot.as_of == THURSDAY
    assert "No positions on 2024-03-30: showing 2024-03-28" in saturday.content.decode()


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("28/03/2024", "is not a date such as 2024-03-28"),
        ("2020-01-01", "has no positions on or before 2020-01-01"),
    ],
)
def test_a_bad_as_of_date_is_a_bad_request_that_says_why(positions, alice, client, as_of, message):
    client.force_login(alice)
    page = client.get(reverse("portfolio-detail", args=[positions.id]), {"as_of": as_of})
    assert page.status_code == 400
    assert message in page.content.decode()
    assert AnalyticsSnapshot.objects.filter(portfolio=positions).count() == 1


def _metric(page, key):
    return next(
        row["portfolio"]
        for group in page.context["metric_groups"]
        for row in group["rows"]
        if row["key"] == key
    )


def test_a_custom_range_is_measured_on_the_stored_daily_returns(positions, alice, client):
    """Returns +1 %, −2 %, +3 %, +1 %, +2 % stored; from the third day the range
    holds +3 %, +1 %, +2 %: cumulative 1.03 × 1.01 × 1.02 − 1 = 6.1106 %."""
    days = ["2024-03-22", "2024-03-25", "2024-03-26", "2024-03-27", "2024-03-28"]
    snapshot = AnalyticsSnapshot.objects.get(portfolio=positions, as_of=THURSDAY)
    snapshot.result = {
        "data": {"risk_free_rate": 0.0, "periods_per_year": 252, "first_valuation": "2024-03-21"},
        "series": {"returns": {"dates": days, "values": [0.01, -0.02, 0.03, 0.01, 0.02]}},
        "metrics": {"windows": {"SI": {"start": days[0], "end": days[-1]}}, "definitions": {}},
    }
    snapshot.save()
    client.force_login(alice)
    page = client.get(
        reverse("portfolio-performance", args=[positions.id]),
        {"window": "custom", "start": "2024-03-26"},
    )
    assert page.status_code == 200
    assert page.context["window"]["label"] == "Custom range"
    assert page.context["window"]["start"] == "2024-03-26"
    assert _metric(page, "cumulative_return") == pytest.approx(1.03 * 1.01 * 1.02 - 1)


def test_a_custom_range_without_its_first_day_is_a_bad_request(positions, alice, client):
    client.force_login(alice)
    page = client.get(reverse("portfolio-performance", args=[positions.id]), {"window": "custom"})
    assert page.status_code == 400
    assert "A custom range needs its first day" in page.content.decode()
