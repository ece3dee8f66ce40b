"""FX into the base currency: the rate of the day (frames) and the latest rate on or
before a day (valuing a proposed trade)."""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import FxRate
from analytics.selectors.fx import rate_to_base_latest, rates_to_base

MONDAY, TUESDAY, WEDNESDAY = dt.date(2024, 3, 4), dt.date(2024, 3, 5), dt.date(2024, 3, 6)


def _rate(day: dt.date, base: str, quote: str, rate: str) -> None:
    FxRate.objects.create(date=day, base_currency=base, quote_currency=quote, rate=Decimal(rate))


@pytest.mark.django_db
def test_the_days_rate_prefers_the_direct_pair_and_never_carries_forward():
    _rate(MONDAY, "EUR", "USD", "1.08")  # direct: 1 EUR = 1.08 USD
    _rate(MONDAY, "USD", "EUR", "0.5")  # an inverse that would say 2 USD per EUR
    _rate(TUESDAY, "USD", "GBP", "0.8")  # inverse only: 1 GBP = 1.25 USD
    rates = rates_to_base(
        base="USD", currencies=["EUR", "GBP", "USD"], first=MONDAY, last=WEDNESDAY
    )
    by_key = {(row.date, row.currency): row.to_base for row in rates.itertuples()}
    assert by_key == {(MONDAY, "EUR"): Decimal("1.08"), (TUESDAY, "GBP"): Decimal("1.25")}


@pytest.mark.django_db
def test_the_latest_rate_on_or_before_a_day_values_a_trade_before_its_rate_is_in():
    _rate(MONDAY, "EUR", "USD", "1.08")
    _rate(TUESDAY, "EUR", "USD", "1.10")
    _rate(MONDAY, "USD", "GBP", "0.8")
    assert rate_to_base_latest(currency="EUR", base="USD", on=WEDNESDAY) == pytest.approx(1.10)
    assert rate_to_base_latest(currency="EUR", base="USD", on=MONDAY) == pytest.approx(1.08)
    assert rate_to_base_latest(currency="GBP", base="USD", on=WEDNESDAY) == pytest.approx(1.25)
    assert rate_to_base_latest(currency="USD", base="USD", on=MONDAY) == 1.0
    assert rate_to_base_latest(currency="JPY", base="USD", on=WEDNESDAY) is None
    assert rate_to_base_latest(currency="EUR", base="USD", on=dt.date(2024, 3, 1)) is None
