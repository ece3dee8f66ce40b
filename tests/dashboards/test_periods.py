"""Periods cut the time axis back from the last date in calendar months, and a cut
cumulative series is restated to start at zero."""

import datetime as dt

import pytest

from dashboards.widgets.base import months_back, period_start, rebase_cumulative


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2024, 3, 31), 1, dt.date(2024, 2, 29)),  # leap February is shorter
        (dt.date(2023, 3, 31), 1, dt.date(2023, 2, 28)),
        (dt.date(2024, 1, 15), 3, dt.date(2023, 10, 15)),  # across a year end
        (dt.date(2024, 6, 30), 12, dt.date(2023, 6, 30)),
    ],
)
def test_months_back_keeps_the_day_or_takes_the_last_of_a_shorter_month(day, months, expected):
    assert months_back(day, months) == expected


def test_period_starts():
    last = dt.date(2024, 3, 31)
    assert period_start(last, "1M") == dt.date(2024, 3, 1)
    assert period_start(last, "YTD") == dt.date(2024, 1, 1)
    assert period_start(last, "1Y") == dt.date(2023, 4, 1)
    assert period_start(last, "SI") is None


def test_a_cut_cumulative_series_restarts_at_zero():
    # Growth 1.10 then 1.21 (two +10 % steps): from the second date on, the
    # restated series is 0 % and 1.21 / 1.10 − 1 = +10 %.
    rebased = rebase_cumulative({"dates": ["b", "c"], "values": [0.10, 0.21]})
    assert rebased["values"][0] == 0.0
    assert rebased["values"][1] == pytest.approx(0.10)


def test_a_missing_value_stays_missing_when_rebased():
    rebased = rebase_cumulative({"dates": ["a", "b", "c"], "values": [None, 0.5, 0.8]})
    assert rebased["values"][0] is None
    assert rebased["values"][2] == pytest.approx(1.8 / 1.5 - 1)
