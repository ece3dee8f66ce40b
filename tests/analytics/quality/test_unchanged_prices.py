"""A close repeated unchanged for ``DATA_QUALITY_UNCHANGED_SESSIONS`` sessions (a vendor
repeating its last value) is a stale price, like a close that never comes.

The story: CCC (NYSE) closes 50.00, 50.50, 50.00 ... moving every session of
January 2024, except that its vendor prints 51.25 on the five sessions from
Tuesday 16 to Monday 22 January (16, 17, 18, 19 and 22; Monday 15 is Martin Luther
King Day). With N = 5 that is one stale finding from the 16th to the 22nd; when the
22nd moves again, 4 repeats are not stale at N = 5 but are at N = 4.
"""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.engine.quality import trading_sessions, unchanged_runs
from analytics.models import DataQualityFinding, FindingKind, Severity
from analytics.services.quality import market_data_quality_scan
from tests.analytics.factories import PriceFactory
from tests.factories import InstrumentFactory

REPEATED = [dt.date(2024, 1, d) for d in (16, 17, 18, 19, 22)]
END = dt.date(2024, 1, 31)


def test_five_equal_closes_in_a_row_are_one_run_from_the_first_to_the_last():
    dates = [dt.date(2024, 1, d) for d in (2, 3, 4, 5, 8, 9, 10, 11)]
    closes = [10.0, 10.5, 10.5, 10.5, 10.5, 10.5, 11.0, 11.0]
    [run] = unchanged_runs(dates, closes, sessions=5)
    assert (run.first, run.last, run.count, run.close) == (dates[1], dates[5], 5, 10.5)


def test_four_equal_closes_are_not_a_run_of_five():
    dates = [dt.date(2024, 1, d) for d in (2, 3, 4, 5, 8, 9)]
    assert unchanged_runs(dates, [10.0, 10.5, 10.5, 10.5, 10.5, 11.0], sessions=5) == []
    assert unchanged_runs(dates, [10.0] * 6, sessions=0) == []  # 0 turns the check off


@pytest.fixture
def feed(db):
    """CCC's closes, one per NYSE session of January, with ``repeats`` of the
    repeated sessions at 51.25; the rest move by ±0.5 a day."""

    def book(repeats):
        instrument = InstrumentFactory(identifier="CCC", currency="USD", exchange="XNYS")
        sessions = [d.date() for d in trading_sessions("XNYS", dt.date(2024, 1, 2), END)]
        for i, day in enumerate(sessions):
            close = (
                Decimal("51.25")
                if day in REPEATED[:repeats]
                else Decimal(50) + Decimal("0.5") * (i % 2)
            )
            PriceFactory(instrument=instrument, date=day, close=close)
        return instrument

    return book


def stale_findings():
    return list(DataQualityFinding.objects.filter(kind=FindingKind.STALE_PRICE, resolved_at=None))


def test_a_close_repeated_on_five_sessions_is_one_stale_finding(feed, settings):
    settings.DATA_QUALITY_UNCHANGED_SESSIONS = 5
    instrument = feed(repeats=5)
    market_data_quality_scan(instrument_ids=[instrument.pk], as_of=END)
    [finding] = stale_findings()
    assert finding.instrument == instrument and finding.portfolio is None
    assert finding.severity == Severity.WARNING
    assert finding.date == dt.date(2024, 1, 22)
    assert finding.details["first"] == "2024-01-16"
    assert finding.details["last"] == "2024-01-22"
    assert finding.details["sessions"] == 5
    assert "CCC" in finding.message
    assert "from 2024-01-16 to 2024-01-22" in finding.message


def test_a_close_repeated_on_four_sessions_is_not_stale_at_five(feed, settings):
    settings.DATA_QUALITY_UNCHANGED_SESSIONS = 5
    instrument = feed(repeats=4)
    market_data_quality_scan(instrument_ids=[instrument.pk], as_of=END)
    assert stale_findings() == []


def test_the_number_of_sessions_is_a_setting(feed, settings):
    settings.DATA_QUALITY_UNCHANGED_SESSIONS = 4
    instrument = feed(repeats=4)
    market_data_quality_scan(instrument_ids=[instrument.pk], as_of=END)
    [finding] = stale_findings()
    assert (finding.details["first"], finding.details["last"]) == ("2024-01-16", "2024-01-19")
