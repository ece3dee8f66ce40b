"""Report periods resolved on hand-picked as-of dates: month ends, leap years,
trailing years from 29 February, and the errors a user sees."""

import datetime as dt

import pytest

from reports.periods import PERIODS, PeriodError, period_resolve, period_validate

D = dt.date


@pytest.mark.parametrize(
    ("key", "as_of", "start", "end"),
    [
        ("mtd", D(2024, 3, 15), D(2024, 3, 1), D(2024, 3, 15)),
        ("mtd", D(2024, 2, 29), D(2024, 2, 1), D(2024, 2, 29)),
        ("qtd", D(2024, 5, 20), D(2024, 4, 1), D(2024, 5, 20)),
        ("qtd", D(2024, 12, 31), D(2024, 10, 1), D(2024, 12, 31)),
        ("ytd", D(2024, 12, 31), D(2024, 1, 1), D(2024, 12, 31)),
        ("ytd", D(2024, 1, 1), D(2024, 1, 1), D(2024, 1, 1)),
    ],
)
def test_to_date_periods_start_on_the_first_day_of_the_month_quarter_or_year(
    key, as_of, start, end
):
    period = period_resolve(key, as_of=as_of)

    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("key", "as_of", "start"),
    [
        # A mid-month date: the same day a year earlier is the base, the day after it starts.
        ("1y", D(2024, 3, 15), D(2023, 3, 16)),
        # 29 Feb 2024 is a month end: the base is 28 Feb 2023, the month end a year earlier.
        ("1y", D(2024, 2, 29), D(2023, 3, 1)),
        # 28 Feb 2025 is a month end too: its base is 29 Feb 2024 (leap year).
        ("1y", D(2025, 2, 28), D(2024, 3, 1)),
        # 28 Feb 2024 is not a month end: the base is 28 Feb 2023.
        ("1y", D(2024, 2, 28), D(2023, 3, 1)),
        ("1y", D(2024, 12, 31), D(2024, 1, 1)),
        ("3y", D(2024, 2, 29), D(2021, 3, 1)),
        ("3y", D(2024, 6, 30), D(2021, 7, 1)),
        ("5y", D(2023, 6, 30), D(2018, 7, 1)),
        ("5y", D(2025, 2, 28), D(2020, 3, 1)),
    ],
)
def test_trailing_years_run_month_end_to_month_end(key, as_of, start):
    period = period_resolve(key, as_of=as_of)

    assert (period.start, period.end) == (start, as_of)


@pytest.mark.parametrize(
    ("key", "as_of", "start", "end", "label"),
    [
        ("previous_month", D(2024, 3, 15), D(2024, 2, 1), D(2024, 2, 29), "February 2024"),
        ("previous_month", D(2024, 3, 31), D(2024, 3, 1), D(2024, 3, 31), "March 2024"),
        ("previous_month", D(2024, 1, 10), D(2023, 12, 1), D(2023, 12, 31), "December 2023"),
        ("previous_month", D(2024, 3, 1), D(2024, 2, 1), D(2024, 2, 29), "February 2024"),
        ("previous_quarter", D(2024, 5, 20), D(2024, 1, 1), D(2024, 3, 31), "Q1 2024"),
        ("previous_quarter", D(2024, 6, 30), D(2024, 4, 1), D(2024, 6, 30), "Q2 2024"),
        ("previous_quarter", D(2024, 2, 10), D(2023, 10, 1), D(2023, 12, 31), "Q4 2023"),
        ("previous_year", D(2024, 6, 30), D(2023, 1, 1), D(2023, 12, 31), "2023"),
        ("previous_year", D(2024, 12, 31), D(2024, 1, 1), D(2024, 12, 31), "2024"),
    ],
)
def test_previous_periods_are_the_last_whole_one_ended_by_the_as_of_date(
    key, as_of, start, end, label
):
    period = period_resolve(key, as_of=as_of)

    assert (period.start, period.end, period.label) == (start, end, label)


def test_since_inception_has_no_start():
    period = period_resolve("since_inception", as_of=D(2024, 3, 28))

    assert (period.start, period.end, period.label) == (None, D(2024, 3, 28), "Since inception")


def test_a_custom_period_takes_its_dates_from_iso_strings():
    period = period_resolve("custom", as_of=D(2024, 6, 30), start="2024-03-01", end="2024-05-31")

    assert (period.start, period.end) == (D(2024, 3, 1), D(2024, 5, 31))
    assert period.label == "1 Mar 2024 – 31 May 2024"


def test_an_unknown_key_names_the_choices():
    with pytest.raises(PeriodError) as error:
        period_resolve("2q", as_of=D(2024, 6, 30))

    assert "There is no period “2q”" in str(error.value)
    assert all(key in str(error.value) for key, _ in PERIODS)


def test_a_custom_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(PeriodError, match="starts on 2024-05-01, after it ends on 2024-03-01"):
        period_validate("custom", start=D(2024, 5, 1), end=D(2024, 3, 1))


@pytest.mark.parametrize(("start", "end"), [(None, "2024-03-01"), ("2024-01-01", None), ("", "")])
def test_a_custom_period_needs_both_dates(start, end):
    with pytest.raises(PeriodError, match="needs both a start and an end date"):
        period_validate("custom", start=start, end=end)


def test_a_custom_date_that_is_not_a_date_is_named():
    with pytest.raises(PeriodError, match="“31/05/2024” is not a date"):
        period_validate("custom", start="2024-01-01", end="31/05/2024")


def test_dates_are_ignored_for_other_periods():
    assert period_validate("ytd", start="2024-01-01", end="2023-01-01") == ("ytd", None, None)
