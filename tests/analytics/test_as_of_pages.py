"""Every portfolio tab takes an as-of date: answered from a stored snapshot where
one exists, queued as a snapshot compute where none does (never computed inside
the request), with the page saying so."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import DERIVED_SOURCE, AnalyticsSnapshot, PositionSnapshot, SnapshotStatus
from tests.analytics.factories import allocation_months
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


def store_result(portfolio, **result) -> None:
    """``result`` (its sections by name) as the stored result of the portfolio's
    Thursday snapshot."""
    AnalyticsSnapshot.objects.filter(portfolio=portfolio, as_of=THURSDAY).update(result=result)


def custom_attribution(client, portfolio, start: str):
    """The attribution tab of ``portfolio`` for a custom range from ``start``."""
    return client.get(
        reverse("portfolio-attribution", args=[portfolio.id]), {"window": "custom", "start": start}
    )


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
    store_result(
        positions,
        data={"risk_free_rate": 0.0, "periods_per_year": 252, "first_valuation": "2024-03-21"},
        series={"returns": {"dates": days, "values": [0.01, -0.02, 0.03, 0.01, 0.02]}},
        metrics={"windows": {"SI": {"start": days[0], "end": days[-1]}}, "definitions": {}},
    )
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


def _risk_column(page, metric):
    columns = page.context["risk_window_columns"]
    row = next(r for r in page.context["risk_window_rows"] if r["metric"] == metric)
    return dict(zip([c["key"] for c in columns], row["values"], strict=True))


def test_the_risk_tab_measures_a_custom_range_beside_its_windows(positions, alice, client):
    """Returns +1 %, −2 %, +3 %, +1 %, +2 % stored; from the second day the range
    holds −2 %, +3 %, +1 %, +2 % (mean +1 %): sample variance
    (0.03² + 0.02² + 0 + 0.01²) / 3 = 0.0014 / 3, so volatility √(0.0014 / 3) × √252
    = 34.29 %; the wealth falls to 0.98 from 1 before rising to a new peak, so the
    maximum drawdown is 2 % and the current one 0; no benchmark, so no beta."""
    days = ["2024-03-22", "2024-03-25", "2024-03-26", "2024-03-27", "2024-03-28"]
    store_result(
        positions,
        data={"risk_free_rate": 0.0, "periods_per_year": 252, "first_valuation": "2024-03-21"},
        series={"returns": {"dates": days, "values": [0.01, -0.02, 0.03, 0.01, 0.02]}},
        risk_values={"annual_volatility@SI": 0.25, "var_95@SI": 0.019},
    )
    client.force_login(alice)
    page = client.get(reverse("portfolio-risk", args=[positions.id]), {"start": "2024-03-25"})
    assert page.status_code == 200
    assert [c["key"] for c in page.context["risk_window_columns"]] == ["SI", "custom"]
    assert page.context["risk_window_columns"][-1]["label"] == "from 2024-03-25"
    volatility = _risk_column(page, "annual_volatility")
    assert volatility["SI"] == 0.25  # the stored window, untouched
    assert volatility["custom"] == pytest.approx((0.0014 / 3) ** 0.5 * 252**0.5)
    assert _risk_column(page, "max_drawdown")["custom"] == pytest.approx(0.02)
    assert _risk_column(page, "current_drawdown")["custom"] == pytest.approx(0.0)
    assert _risk_column(page, "beta")["custom"] is None
    # A 95 % historical VaR of these four returns cannot exceed the worst loss, 2 %.
    assert 0 < _risk_column(page, "var_95")["custom"] <= 0.02
    html = page.content.decode()
    assert 'value="2024-03-25"' in html and "From 2024-03-25" in html


def test_a_custom_risk_range_too_short_says_why_and_keeps_the_windows(positions, alice, client):
    days = ["2024-03-27", "2024-03-28"]
    store_result(
        positions,
        series={"returns": {"dates": days, "values": [0.01, 0.02]}},
        risk_values={"annual_volatility@SI": 0.25},
    )
    client.force_login(alice)
    page = client.get(reverse("portfolio-risk", args=[positions.id]), {"start": "2024-03-28"})
    assert page.status_code == 200
    assert [c["key"] for c in page.context["risk_window_columns"]] == ["SI"]
    assert any("Fewer than two" in notice for notice in page.context["notices"])


def test_a_custom_risk_range_that_is_not_a_date_is_a_bad_request(positions, alice, client):
    client.force_login(alice)
    page = client.get(reverse("portfolio-risk", args=[positions.id]), {"start": "soon"})
    assert page.status_code == 400
    assert "A custom range needs its first day" in page.content.decode()


def test_the_attribution_tab_links_the_whole_months_of_a_custom_range(positions, alice, client):
    """Stored months: portfolio +2 %, +3 %, −1 %; benchmark +1 %, +1 %, 0 %. From
    1 February the whole months are February and March: portfolio 1.03 × 0.99 − 1 =
    1.97 %, benchmark 1.01 × 1.00 − 1 = 1 %, active 0.97 %, all of it allocation
    (the stored months have no selection or interaction); the daily returns of the
    same months link to the same 1.97 %, so no trading effect."""
    months = ["2024-01-31", "2024-02-29", "2024-03-28"]
    portfolio, benchmark = [0.02, 0.03, -0.01], [0.01, 0.01, 0.0]
    monthly = allocation_months(months, portfolio, benchmark)
    since_inception = {
        "start": months[0],
        "end": months[-1],
        "months": 3,
        "monthly": monthly,
        "groups": [{"sector": "Energy", "allocation": 0.01, "selection": 0.0, "interaction": 0.0}],
        "totals": {"allocation": 0.01, "selection": 0.0, "interaction": 0.0, "total": 0.01},
    }
    store_result(
        positions,
        data={"base_currency": "USD", "first_valuation": "2023-12-29"},
        series={"returns": {"dates": months, "values": portfolio}},
        attribution={"groupings": {"sector": {"SI": since_inception}}},
    )
    client.force_login(alice)
    page = custom_attribution(client, positions, "2024-02-01")
    assert page.status_code == 200
    linked = page.context["linked"]
    assert page.context["window"]["label"] == "Custom range"
    assert (linked["start"], linked["end"], linked["months"]) == ("2024-02-29", "2024-03-28", 2)
    assert linked["portfolio_return"] == pytest.approx(1.03 * 0.99 - 1)
    assert linked["benchmark_return"] == pytest.approx(0.01)
    assert linked["active_return"] == pytest.approx(1.03 * 0.99 - 1 - 0.01)
    assert linked["totals"]["allocation"] == pytest.approx(linked["active_return"])
    assert linked["totals"]["total"] == pytest.approx(linked["active_return"])
    assert linked["trading_effect"] == pytest.approx(0.0)
    html = page.content.decode()
    assert 'id="groups-stored-windows-only"' in html
    assert 'value="2024-02-01"' in html
    # The same range as a stored window is that window, its groups included.
    stored = custom_attribution(client, positions, "2024-01-01")
    assert stored.context["linked"]["months"] == 3
    assert [row["label"] for row in stored.context["group_rows"]] == ["Energy"]


def test_a_custom_attribution_range_without_a_whole_month_falls_back_and_says_why(
    positions, alice, client
):
    window = {"start": "2024-03-28", "end": "2024-03-28", "months": 1, "groups": [], "totals": {}}
    window["monthly"] = allocation_months(["2024-03-28"], [0.01], [0.0])
    store_result(
        positions,
        series={"returns": {"dates": ["2024-03-28"], "values": [0.01]}},
        attribution={"groupings": {"sector": {"SI": window}}},
    )
    client.force_login(alice)
    page = custom_attribution(client, positions, "2024-03-15")
    assert page.status_code == 200
    assert page.context["window"]["key"] == "SI"
    assert any("No whole month" in notice for notice in page.context["notices"])


def test_the_overview_restarts_the_cumulative_return_on_a_custom_range(positions, alice, client):
    """Returns +1 %, −2 %, +3 %, +1 %, +2 % stored; from the third day the curve
    restarts: 3 %, 1.03 × 1.01 − 1 = 4.03 %, 1.03 × 1.01 × 1.02 − 1 = 6.1106 %."""
    days = ["2024-03-22", "2024-03-25", "2024-03-26", "2024-03-27", "2024-03-28"]
    store_result(
        positions,
        data={"base_currency": "USD", "first_valuation": "2024-03-21"},
        series={
            "returns": {"dates": days, "values": [0.01, -0.02, 0.03, 0.01, 0.02]},
            "cumulative": {"dates": days, "values": [0.0] * 5},  # since inception: unused
        },
    )
    client.force_login(alice)
    page = client.get(reverse("portfolio-detail", args=[positions.id]), {"start": "2024-03-26"})
    assert page.status_code == 200
    assert page.context["custom_returns"]["portfolio"] == pytest.approx(1.03 * 1.01 * 1.02 - 1)
    figure = page.context["charts"]["cumulative"].figure
    assert figure["data"][0]["x"] == days[2:]
    assert figure["data"][0]["y"] == pytest.approx([0.03, 1.03 * 1.01 - 1, 1.03 * 1.01 * 1.02 - 1])
    assert 'id="custom-range-returns"' in page.content.decode()
