"""Report periods: a key stored in a template, resolved on a portfolio's as-of date.

Pure date arithmetic (no Django). Every period is a pair of inclusive dates: the
report covers the daily returns dated ``start`` to ``end``, i.e. the change from
the close of the day before ``start`` to the close of ``end``.

* ``mtd`` / ``qtd`` / ``ytd``: from the first day of the as-of date's month,
  quarter or year to the as-of date.
* ``1y`` / ``3y`` / ``5y``: the trailing N years ending on the as-of date. The
  base date is the same day N years earlier, or that month's last day when the
  as-of date is a month end (month end to month end, the convention of trailing
  returns: from 29 Feb 2024 one year back is 28 Feb 2023, from 28 Feb 2025 it is
  29 Feb 2024); the period starts the day after the base date.
* ``since_inception``: ``start`` is None (from the first return) to the as-of date.
* ``previous_month`` / ``previous_quarter`` / ``previous_year``: the last whole
  calendar month, quarter or year that ended on or before the as-of date (as of
  31 March that is March itself; as of 15 April it is March).
* ``custom``: the given ``start`` and ``end`` (ISO dates or dates), start on or
  before end.
"""

from __future__ import annotations

import calendar
import datetime as dt

from reports.blocks.base import ReportPeriod

PERIODS: tuple[tuple[str, str], ...] = (
    ("mtd", "Month to date"),
    ("qtd", "Quarter to date"),
    ("ytd", "Year to date"),
    ("1y", "1 year"),
    ("3y", "3 years"),
    ("5y", "5 years"),
    ("since_inception", "Since inception"),
    ("previous_month", "Previous month"),
    ("previous_quarter", "Previous quarter"),
    ("previous_year", "Previous year"),
    ("custom", "Custom range"),
)
"""(key, label) of every period, in the order the builder lists them."""

_LABELS = dict(PERIODS)
_TRAILING_YEARS = {"1y": 1, "3y": 3, "5y": 5}


class PeriodError(ValueError):
    """A period that cannot be resolved; the message is for the user."""


def _date(value: dt.date | str | None, *, what: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PeriodError(f"The {what} date “{value}” is not a date (use YYYY-MM-DD).") from None


def period_validate(
    key: str, *, start: dt.date | str | None = None, end: dt.date | str | None = None
) -> tuple[str, dt.date | None, dt.date | None]:
    """Check a period as stored in parameters: a known key and, for ``custom``,
    both dates with start on or before end. Returns ``(key, start, end)`` with the
    dates parsed (None unless custom); raises :class:`PeriodError`."""
    if key not in _LABELS:
        choices = ", ".join(k for k, _ in PERIODS)
        raise PeriodError(f"There is no period “{key}”; choose one of: {choices}.")
    if key != "custom":
        return key, None, None
    first, last = _custom_dates(start, end)
    return key, first, last


def _custom_dates(
    start: dt.date | str | None, end: dt.date | str | None
) -> tuple[dt.date, dt.date]:
    first, last = _date(start, what="start"), _date(end, what="end")
    if first is None or last is None:
        raise PeriodError("A custom period needs both a start and an end date.")
    if first > last:
        raise PeriodError(
            f"The custom period starts on {first.isoformat()}, after it ends on {last.isoformat()}."
        )
    return first, last


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _years_before(day: dt.date, years: int) -> dt.date:
    year = day.year - years
    if day == _month_end(day.year, day.month):
        return _month_end(year, day.month)
    return dt.date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def _quarter_start_month(month: int) -> int:
    return 3 * ((month - 1) // 3) + 1


def _format(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def period_resolve(
    key: str,
    *,
    as_of: dt.date,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> ReportPeriod:
    """The inclusive dates of period ``key`` on ``as_of`` (see the module), with a
    label for headers ("Year to date", "March 2024", "Q1 2024", "1 Mar 2024 –
    31 May 2024"). Raises :class:`PeriodError` for an unknown key or a bad custom
    range."""
    key, _, _ = period_validate(key, start=start, end=end)
    label = _LABELS[key]
    if key == "custom":
        custom_start, custom_end = _custom_dates(start, end)
        return ReportPeriod(
            key, f"{_format(custom_start)} – {_format(custom_end)}", custom_start, custom_end
        )
    if key == "mtd":
        return ReportPeriod(key, label, as_of.replace(day=1), as_of)
    if key == "qtd":
        return ReportPeriod(
            key, label, dt.date(as_of.year, _quarter_start_month(as_of.month), 1), as_of
        )
    if key == "ytd":
        return ReportPeriod(key, label, dt.date(as_of.year, 1, 1), as_of)
    if key in _TRAILING_YEARS:
        base = _years_before(as_of, _TRAILING_YEARS[key])
        return ReportPeriod(key, label, base + dt.timedelta(days=1), as_of)
    if key == "since_inception":
        return ReportPeriod(key, label, None, as_of)
    if key == "previous_month":
        last = as_of if as_of == _month_end(as_of.year, as_of.month) else as_of.replace(day=1)
        if last.day == 1:
            last -= dt.timedelta(days=1)
        return ReportPeriod(key, f"{last:%B %Y}", last.replace(day=1), last)
    if key == "previous_quarter":
        quarter_end = _month_end(as_of.year, _quarter_start_month(as_of.month) + 2)
        if as_of != quarter_end:
            quarter_end = dt.date(as_of.year, _quarter_start_month(as_of.month), 1)
            quarter_end -= dt.timedelta(days=1)
        first = dt.date(quarter_end.year, quarter_end.month - 2, 1)
        return ReportPeriod(
            key, f"Q{(quarter_end.month - 1) // 3 + 1} {quarter_end.year}", first, quarter_end
        )
    # previous_year
    year = as_of.year if (as_of.month, as_of.day) == (12, 31) else as_of.year - 1
    return ReportPeriod(key, str(year), dt.date(year, 1, 1), dt.date(year, 12, 31))
