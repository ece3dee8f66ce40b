"""The data-quality block shows the stored data status and open findings of
the period's end, and only the portfolio's own."""

import datetime as dt

import pytest
from django.utils import timezone

from analytics.models import DataQualityFinding, PortfolioDataStatus
from reports.blocks import data_quality
from reports.blocks.base import ReportPeriod
from tests.factories import InstrumentFactory
from tests.reports.blocks.desk_book import context_of, rows_of

JAN_30, JAN_31 = dt.date(2024, 1, 30), dt.date(2024, 1, 31)


def finding(portfolio, kind, severity, date, message, *, instrument=None, resolved=False):
    now = timezone.now()
    return DataQualityFinding.objects.create(
        portfolio=portfolio,
        instrument=instrument,
        kind=kind,
        severity=severity,
        date=date,
        message=message,
        fingerprint=f"{portfolio.code}:{kind}:{date}:{message}",
        last_seen_at=now,
        resolved_at=now if resolved else None,
    )


@pytest.fixture
def checked(growth, income):
    now = timezone.now()
    PortfolioDataStatus.objects.create(
        portfolio=growth,
        date=JAN_30,
        holdings=4,
        priced=4,
        valued=4,
        completeness=1.0,
        data_as_of=JAN_30,
        computed_at=now,
    )
    PortfolioDataStatus.objects.create(
        portfolio=growth,
        date=JAN_31,
        holdings=4,
        priced=3,
        valued=3,
        completeness=0.75,
        data_as_of=JAN_30,
        computed_at=now,
    )
    aaa = InstrumentFactory(identifier="AAA")
    finding(growth, "missing_fx", "error", JAN_31, "No EURUSD rate on 2024-01-31")
    finding(
        growth,
        "stale_price",
        "warning",
        JAN_30,
        "AAA has no close since 2024-01-30",
        instrument=aaa,
    )
    finding(growth, "price_gap", "warning", JAN_30, "Resolved gap", resolved=True)
    finding(income, "missing_fx", "error", JAN_31, "INCOME's own finding")
    return growth


def test_as_of_completeness_and_open_findings(alice, checked, empty_view):
    [section] = data_quality.BLOCK.build(context_of(alice, checked, empty_view))

    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert (kpis["As of"], kpis["Data as of"], kpis["Completeness"]) == (JAN_31, JAN_30, 0.75)
    assert kpis["Open findings"] == 2
    tables = {table.name: rows_of(table) for table in section.tables}
    assert [(r["severity"], r["findings"]) for r in tables["findings_by_severity"]] == [
        ("Error", 1),
        ("Warning", 1),
        ("Info", 0),
    ]
    assert [
        (r["severity"], r["kind"], r["date"], r["instrument"]) for r in tables["open_findings"]
    ] == [
        ("Error", "Missing FX rate", JAN_31, ""),
        ("Warning", "Stale price", JAN_30, "AAA"),
    ]
    [gap] = tables["incomplete_days"]
    assert (gap["date"], gap["holdings"], gap["valued"], gap["completeness"]) == (
        JAN_31,
        4,
        3,
        0.75,
    )
    assert any("priced only up to 2024-01-30" in note for note in section.notes)


def test_an_earlier_period_end_reads_the_status_of_then(alice, checked, empty_view):
    period = ReportPeriod("custom", "Custom range", dt.date(2024, 1, 1), JAN_30)
    [section] = data_quality.BLOCK.build(context_of(alice, checked, empty_view, period=period))
    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert (kpis["As of"], kpis["Completeness"]) == (JAN_30, 1.0)


def test_a_portfolio_never_scanned_is_unavailable(alice, growth, empty_view):
    [section] = data_quality.BLOCK.build(context_of(alice, growth, empty_view))
    assert section.unavailable and not section.tables
