"""A crafted data set with one of each problem, found by the scans and shown on
the portfolio page and through the API.

The story: alice's USD portfolio GROWTH buys 100 AAA (NYSE) on 1 November 2023,
and 50 BBB (NYSE) the same day. The back office books the AAA trade a second
time under another id (a duplicate), and someone books 10 AAA on Saturday
2 December. AAA's feed skips Wednesday 10 January 2024 (a gap) and prints a
close 50 % too high on Thursday 25 January (a spike). BBB's feed stops after
Friday 19 January: by Wednesday 31 January that is 8 NYSE sessions without a
price (stale). The custodian reports 205 AAA on 31 January, while the trades
give 210 (a break).
"""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.engine.quality import trading_sessions
from analytics.models import (
    DataQualityFinding,
    FindingKind,
    PortfolioDataStatus,
    PositionSnapshot,
    Price,
    Severity,
)
from analytics.services.positions import cash_instruments_get_or_create, portfolio_positions_rebuild
from analytics.services.quality import portfolio_quality_scan
from tests.analytics.factories import CashFlowFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory

START, END = dt.date(2023, 11, 1), dt.date(2024, 1, 31)
GAP, SPIKE, BBB_LAST = dt.date(2024, 1, 10), dt.date(2024, 1, 25), dt.date(2024, 1, 19)


def nyse_sessions():
    return [d.date() for d in trading_sessions("XNYS", START, END)]


@pytest.fixture
def crafted(growth):
    aaa = InstrumentFactory(identifier="AAA", currency="USD", exchange="XNYS")
    bbb = InstrumentFactory(identifier="BBB", currency="USD", exchange="XNYS")
    CashFlowFactory(portfolio=growth, date=START, amount=Decimal("100000"), currency="USD")
    TradeFactory(
        portfolio=growth,
        instrument=aaa,
        trade_date=START,
        quantity=100,
        price=10,
        external_id="T-1",
        source="oms",
    )
    TradeFactory(
        portfolio=growth,
        instrument=aaa,
        trade_date=START,
        quantity=100,
        price=10,
        external_id="T-1-AGAIN",
        source="oms",
    )
    TradeFactory(
        portfolio=growth,
        instrument=bbb,
        trade_date=START,
        quantity=50,
        price=20,
        external_id="T-2",
        source="oms",
    )
    TradeFactory(
        portfolio=growth,
        instrument=aaa,
        trade_date=dt.date(2023, 12, 2),
        quantity=10,
        price=10,
        external_id="T-SAT",
        source="oms",
    )
    for i, day in enumerate(nyse_sessions()):
        wiggle = Decimal("1.005") if i % 2 else Decimal("0.995")  # a calm, non-zero volatility
        if day != GAP:
            close = Decimal(10) * wiggle * (Decimal("1.5") if day == SPIKE else 1)
            PriceFactory(instrument=aaa, date=day, close=close.quantize(Decimal("0.0001")))
        if day <= BBB_LAST:
            PriceFactory(instrument=bbb, date=day, close=Decimal(20) * wiggle)
    PositionSnapshot.objects.create(
        portfolio=growth, instrument=aaa, date=END, quantity=Decimal(205), source="custodian"
    )
    # Cash agrees: 100,000 − 210 × 10 − 50 × 20.
    cash = cash_instruments_get_or_create(currencies=["USD"])["USD"]
    PositionSnapshot.objects.create(
        portfolio=growth, instrument=cash, date=END, quantity=Decimal(96900), source="custodian"
    )
    PositionSnapshot.objects.create(
        portfolio=growth, instrument=bbb, date=END, quantity=Decimal(50), source="custodian"
    )
    portfolio_positions_rebuild(portfolio=growth)
    portfolio_quality_scan(portfolio=growth, as_of=END)
    return growth


def open_findings(kind):
    return list(DataQualityFinding.objects.filter(kind=kind, resolved_at=None))


def test_reconciliation_break_is_found_with_expected_and_reported(crafted):
    [finding] = open_findings(FindingKind.POSITION_BREAK)
    assert finding.portfolio == crafted and finding.instrument.identifier == "AAA"
    assert finding.date == END and finding.severity == Severity.ERROR
    assert finding.details["expected"] == "210.000000"
    assert finding.details["reported"] == "205.000000"
    assert "custodian reports 205" in finding.message


def test_stale_price_counts_sessions_on_the_exchange_calendar(crafted):
    [finding] = open_findings(FindingKind.STALE_PRICE)
    assert finding.instrument.identifier == "BBB" and finding.portfolio is None
    # 22–26 and 29–31 January: 8 NYSE sessions after Friday the 19th.
    assert finding.details["sessions"] == 8
    assert finding.details["last_close"] == "2024-01-19"
    assert finding.severity == Severity.WARNING  # 8 < 3 × the threshold of 3


def test_gap_spike_duplicate_and_weekend_trade_are_found(crafted):
    [gap] = open_findings(FindingKind.PRICE_GAP)
    assert (gap.instrument.identifier, gap.date, gap.details["missing"]) == (
        "AAA",
        GAP,
        ["2024-01-10"],
    )
    spikes = open_findings(FindingKind.PRICE_SPIKE)
    assert [(s.instrument.identifier, s.date) for s in spikes] == [("AAA", SPIKE)]
    [duplicate] = open_findings(FindingKind.DUPLICATE_TRADE)
    assert duplicate.details["trades"] == ["oms/T-1", "oms/T-1-AGAIN"]
    [weekend] = open_findings(FindingKind.NON_TRADING_DAY_TRADE)
    assert weekend.date == dt.date(2023, 12, 2) and "T-SAT" in weekend.message


def test_the_spike_is_the_only_one_the_day_after_is_not_flagged(crafted):
    # The fall back from the bad print is as extreme as the jump into it, but it
    # is the reversal of the same bad close: one finding, not two.
    assert len(open_findings(FindingKind.PRICE_SPIKE)) == 1


def test_completeness_and_data_as_of_mark_gaps_not_flat_days(crafted):
    last = PortfolioDataStatus.objects.get(portfolio=crafted, date=END)
    # AAA and USD cash are valued; BBB is held without a close: 2 of 3.
    assert (last.holdings, last.priced, last.valued) == (3, 2, 2)
    assert last.completeness == pytest.approx(2 / 3)
    assert last.data_as_of == BBB_LAST
    gap_day = PortfolioDataStatus.objects.get(portfolio=crafted, date=GAP)
    assert gap_day.completeness < 1 and gap_day.data_as_of == dt.date(2024, 1, 9)
    full_day = PortfolioDataStatus.objects.get(portfolio=crafted, date=dt.date(2024, 1, 9))
    assert full_day.completeness == 1.0 and full_day.data_as_of == dt.date(2024, 1, 9)
    missing = open_findings(FindingKind.MISSING_PRICE)
    assert {(f.instrument.identifier, f.date) for f in missing} >= {("AAA", GAP), ("BBB", END)}


def test_a_second_scan_changes_nothing_and_a_fix_resolves_the_finding(crafted):
    before = set(DataQualityFinding.objects.values_list("fingerprint", "resolved_at"))
    portfolio_quality_scan(portfolio=crafted, as_of=END)
    assert set(DataQualityFinding.objects.values_list("fingerprint", "resolved_at")) == before

    bbb = Price.objects.filter(instrument__identifier="BBB").first().instrument
    for i, day in enumerate(nyse_sessions()):
        if day > BBB_LAST:  # the feed comes back, moving (a flat 20 would be stale too)
            wiggle = Decimal("1.005") if i % 2 else Decimal("0.995")
            Price.objects.create(
                instrument=bbb, date=day, close=Decimal(20) * wiggle, currency="USD", source="test"
            )
    portfolio_positions_rebuild(portfolio=crafted)
    portfolio_quality_scan(portfolio=crafted, as_of=END)
    stale = DataQualityFinding.objects.get(kind=FindingKind.STALE_PRICE)
    assert stale.resolved_at is not None
    assert PortfolioDataStatus.objects.get(portfolio=crafted, date=END).data_as_of == END


def test_the_portfolio_page_shows_the_break_and_the_stale_price(crafted, client, alice):
    client.force_login(alice)
    html = client.get(reverse("portfolio-detail", args=[crafted.pk])).content.decode()
    assert 'id="data-quality"' in html
    assert "Position does not reconcile with trades" in html
    assert "custodian reports 205.000000, the trades give 210.000000" in html
    assert "Stale price" in html and "BBB: no new price for 8 sessions on XNYS" in html
    assert "66.67%" in html  # completeness of the last day
    assert "Days with incomplete data are gaps, not flat days" in html


def test_the_api_shows_data_as_of_completeness_and_findings(crafted, bob, mallory):
    api = APIClient()
    api.force_authenticate(bob)  # sees GROWTH through the equity desk
    body = api.get(reverse("api-portfolio-data-quality", args=[crafted.pk])).json()
    assert body["as_of"] == "2024-01-31" and body["data_as_of"] == "2024-01-19"
    assert body["completeness"] == pytest.approx(2 / 3)
    kinds = {f["kind"] for f in body["findings"]}
    assert {"position_break", "stale_price", "price_gap", "price_spike"} <= kinds
    assert body["findings"][0]["severity"] == "error"  # most severe first
    listed = api.get(reverse("api-data-quality-findings"), {"kind": "stale_price"}).json()
    assert [f["instrument"] for f in listed] == ["BBB"]

    outsider = APIClient()
    outsider.force_authenticate(mallory)
    assert outsider.get(reverse("api-portfolio-data-quality", args=[crafted.pk])).status_code == 404
    assert outsider.get(reverse("api-data-quality-findings")).json() == []


def test_series_helpers_mask_gaps():
    from analytics.engine.quality import mask_incomplete

    values = pd.Series([0.01, 0.0, 0.02]).to_numpy()
    masked = mask_incomplete(values, [True, False, True])
    assert masked[0] == 0.01 and pd.isna(masked[1]) and masked[2] == 0.02
