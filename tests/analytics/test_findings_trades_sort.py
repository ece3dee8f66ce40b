"""A portfolio's trades and its data-quality findings sort by any column in the
database and page on the server, with the sort, the page and the filters in the URL."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import DataQualityFinding, Trade
from tests.factories import InstrumentFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2024, 3, 4)
HEADER_LINK = re.compile(r'class="sortable[^"]*"><a href="([^"]+)"')


def trade(portfolio, identifier, *, quantity, price, side="buy", day=DAY, trader=None):
    return Trade.objects.create(
        portfolio=portfolio,
        instrument=InstrumentFactory(identifier=identifier),
        trade_date=day,
        settle_date=day + dt.timedelta(days=2),
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        currency="USD",
        external_id=f"{identifier}-{day}-{side}-{quantity}",
        source="test",
        trader=trader,
    )


def identifiers(response):
    return [t.instrument.identifier for t in response.context["page"]]


@pytest.fixture
def trades(growth):
    """AAA 10 × 100 = 1,000; BBB 5 × 300 = 1,500 (a sale); CCC 200 × 2 = 400."""
    trade(growth, "AAA", quantity=10, price=100)
    trade(growth, "BBB", quantity=5, price=300, side="sell", day=DAY + dt.timedelta(days=1))
    trade(growth, "CCC", quantity=200, price=2, day=DAY + dt.timedelta(days=2))


def test_trades_sort_by_value_both_ways_and_show_amounts_with_their_currency(
    client, trades, growth, alice
):
    client.force_login(alice)
    url = reverse("portfolio-trades", args=[growth.id])
    assert identifiers(client.get(url, {"sort": "value"})) == ["CCC", "AAA", "BBB"]
    response = client.get(url, {"sort": "-value"})
    assert identifiers(response) == ["BBB", "AAA", "CCC"]
    html = response.content.decode()
    assert "USD 1,500.00" in html and "USD 1,000.00" in html and "USD 400.00" in html
    assert "2024-03-05" in html  # BBB's trade date, ISO


def test_trades_sort_by_instrument_both_ways_newest_first_by_default(client, trades, growth, alice):
    client.force_login(alice)
    url = reverse("portfolio-trades", args=[growth.id])
    assert identifiers(client.get(url)) == ["CCC", "BBB", "AAA"]
    assert identifiers(client.get(url, {"sort": "instrument"})) == ["AAA", "BBB", "CCC"]
    assert identifiers(client.get(url, {"sort": "-instrument"})) == ["CCC", "BBB", "AAA"]


def test_trades_page_two_through_the_url(client, growth, alice):
    for number in range(55):
        trade(growth, f"T{number:02d}", quantity=1, price=1, day=DAY + dt.timedelta(days=number))
    client.force_login(alice)
    url = reverse("portfolio-trades", args=[growth.id])
    second = client.get(url, {"sort": "-trade_date", "page": 2})
    assert identifiers(second) == ["T04", "T03", "T02", "T01", "T00"]
    html = second.content.decode()
    assert "Page 2 of 2" in html and "(51–55 of 55)" in html
    assert 'href="?sort=-trade_date&amp;page=1" rel="prev"' in html


def test_trade_filters_are_kept_when_sorting_and_the_sort_when_filtering(
    client, trades, growth, alice
):
    client.force_login(alice)
    url = reverse("portfolio-trades", args=[growth.id])
    response = client.get(url, {"side": "buy", "sort": "-value"})
    assert identifiers(response) == ["AAA", "CCC"]  # the sale BBB is filtered out
    html = response.content.decode()
    links = HEADER_LINK.findall(html)
    assert len(links) == 10 and all("side=buy" in link for link in links)
    assert '<input type="hidden" name="sort" value="-value">' in html
    # The narrow screens' sort menu keeps the filter too.
    assert '<input type="hidden" name="side" value="buy">' in html


def test_traders_are_named_by_full_name_and_sort_that_way(client, growth, alice):
    zed = UserFactory(username="zed", first_name="Ann", last_name="Zed")
    abe = UserFactory(username="abe", first_name="Zoe", last_name="Abe")
    trade(growth, "AAA", quantity=1, price=1, trader=zed)
    trade(growth, "BBB", quantity=1, price=1, trader=abe)
    trade(growth, "CCC", quantity=1, price=1)
    client.force_login(alice)
    url = reverse("portfolio-trades", args=[growth.id])
    response = client.get(url, {"sort": "trader"})
    assert identifiers(response) == ["AAA", "BBB", "CCC"]  # "Ann Zed", "Zoe Abe", nobody
    assert identifiers(client.get(url, {"sort": "-trader"})) == ["BBB", "AAA", "CCC"]
    assert "Ann Zed" in response.content.decode()


def test_trades_of_a_portfolio_one_may_not_see_are_not_found(client, hidden, alice):
    client.force_login(alice)
    assert client.get(reverse("portfolio-trades", args=[hidden.id])).status_code == 404


def test_an_unknown_trade_sort_is_a_bad_request(client, growth, alice):
    client.force_login(alice)
    response = client.get(reverse("portfolio-trades", args=[growth.id]), {"sort": "secret"})
    assert response.status_code == 400


def finding(portfolio, kind, *, severity="warning", day=DAY, resolved=False, n=0):
    now = timezone.now()
    return DataQualityFinding.objects.create(
        kind=kind,
        severity=severity,
        portfolio=portfolio,
        date=day,
        message=f"{kind} on {day} ({n})",
        fingerprint=f"{kind}:{portfolio.pk}:{day}:{n}",
        last_seen_at=now,
        resolved_at=now if resolved else None,
    )


def kinds(response):
    return [f.kind for f in response.context["page"]]


@pytest.fixture
def findings(growth):
    """A stale price (a warning) on 4 March, a position break (an error) on
    5 March, a price gap (a note) on 6 March, and a resolved missing FX rate."""
    finding(growth, "stale_price", severity="warning", day=DAY)
    finding(growth, "position_break", severity="error", day=DAY + dt.timedelta(days=1))
    finding(growth, "price_gap", severity="info", day=DAY + dt.timedelta(days=2))
    finding(growth, "missing_fx", severity="error", day=DAY, resolved=True)


def test_findings_sort_by_date_both_ways(client, findings, growth, alice):
    client.force_login(alice)
    url = reverse("portfolio-findings", args=[growth.id])
    assert kinds(client.get(url, {"sort": "date"})) == [
        "stale_price",
        "position_break",
        "price_gap",
    ]
    assert kinds(client.get(url, {"sort": "-date"})) == [
        "price_gap",
        "position_break",
        "stale_price",
    ]


def test_findings_sort_by_kind_as_named_and_by_severity(client, findings, growth, alice):
    client.force_login(alice)
    url = reverse("portfolio-findings", args=[growth.id])
    # "Missing prices (gap)" < "Position does not reconcile…" < "Stale price"
    assert kinds(client.get(url, {"sort": "kind"})) == [
        "price_gap",
        "position_break",
        "stale_price",
    ]
    assert kinds(client.get(url, {"sort": "-kind"})) == [
        "stale_price",
        "position_break",
        "price_gap",
    ]
    # Errors, warnings, notes (the default order too).
    assert kinds(client.get(url)) == ["position_break", "stale_price", "price_gap"]
    assert kinds(client.get(url, {"sort": "-severity"})) == [
        "price_gap",
        "stale_price",
        "position_break",
    ]


def test_findings_page_two_through_the_url(client, growth, alice):
    for number in range(55):
        finding(growth, "stale_price", day=DAY + dt.timedelta(days=number), n=number)
    client.force_login(alice)
    url = reverse("portfolio-findings", args=[growth.id])
    second = client.get(url, {"sort": "date", "page": 2})
    assert [f.date for f in second.context["page"]] == [
        DAY + dt.timedelta(days=number) for number in range(50, 55)
    ]
    html = second.content.decode()
    assert "Page 2 of 2" in html and 'href="?sort=date&amp;page=1" rel="prev"' in html


def test_finding_filters_are_kept_when_sorting(client, findings, growth, alice):
    client.force_login(alice)
    url = reverse("portfolio-findings", args=[growth.id])
    response = client.get(url, {"status": "all", "severity": "error", "sort": "-date"})
    assert kinds(response) == ["position_break", "missing_fx"]  # the resolved one too
    html = response.content.decode()
    links = HEADER_LINK.findall(html)
    assert len(links) == 6
    assert all("status=all" in link and "severity=error" in link for link in links)
    assert '<input type="hidden" name="sort" value="-date">' in html
    # Only open findings by default; only the resolved one when asked.
    assert "missing_fx" not in kinds(client.get(url, {"sort": "-date"}))
    assert kinds(client.get(url, {"status": "resolved"})) == ["missing_fx"]


def test_the_overview_links_to_every_finding_and_trade(client, findings, growth, alice):
    client.force_login(alice)
    html = client.get(reverse("portfolio-detail", args=[growth.id])).content.decode()
    assert f'href="{reverse("portfolio-trades", args=[growth.id])}"' in html
    assert f'href="{reverse("portfolio-findings", args=[growth.id])}"' in html
