"""When schedules run and what each run covers, on hand-worked dates.

Daylight saving in 2026:
* Europe/London springs forward on Sun 29 Mar at 01:00 UTC (01:00 GMT becomes
  02:00 BST: local 01:00–01:59 does not exist) and falls back on Sun 25 Oct at
  01:00 UTC (02:00 BST becomes 01:00 GMT: local 01:00–01:59 happens twice, at
  00:xx UTC in BST and at 01:xx UTC in GMT).
* America/New_York springs forward on Sun 8 Mar at 07:00 UTC (02:00 EST becomes
  03:00 EDT) and falls back on Sun 1 Nov at 06:00 UTC (02:00 EDT becomes 01:00
  EST).

Holidays used: Good Friday is Fri 29 Mar 2024 and Fri 3 Apr 2026 (NYSE and
London closed); New Year's Day 2027 is a Friday (both closed); Thanksgiving 2026
is Thu 26 Nov (NYSE closed); the UK summer bank holiday 2026 is Mon 31 Aug.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from reports import schedule_times
from reports.schedule_times import (
    SCHEDULE_PERIODS,
    ScheduleTimeError,
    SlotPeriod,
    TimeRule,
    calendar_rule_parse,
    rule_validate,
    slot_next,
    slot_period,
    slots_after,
)

D = dt.date
UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def cron_rule(cron: str, timezone: str = "Europe/London") -> TimeRule:
    return TimeRule(
        cron=cron,
        calendar_rule=None,
        calendar_n=None,
        exchange="XLON",
        time=None,
        timezone=timezone,
    )


def calendar_rule(
    rule: str,
    *,
    exchange: str = "XNYS",
    time: dt.time | None = dt.time(18, 0),
    timezone: str = "America/New_York",
    n: int | None = None,
) -> TimeRule:
    return TimeRule(
        cron=None,
        calendar_rule=rule,
        calendar_n=n,
        exchange=exchange,
        time=time,
        timezone=timezone,
    )


def instants(slots: list[dt.datetime]) -> list[dt.datetime]:
    return [slot.astimezone(UTC) for slot in slots]


def iso(slots: list[dt.datetime]) -> list[str]:
    return [slot.isoformat() for slot in slots]


# --- cron in a time zone, across daylight saving ---------------------------------


def test_daily_cron_in_the_london_spring_gap_runs_once_right_after_the_gap():
    # 01:30 on 29 Mar does not exist: it runs at 02:00 BST, the first instant after.
    slots = slots_after(cron_rule("30 1 * * *"), utc(2026, 3, 27, 12), 4)

    assert instants(slots) == [
        utc(2026, 3, 28, 1, 30),  # 01:30 GMT
        utc(2026, 3, 29, 1, 0),  # 02:00 BST
        utc(2026, 3, 30, 0, 30),  # 01:30 BST
        utc(2026, 3, 31, 0, 30),
    ]
    assert iso(slots)[1] == "2026-03-29T02:00:00+01:00"


def test_hourly_cron_on_the_london_spring_day_runs_each_real_hour_once():
    # Local 00:00 GMT, then 01:00 (missing) and 02:00 BST are one instant, 01:00 UTC.
    slots = slots_after(cron_rule("0 * * * *"), utc(2026, 3, 28, 23, 30), 4)

    assert instants(slots) == [
        utc(2026, 3, 29, 0),
        utc(2026, 3, 29, 1),
        utc(2026, 3, 29, 2),
        utc(2026, 3, 29, 3),
    ]
    assert iso(slots) == [
        "2026-03-29T00:00:00+00:00",
        "2026-03-29T02:00:00+01:00",
        "2026-03-29T03:00:00+01:00",
        "2026-03-29T04:00:00+01:00",
    ]
    # The local day is 23 hours long: 23 runs, one an hour from 00:00 to 22:00 UTC.
    day = slots_after(cron_rule("0 * * * *"), utc(2026, 3, 28, 23, 59), 24)
    on_the_day = [slot for slot in day if slot.date() == D(2026, 3, 29)]
    assert instants(on_the_day) == [utc(2026, 3, 29, hour) for hour in range(23)]


def test_minutes_inside_the_spring_gap_all_run_once_after_it():
    # Every quarter of local 01:xx is missing on 29 Mar: one run at 02:00 BST.
    slots = slots_after(cron_rule("*/15 1 * * *"), utc(2026, 3, 28, 12), 3)

    assert instants(slots) == [
        utc(2026, 3, 29, 1, 0),
        utc(2026, 3, 30, 0, 0),  # 01:00 BST
        utc(2026, 3, 30, 0, 15),
    ]


def test_daily_cron_at_an_ambiguous_london_autumn_time_runs_once_at_its_first_occurrence():
    slots = slots_after(cron_rule("30 1 * * *"), utc(2026, 10, 23, 12), 4)

    assert instants(slots) == [
        utc(2026, 10, 24, 0, 30),  # 01:30 BST
        utc(2026, 10, 25, 0, 30),  # 01:30 BST, the first of the two
        utc(2026, 10, 26, 1, 30),  # 01:30 GMT
        utc(2026, 10, 27, 1, 30),
    ]
    assert iso(slots)[1:3] == ["2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"]


def test_a_dispatcher_inside_the_repeated_hour_does_not_run_the_ambiguous_slot_again():
    # 01:10 UTC on 25 Oct is 01:10 GMT, the second pass of local 01:xx; 01:30 ran
    # at 00:30 UTC, so the next run is the next day.
    assert slot_next(cron_rule("30 1 * * *"), utc(2026, 10, 25, 1, 10)) == utc(2026, 10, 26, 1, 30)
    # Just after the first 01:30 the next slot is also the next day, not 01:30 GMT.
    assert slot_next(cron_rule("30 1 * * *"), utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 26, 1, 30)


def test_hourly_cron_on_the_london_autumn_day_runs_the_repeated_hour_once():
    slots = slots_after(cron_rule("0 * * * *"), utc(2026, 10, 24, 22, 30), 4)

    assert iso(slots) == [
        "2026-10-25T00:00:00+01:00",  # 23:00 UTC on the 24th
        "2026-10-25T01:00:00+01:00",  # 00:00 UTC; 01:00 GMT (01:00 UTC) is not run again
        "2026-10-25T02:00:00+00:00",
        "2026-10-25T03:00:00+00:00",
    ]
    assert instants(slots) == [
        utc(2026, 10, 24, 23),
        utc(2026, 10, 25, 0),
        utc(2026, 10, 25, 2),
        utc(2026, 10, 25, 3),
    ]
    # The local day is 25 hours long; each of its 24 clock hours runs once.
    day = slots_after(cron_rule("0 * * * *"), utc(2026, 10, 24, 22, 59), 26)
    assert len([slot for slot in day if slot.date() == D(2026, 10, 25)]) == 24


def test_new_york_spring_gap_at_two_runs_at_three_daylight_time():
    # 02:00 on 8 Mar does not exist; 03:00 EDT is 07:00 UTC.
    slots = slots_after(cron_rule("0 2 * * *", "America/New_York"), utc(2026, 3, 6, 12), 3)

    assert iso(slots) == [
        "2026-03-07T02:00:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:00:00-04:00",
    ]
    assert instants(slots) == [utc(2026, 3, 7, 7), utc(2026, 3, 8, 7), utc(2026, 3, 9, 6)]


def test_new_york_autumn_two_oclock_is_not_ambiguous_but_one_thirty_is():
    # 02:00 on 1 Nov exists once (EST, 07:00 UTC); 01:30 happens at 05:30 UTC (EDT)
    # and 06:30 UTC (EST) and runs at the first.
    two = slots_after(cron_rule("0 2 * * *", "America/New_York"), utc(2026, 10, 31, 12), 2)
    assert instants(two) == [utc(2026, 11, 1, 7), utc(2026, 11, 2, 7)]
    assert iso(two)[0] == "2026-11-01T02:00:00-05:00"

    one_thirty = slots_after(cron_rule("30 1 * * *", "America/New_York"), utc(2026, 10, 31, 12), 2)
    assert instants(one_thirty) == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]
    assert iso(one_thirty)[0] == "2026-11-01T01:30:00-04:00"


def test_weekday_eight_oclock_in_london_keeps_local_time_as_the_offset_changes():
    # Preview from Wed 25 Mar 2026: ten weekdays at 08:00 local; from Mon 30 Mar
    # the offset is +01:00 (07:00 UTC). Cron ignores holidays (Good Friday, 3 Apr).
    slots = slots_after(cron_rule("0 8 * * 1-5"), utc(2026, 3, 25, 0), 10)

    assert iso(slots) == [
        "2026-03-25T08:00:00+00:00",
        "2026-03-26T08:00:00+00:00",
        "2026-03-27T08:00:00+00:00",
        "2026-03-30T08:00:00+01:00",
        "2026-03-31T08:00:00+01:00",
        "2026-04-01T08:00:00+01:00",
        "2026-04-02T08:00:00+01:00",
        "2026-04-03T08:00:00+01:00",
        "2026-04-06T08:00:00+01:00",
        "2026-04-07T08:00:00+01:00",
    ]
    assert instants(slots)[2:4] == [utc(2026, 3, 27, 8), utc(2026, 3, 30, 7)]


def test_slots_are_strictly_after_the_given_instant_and_slot_next_is_utc():
    rule = cron_rule("0 8 * * 1-5")

    assert slot_next(rule, utc(2026, 3, 30, 7)) == utc(2026, 3, 31, 7)
    assert slot_next(rule, utc(2026, 3, 30, 6, 59, 59)) == utc(2026, 3, 30, 7)
    assert slot_next(rule, utc(2026, 3, 30, 6, 59, 59)).tzinfo == UTC
    # ``after`` may be given in any zone: 08:00 BST is 07:00 UTC.
    london = dt.datetime(2026, 3, 30, 8, tzinfo=ZoneInfo("Europe/London"))
    assert slot_next(rule, london) == utc(2026, 3, 31, 7)
    assert slots_after(rule, utc(2026, 3, 30, 7), 0) == []


def test_a_naive_after_is_refused():
    with pytest.raises(ValueError, match="aware"):
        slots_after(cron_rule("0 8 * * *"), dt.datetime(2026, 3, 30, 8), 1)  # noqa: DTZ001


# --- market-calendar rules --------------------------------------------------------


def test_last_business_day_of_the_quarter_moves_before_good_friday_on_the_nyse():
    # Q1 2024 ends Sun 31 Mar; Sat 30 and Good Friday 29 Mar are closed: Thu 28 Mar.
    slots = slots_after(calendar_rule("last_business_day_of_quarter"), utc(2024, 1, 1), 4)

    assert iso(slots) == [
        "2024-03-28T18:00:00-04:00",
        "2024-06-28T18:00:00-04:00",  # Sun 30 Jun: Fri 28 Jun
        "2024-09-30T18:00:00-04:00",  # a Monday
        "2024-12-31T18:00:00-05:00",  # a Tuesday, EST
    ]


def test_last_business_day_of_the_quarter_in_london():
    slots = slots_after(
        calendar_rule(
            "last_business_day_of_quarter",
            exchange="XLON",
            time=dt.time(17, 30),
            timezone="Europe/London",
        ),
        utc(2024, 1, 1),
        4,
    )

    assert iso(slots) == [
        "2024-03-28T17:30:00+00:00",  # Good Friday closed; still GMT on 28 Mar
        "2024-06-28T17:30:00+01:00",
        "2024-09-30T17:30:00+01:00",
        "2024-12-31T17:30:00+00:00",  # 31 Dec is a (short) session
    ]
    # Q4 2022 ends on a Saturday: Fri 30 Dec 2022.
    q4_2022 = slots_after(
        calendar_rule(
            "last_business_day_of_quarter",
            exchange="XLON",
            time=dt.time(17, 30),
            timezone="Europe/London",
        ),
        utc(2022, 10, 1),
        1,
    )
    assert iso(q4_2022) == ["2022-12-30T17:30:00+00:00"]


def test_last_business_day_of_the_month_skips_a_bank_holiday():
    # Mon 31 Aug 2026 is the UK summer bank holiday: Fri 28 Aug; Sun 31 May: Fri 29 May.
    london = slots_after(
        calendar_rule(
            "last_business_day_of_month",
            exchange="XLON",
            time=dt.time(7),
            timezone="Europe/London",
        ),
        utc(2026, 8, 1),
        2,
    )
    assert iso(london) == ["2026-08-28T07:00:00+01:00", "2026-09-30T07:00:00+01:00"]

    new_york = slots_after(calendar_rule("last_business_day_of_month"), utc(2026, 5, 1), 1)
    assert iso(new_york) == ["2026-05-29T18:00:00-04:00"]


@pytest.mark.parametrize("exchange", ["XNYS", "XLON"])
def test_first_business_day_of_january_skips_new_year_and_the_weekend(exchange):
    # Fri 1 Jan 2027 is a holiday, then Sat 2 and Sun 3: Mon 4 Jan; Mon 1 Feb.
    rule = calendar_rule(
        "nth_business_day:1", exchange=exchange, time=dt.time(7), timezone="Europe/London"
    )

    assert iso(slots_after(rule, utc(2026, 12, 15), 2)) == [
        "2027-01-04T07:00:00+00:00",
        "2027-02-01T07:00:00+00:00",
    ]


def test_nth_business_day_may_be_given_as_a_separate_number():
    rule = calendar_rule(
        "nth_business_day", n=3, exchange="XNYS", time=dt.time(7), timezone="Europe/London"
    )
    # January 2027's business days: Mon 4, Tue 5, Wed 6.
    assert slot_next(rule, utc(2026, 12, 31)) == utc(2027, 1, 6, 7)


def test_every_business_day_skips_thanksgiving():
    slots = slots_after(
        calendar_rule("every_business_day", time=dt.time(7)), utc(2026, 11, 24, 0), 5
    )

    assert iso(slots) == [
        "2026-11-24T07:00:00-05:00",
        "2026-11-25T07:00:00-05:00",
        "2026-11-27T07:00:00-05:00",  # Thu 26 Nov is Thanksgiving
        "2026-11-30T07:00:00-05:00",
        "2026-12-01T07:00:00-05:00",
    ]


def test_a_calendar_time_in_the_gap_or_the_repeated_hour_runs_once():
    # The "24/7" calendar has a session every day, Sundays included, so its rule
    # meets both London changes: 01:30 on 29 Mar runs at 02:00 BST, 01:30 on
    # 25 Oct at its first occurrence (BST).
    rule = calendar_rule(
        "every_business_day", exchange="24/7", time=dt.time(1, 30), timezone="Europe/London"
    )
    assert iso(slots_after(rule, utc(2026, 3, 28, 12), 2)) == [
        "2026-03-29T02:00:00+01:00",
        "2026-03-30T01:30:00+01:00",
    ]
    assert instants(slots_after(rule, utc(2026, 10, 24, 12), 2)) == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]


def test_calendar_sessions_are_cached_per_exchange_and_decade():
    rule = calendar_rule("every_business_day", time=dt.time(7))
    slots_after(rule, utc(2026, 11, 24), 3)
    before = schedule_times._block_sessions.cache_info()

    slots_after(rule, utc(2026, 6, 1), 5)
    after = schedule_times._block_sessions.cache_info()

    assert after.currsize == before.currsize
    assert after.hits > before.hits


def test_a_date_beyond_the_calendar_range_is_an_exchange_error():
    rule = calendar_rule("every_business_day", time=dt.time(7))
    with pytest.raises(ScheduleTimeError, match="2099-12-31") as caught:
        slots_after(rule, utc(2099, 12, 29), 5)
    assert caught.value.field == "exchange"

    # Hong Kong's holidays are recorded to 2049 only.
    hong_kong = calendar_rule(
        "every_business_day", exchange="XHKG", time=dt.time(9), timezone="Asia/Hong_Kong"
    )
    with pytest.raises(ScheduleTimeError, match="2049-12-31") as caught:
        slots_after(hong_kong, utc(2050, 1, 5), 1)
    assert caught.value.field == "exchange"


# --- validation -----------------------------------------------------------------


def test_calendar_rule_parse_splits_the_number():
    assert calendar_rule_parse("nth_business_day:3") == ("nth_business_day", 3)
    assert calendar_rule_parse("last_business_day_of_month") == (
        "last_business_day_of_month",
        None,
    )
    assert calendar_rule_parse(" every_business_day ") == ("every_business_day", None)


@pytest.mark.parametrize(
    "text",
    [
        "fortnightly",
        "nth_business_day",
        "nth_business_day:0",
        "nth_business_day:24",
        "nth_business_day:two",
        "nth_business_day:-1",
        "last_business_day_of_month:2",
        "",
    ],
)
def test_bad_calendar_rules_name_the_calendar_rule_field(text):
    with pytest.raises(ScheduleTimeError) as caught:
        calendar_rule_parse(text)
    assert caught.value.field == "calendar_rule"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (cron_rule("61 * * * *"), "cron"),
        (cron_rule("0 8 * *"), "cron"),
        (cron_rule("0 0 8 * * *"), "cron"),  # six fields (seconds) are not cron here
        (cron_rule("0 0 30 2 *"), "cron"),  # there is no 30 February
        (cron_rule("every day"), "cron"),
        (cron_rule("0 8 * * 1-5", timezone="Europe/Londres"), "timezone"),
        (cron_rule("0 8 * * 1-5", timezone=""), "timezone"),
        (cron_rule("0 8 * * 1-5", timezone="../../etc/passwd"), "timezone"),
        (cron_rule("0 8 * * 1-5", timezone="America"), "timezone"),  # a folder of zones
        (cron_rule("0 8 * * 1-5", timezone="localtime"), "timezone"),
        (calendar_rule("every_business_day", exchange="XXXX"), "exchange"),
        (calendar_rule("nth_business_day:30"), "calendar_rule"),
        (calendar_rule("nth_business_day", n=0), "calendar_rule"),
        (calendar_rule("nth_business_day:2", n=3), "calendar_rule"),
        (calendar_rule("last_business_day_of_month", n=2), "calendar_rule"),
        (calendar_rule("every_business_day", time=None), "time"),
        (
            calendar_rule("every_business_day", time=dt.time(8, tzinfo=UTC)),
            "time",
        ),
        (
            TimeRule(
                cron=None,
                calendar_rule=None,
                calendar_n=None,
                exchange="XNYS",
                time=None,
                timezone="UTC",
            ),
            "cron",
        ),
        (
            TimeRule(
                cron="",
                calendar_rule="",
                calendar_n=None,
                exchange="XNYS",
                time=None,
                timezone="UTC",
            ),
            "cron",
        ),
        (
            TimeRule(
                cron="0 8 * * *",
                calendar_rule="every_business_day",
                calendar_n=None,
                exchange="XNYS",
                time=dt.time(8),
                timezone="UTC",
            ),
            "calendar_rule",
        ),
    ],
)
def test_bad_rules_name_the_field_at_fault(rule, field):
    with pytest.raises(ScheduleTimeError) as caught:
        rule_validate(rule)
    assert caught.value.field == field
    assert str(caught.value)

    with pytest.raises(ScheduleTimeError):
        slots_after(rule, utc(2026, 1, 1), 1)


def test_good_rules_validate():
    rule_validate(cron_rule("0 8 * * 1-5"))
    rule_validate(cron_rule("*/15  9-17 * * MON-FRI"))
    rule_validate(calendar_rule("nth_business_day:23"))
    rule_validate(calendar_rule("last_business_day_of_quarter", exchange="NYSE"))
    rule_validate(calendar_rule("every_business_day", exchange="xlon", timezone="UTC"))


def test_an_exchange_alias_uses_the_same_calendar():
    new_york = calendar_rule("last_business_day_of_quarter", exchange="NYSE")
    assert slot_next(new_york, utc(2024, 1, 1)) == utc(2024, 3, 28, 22)


# --- periods --------------------------------------------------------------------


def period(key: str, day: dt.date, exchange: str = "XNYS") -> SlotPeriod:
    return slot_period(key, slot_local=dt.datetime.combine(day, dt.time(8)), exchange=exchange)


def test_previous_month_on_the_first_of_january_is_december():
    assert period("previous_month", D(2027, 1, 1)) == SlotPeriod(
        D(2026, 12, 1), D(2026, 12, 31), "December 2026"
    )


def test_previous_month_on_a_month_end_is_the_month_before():
    # March has not ended before 31 March.
    assert period("previous_month", D(2026, 3, 31)) == SlotPeriod(
        D(2026, 2, 1), D(2026, 2, 28), "February 2026"
    )


def test_previous_quarter_and_year():
    assert period("previous_quarter", D(2026, 5, 15)) == SlotPeriod(
        D(2026, 1, 1), D(2026, 3, 31), "Q1 2026"
    )
    assert period("previous_quarter", D(2027, 1, 1)) == SlotPeriod(
        D(2026, 10, 1), D(2026, 12, 31), "Q4 2026"
    )
    assert period("previous_year", D(2027, 1, 1)) == SlotPeriod(
        D(2026, 1, 1), D(2026, 12, 31), "2026"
    )


def test_quarter_to_date_on_the_first_business_day_of_a_quarter_is_the_quarter_before():
    # Wed 1 Apr 2026 is Q2's first business day; the previous one is Tue 31 Mar.
    assert period("quarter_to_date", D(2026, 4, 1)) == SlotPeriod(
        D(2026, 1, 1), D(2026, 3, 31), "Quarter to date: 1 Jan 2026 – 31 Mar 2026"
    )
    # On Thu 2 Apr it is Q2 so far: 1 Apr only.
    assert period("quarter_to_date", D(2026, 4, 2)) == SlotPeriod(
        D(2026, 4, 1), D(2026, 4, 1), "Quarter to date: 1 Apr 2026 – 1 Apr 2026"
    )


def test_month_and_year_to_date_after_new_year():
    # Mon 4 Jan 2027: Fri 1 Jan was a holiday, so the last business day is Thu 31 Dec.
    assert period("month_to_date", D(2027, 1, 4)).start == D(2026, 12, 1)
    assert period("month_to_date", D(2027, 1, 4)).end == D(2026, 12, 31)
    assert (
        period("year_to_date", D(2027, 1, 4)).start,
        period("year_to_date", D(2027, 1, 4)).end,
    ) == (
        D(2026, 1, 1),
        D(2026, 12, 31),
    )
    assert period("year_to_date", D(2026, 3, 18)) == SlotPeriod(
        D(2026, 1, 1), D(2026, 3, 17), "Year to date: 1 Jan 2026 – 17 Mar 2026"
    )


def test_previous_business_day_on_a_monday_is_the_friday_or_the_thursday_before_good_friday():
    assert period("previous_business_day", D(2026, 3, 23)) == SlotPeriod(
        D(2026, 3, 20), D(2026, 3, 20), "20 Mar 2026"
    )
    assert period("previous_business_day", D(2024, 4, 1)).end == D(2024, 3, 28)
    assert period("previous_business_day", D(2024, 4, 1), exchange="XLON").end == D(2024, 3, 28)
    # Easter Monday (1 Apr 2024) is a London holiday but a New York session.
    assert period("previous_business_day", D(2024, 4, 2)).end == D(2024, 4, 1)
    assert period("previous_business_day", D(2024, 4, 2), exchange="XLON").end == D(2024, 3, 28)


def test_periods_use_the_slots_local_date():
    # 23:30 UTC on 30 Apr 2026 is 00:30 BST on 1 May in London: April is the previous month.
    slot = utc(2026, 4, 30, 23, 30).astimezone(ZoneInfo("Europe/London"))
    assert slot_period("previous_month", slot_local=slot, exchange="XLON").label == "April 2026"
    assert (
        slot_period("previous_month", slot_local=utc(2026, 4, 30, 23, 30), exchange="XLON").label
        == "March 2026"
    )


def test_unknown_period_or_exchange_is_refused():
    with pytest.raises(ScheduleTimeError) as caught:
        period("mtd", D(2026, 3, 2))
    assert caught.value.field == "period"
    with pytest.raises(ScheduleTimeError) as caught:
        period("previous_month", D(2026, 3, 2), exchange="XXXX")
    assert caught.value.field == "exchange"


def test_every_schedule_period_resolves():
    keys = [key for key, _ in SCHEDULE_PERIODS]
    assert keys == [
        "previous_business_day",
        "month_to_date",
        "quarter_to_date",
        "year_to_date",
        "previous_month",
        "previous_quarter",
        "previous_year",
    ]
    for key in keys:
        resolved = period(key, D(2026, 6, 15))
        assert resolved.start is not None
        assert resolved.start <= resolved.end < D(2026, 6, 15)
