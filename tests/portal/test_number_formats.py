"""Numbers read the same way on every page: amounts with their currency code first
("USD 1,234,567.00"), percentages with the decimals their size needs, dates in
ISO 8601, people by full name, and never a raw float."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import DERIVED_SOURCE, PositionSnapshot, Trade
from compliance.models import Alert, AlertState, Rule
from portal.models import AccessLevel, Role
from portal.services import entitlement_grant
from portal.templatetags.humanize_numbers import amount, iso, percent, unit_price
from tests.factories import InstrumentFactory, UserFactory

AS_OF = dt.date(2024, 3, 28)
RAW_FLOAT = re.compile(r"\d\.\d{7,}")
MONTH_NAME = re.compile(
    r"\b(January|February|March|April|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept\.|Oct\.|Nov\.|Dec\.) \d"
)


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [
        (0.1234, "12.34%"),
        (1.3, "130.00%"),
        (12.345, "1,234.50%"),
        (0.00004, "0.004%"),  # 0.004 % would read as 0.00 %
        (0.0000012, "0.0001%"),  # 0.00012 % to four decimals
        (0.0, "0.00%"),
        (-0.00000001, "0.00%"),  # too small to show: zero, unsigned
        (-0.0512, "-5.12%"),
        (None, ""),
    ],
)
def test_percentages_keep_the_decimals_their_size_needs(fraction, shown):
    assert percent(fraction) == shown


def test_amounts_and_prices_carry_their_currency_code_first():
    assert amount(Decimal("1234567"), "USD") == "USD 1,234,567.00"
    assert amount(-1500.5, "EUR") == "EUR -1,500.50"
    assert amount(None, "USD") == "—"
    assert unit_price(Decimal("101.9500"), "GBP") == "GBP 101.95"
    assert unit_price(Decimal("0.12345"), "JPY") == "JPY 0.1234"  # four decimals, half to even


def test_dates_and_times_are_iso(settings):
    settings.TIME_ZONE = "UTC"
    assert iso(dt.date(2024, 3, 8)) == "2024-03-08"
    assert iso(dt.datetime(2024, 3, 8, 14, 5, tzinfo=dt.UTC)) == "2024-03-08 14:05"
    assert iso(None) == ""


def visible_text(html: str) -> str:
    """The page's text without scripts (chart data) and tags."""
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def officer(db, growth):
    user = UserFactory(username="olivia", role=Role.COMPLIANCE_OFFICER)
    entitlement_grant(actor=None, portfolio=growth, user=user, level=AccessLevel.VIEW)
    return user


@pytest.fixture
def book(db, growth):
    """GROWTH (USD) holds BIG worth 1,234,557 and SMALL worth 10: net assets
    1,234,567, SMALL 10 / 1,234,567 = 0.00081 % of them. One trade of 1,000 BIG at
    1,234.567 = 1,234,567.00. One alert at 105.12345678 % utilisation (peak
    123.456789 %), assigned to Priya Natarajan (username "pnat")."""
    big = InstrumentFactory(identifier="BIG")
    small = InstrumentFactory(identifier="SMALL")
    for instrument, value in ((big, "1234557"), (small, "10")):
        PositionSnapshot.objects.create(
            portfolio=growth,
            instrument=instrument,
            date=AS_OF,
            quantity=Decimal(1),
            price=Decimal(value),
            market_value_local=Decimal(value),
            market_value_base=Decimal(value),
            source=DERIVED_SOURCE,
        )
    Trade.objects.create(
        portfolio=growth,
        instrument=big,
        trade_date=dt.date(2024, 3, 8),
        settle_date=dt.date(2024, 3, 12),
        side="buy",
        quantity=Decimal(1000),
        price=Decimal("1234.567"),
        fees=Decimal("12.5"),
        currency="USD",
        external_id="T-1",
        source="test",
    )
    priya = UserFactory(username="pnat", first_name="Priya", last_name="Natarajan")
    rule = Rule.objects.create(
        name="Max 10% per instrument", kind="max_instrument_weight", limit=0.1
    )
    return Alert.objects.create(
        rule=rule,
        portfolio=growth,
        severity="breach",
        state=AlertState.OPEN,
        opened_on=dt.date(2024, 3, 1),
        last_observed_on=AS_OF,
        first_utilisation=1.0512345678,
        last_utilisation=1.0512345678,
        peak_utilisation=1.23456789,
        assignee=priya,
    )


def test_the_portfolio_pages_show_amounts_with_their_code_and_no_raw_floats(
    client, book, growth, alice
):
    client.force_login(alice)
    overview = visible_text(
        client.get(reverse("portfolio-detail", args=[growth.id])).content.decode()
    )
    assert "Net assets USD 1,234,567.00" in overview
    assert "0.001%" in overview  # SMALL's weight, not "0.00%"
    assert "2024-03-28" in overview  # positions as of
    trades = visible_text(
        client.get(reverse("portfolio-trades", args=[growth.id])).content.decode()
    )
    assert "USD 1,234,567.00" in trades  # 1,000 × 1,234.567
    assert "USD 1,234.567" in trades and "USD 12.50" in trades  # price, fees
    assert "2024-03-08" in trades and "2024-03-12" in trades
    findings = client.get(reverse("portfolio-findings", args=[growth.id])).content.decode()
    for text in (overview, trades, visible_text(findings)):
        assert not RAW_FLOAT.search(text), RAW_FLOAT.search(text)
        assert not MONTH_NAME.search(text), MONTH_NAME.search(text)


def test_the_compliance_pages_show_percentages_iso_dates_and_full_names(client, book, officer):
    client.force_login(officer)
    queue = visible_text(client.get("/compliance/").content.decode())
    assert "105.1%" in queue and "2024-03-01" in queue
    assert "Priya Natarajan" in queue and "pnat" not in queue
    detail = visible_text(client.get(f"/compliance/alerts/{book.id}/").content.decode())
    assert "105.1% (peak 123.5%)" in detail
    assert "2024-03-01 → ongoing (last 2024-03-28)" in detail
    assert "Priya Natarajan" in detail
    rules = visible_text(client.get("/compliance/rules/").content.decode())
    assert "10.00%" in rules and "90.00%" in rules  # the limit, and the warning level
    for text in (queue, detail, rules):
        assert not RAW_FLOAT.search(text), RAW_FLOAT.search(text)
        assert not MONTH_NAME.search(text), MONTH_NAME.search(text)
