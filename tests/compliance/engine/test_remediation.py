"""SEC Rule 18f-4's five business days, counted on a calendar with a holiday."""

import datetime as dt

from analytics.engine.quality import trading_sessions
from compliance.engine.remediation import (
    SEC_18F4_VAR_TEST,
    business_days_out,
    escalation_due,
    follow_up_due_by,
)

FIRST = dt.date(2024, 7, 1)  # a Monday; Thursday 4 July 2024 the NYSE is closed


def test_the_holiday_is_not_a_business_day():
    sessions = trading_sessions("XNYS", FIRST, dt.date(2024, 7, 9))
    # 1, 2, 3, 5 and 8 July are the first five sessions (4 July closed, 6-7 a weekend).
    assert business_days_out(first_day=FIRST, as_of=dt.date(2024, 7, 8), sessions=sessions) == 5
    assert business_days_out(first_day=FIRST, as_of=dt.date(2024, 7, 9), sessions=sessions) == 6


def test_escalation_comes_with_the_sixth_business_day_not_the_fifth():
    sessions = trading_sessions("XNYS", FIRST, dt.date(2024, 7, 9))
    due = [
        escalation_due(timeline=SEC_18F4_VAR_TEST, first_day=FIRST, as_of=day, sessions=sessions)
        for day in (dt.date(2024, 7, 5), dt.date(2024, 7, 8), dt.date(2024, 7, 9))
    ]
    assert due == [False, False, True]


def test_without_the_holiday_monday_would_already_be_the_sixth_day():
    # Monday to Friday (an unknown calendar): 1, 2, 3, 4, 5, 8 July: 8 July is day six.
    weekdays = trading_sessions("", FIRST, dt.date(2024, 7, 8))
    assert business_days_out(first_day=FIRST, as_of=dt.date(2024, 7, 8), sessions=weekdays) == 6
    assert escalation_due(
        timeline=SEC_18F4_VAR_TEST, first_day=FIRST, as_of=dt.date(2024, 7, 8), sessions=weekdays
    )


def test_the_follow_up_report_is_due_thirty_calendar_days_after_the_exceedance():
    assert follow_up_due_by(first_day=FIRST) == dt.date(2024, 7, 31)


def test_the_timeline_holds_the_rule_steps():
    assert SEC_18F4_VAR_TEST.business_days == 5
    assert [s.key for s in SEC_18F4_VAR_TEST.escalation] == [
        "board_report",
        "form_n_rn",
        "reducing_only",
    ]
    assert [s.key for s in SEC_18F4_VAR_TEST.follow_up] == ["follow_up_report", "form_n_rn_back"]
