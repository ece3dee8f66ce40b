"""The overview tab's holdings table sorts by any column and pages, the sort in the URL."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import DERIVED_SOURCE, PositionSnapshot
from tests.factories import InstrumentFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 3, 28)


def hold(portfolio, identifier, value, sector="Energy"):
    PositionSnapshot.objects.create(
        portfolio=portfolio,
        instrument=InstrumentFactory(identifier=identifier, sector=sector),
        date=AS_OF,
        quantity=Decimal(1),
        price=Decimal(value),
        market_value_local=Decimal(value),
        market_value_base=Decimal(value),
        source=DERIVED_SOURCE,
    )


def shown(page):
    return [h.identifier for h in page.context["holdings_page"]]


def test_holdings_sort_by_weight_and_by_name(growth, alice, client):
    hold(growth, "BIG", 600)
    hold(growth, "MID", 300, sector="Utilities")
    hold(growth, "SMALL", 100, sector="Financials")
    client.force_login(alice)
    url = reverse("portfolio-detail", args=[growth.id])
    assert shown(client.get(url)) == ["BIG", "MID", "SMALL"]  # largest value first
    assert shown(client.get(url, {"sort": "weight"})) == ["SMALL", "MID", "BIG"]
    by_sector = client.get(url, {"sort": "-sector"})
    assert shown(by_sector) == ["MID", "SMALL", "BIG"]  # Utilities, Financials, Energy
    assert "sort=sector" in by_sector.content.decode()  # the header reverses it


def test_long_holdings_tables_page_and_keep_the_sort(growth, alice, client):
    for number in range(60):
        hold(growth, f"H{number:02d}", 1000 + number)
    client.force_login(alice)
    url = reverse("portfolio-detail", args=[growth.id])
    second = client.get(url, {"sort": "identifier", "page": 2})
    assert shown(second) == [f"H{n:02d}" for n in range(50, 60)]
    html = second.content.decode()
    assert "Page 2 of 2" in html and "sort=identifier" in html


def test_an_unknown_holdings_sort_is_a_bad_request(growth, alice, client):
    client.force_login(alice)
    response = client.get(reverse("portfolio-detail", args=[growth.id]), {"sort": "secret"})
    assert response.status_code == 400
