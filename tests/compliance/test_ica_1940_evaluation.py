"""The 1940 Act template through evaluations, alerts and the pre-trade check: a fund
that drifts below the 75 % basket is restricted (a warning, no breach alert), a
purchase that worsens the shortfall is refused beforehand and a breach afterwards,
and a qualifying purchase is allowed.

Worked example: a 90,000 subscription buys 200 AAA at 100 (20,000) on day 0, leaving
70,000 of cash. AAA closes at 150 from day 1: AAA is 30,000 of total assets of
100,000 (30 % > 5 %: outside the basket), so the basket is 70,000 / 100,000 = 70 %.
"""

import math
from decimal import Decimal

import pytest

from analytics.models import AssetClass, Price
from analytics.services.positions import portfolio_positions_rebuild
from compliance.models import Alert, RuleResult
from compliance.services.evaluation.pretrade import pretrade_check
from compliance.services.evaluation.run import evaluate_now
from compliance.services.rules import template_apply
from tests.compliance.conftest import BUY, book, business_days, trade_trade
from tests.factories import InstrumentFactory

BASKET = "1940 Act: 75% of total assets diversified (5% / 10%)"
COVERAGE = "1940 Act: asset coverage of borrowings at least 300%"


@pytest.fixture
def drifted(growth, admin_user):
    days = business_days(3)
    closes = {"AAA": [100, 150, 150], "BBB": [50, 50, 50]}
    instruments = book(
        growth, days=days, closes=closes, trades=[(0, "AAA", BUY, 200)], subscription=90_000
    )
    treasury = InstrumentFactory(
        identifier="UST10",
        issuer="US Treasury",
        sector="Government",
        issuer_type="government",
        country="US",
        asset_class=AssetClass.FIXED_INCOME,
    )
    Price.objects.bulk_create(
        Price(instrument=treasury, date=day, close=Decimal(100), currency="USD") for day in days
    )
    template_apply(
        user=admin_user, template="ica_1940_diversified", scope="portfolio", portfolio=growth
    )
    return days, closes, {**instruments, "UST10": treasury}


def test_a_drift_below_75_percent_is_restricted_and_raises_no_breach_alert(growth, drifted):
    days, _, _ = drifted
    evaluate_now(portfolio=growth, as_of=days[1])
    basket = RuleResult.objects.get(rule__name=BASKET)
    assert basket.value == pytest.approx(0.70)
    assert basket.utilisation == pytest.approx(0.75 / 0.70)
    assert basket.status == "restricted"
    assert basket.get_status_display() == "Acquisitions restricted"
    assert basket.active is False
    alert = Alert.objects.get(rule__name=BASKET)
    assert alert.severity == "warning"  # kept in view, but no breach
    assert not Alert.objects.filter(severity="breach").exists()
    # No borrowings (cash is +70,000): the 300 % coverage rule has nothing to cover.
    coverage = RuleResult.objects.get(rule__name=COVERAGE)
    assert math.isinf(coverage.value)
    assert coverage.status == "ok"
    assert coverage.group == "no borrowings"


def test_a_large_issuer_purchase_is_refused_beforehand_and_a_breach_afterwards(growth, drifted):
    days, closes, instruments = drifted
    evaluate_now(portfolio=growth, as_of=days[1])
    # 200 BBB at 50 = 10,000: 10 % of total assets in one issuer, outside the basket;
    # the basket falls to 1 − (30,000 + 10,000) / 100,000 = 60 %.
    check = pretrade_check(portfolio=growth, instrument=instruments["BBB"], side=BUY, quantity=200)
    row = {r.rule.name: r for r in check.rows}[BASKET]
    assert row.before_status == "restricted"
    assert row.before_value == pytest.approx(0.70)
    assert row.after_value == pytest.approx(0.60)
    assert row.after_status == "breach"
    assert check.verdict == "breach"

    trade_trade(growth, instruments["BBB"], days[2], BUY, 200, closes, days, "BBB-1")
    portfolio_positions_rebuild(portfolio=growth)
    evaluate_now(portfolio=growth, as_of=days[2])
    result = RuleResult.objects.get(rule__name=BASKET, as_of=days[2])
    assert result.value == pytest.approx(0.60)
    assert result.status == "breach"
    assert result.active is True
    alert = Alert.objects.get(rule__name=BASKET, is_current=True)
    assert alert.severity == "breach"
    assert alert.active is True


@pytest.mark.parametrize(
    ("ticker", "quantity"),
    [
        ("UST10", 100),  # 10,000 of a government security: qualifies outright
        ("BBB", 100),  # 5,000 = exactly 5 % of total assets: qualifies
    ],
)
def test_a_qualifying_purchase_is_allowed(growth, drifted, ticker, quantity):
    _, _, instruments = drifted
    check = pretrade_check(
        portfolio=growth, instrument=instruments[ticker], side=BUY, quantity=quantity
    )
    row = {r.rule.name: r for r in check.rows}[BASKET]
    # Cash (qualifying) becomes a qualifying security: the basket stays at 70 %.
    assert row.after_value == pytest.approx(0.70)
    assert row.after_status == "restricted"
    assert check.breaches == []
    assert check.verdict == "warning"  # allowed; the fund stays restricted


def test_government_is_decided_by_issuer_type_not_by_the_sector_name(growth, drifted):
    # A corporate bond filed under a "Government" sector is no government security
    # (ICA §2(a)(16)): 100 × 100 = 10,000 of one issuer is 10 % of total assets,
    # beyond 5 %, so buying it moves 10,000 of qualifying cash out of the basket:
    # (70,000 − 10,000) / 100,000 = 60 %, a purchase that worsens the shortfall.
    _, _, instruments = drifted
    agency_lookalike = InstrumentFactory(
        identifier="GOVCO",
        issuer="Government Services Corp",
        sector="Government",
        issuer_type="corporate",
        asset_class=AssetClass.FIXED_INCOME,
    )
    check = pretrade_check(
        portfolio=growth, instrument=agency_lookalike, side=BUY, quantity=100, price=100
    )
    row = {r.rule.name: r for r in check.rows}[BASKET]
    assert row.after_value == pytest.approx(0.60)
    assert row.refused
    # The Treasury (issuer type government, US) at the same size qualifies outright.
    treasury = pretrade_check(
        portfolio=growth, instrument=instruments["UST10"], side=BUY, quantity=100, price=100
    )
    assert {r.rule.name: r for r in treasury.rows}[BASKET].after_value == pytest.approx(0.70)
