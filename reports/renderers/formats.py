"""How a report value is shown: the one place every renderer formats from.

HTML and PDF show :func:`value_text`; XLSX writes the raw value with the
matching :func:`excel_number_format`; CSV and JSON write raw values (see
:func:`csv_value`). The value conventions are those of :mod:`reports.document`.

Display rules (en-GB, thousands separated by commas, ``-`` for negatives):

* Rounding is half away from zero, on the number as written (``repr``).
* ``percent``: the fraction × 100 with a ``%`` sign. Without an explicit
  ``decimals`` the precision follows the size: 2 decimals below 100 % (so
  29.99 % shows as ``29.99%``, never ``30.0%``), 1 below 1,000 %, 0 above; and
  a non-zero value that would show as ``0.00%`` gets the decimals it needs (up
  to 6: 0.001 % shows as ``0.001%``). A column's ``decimals`` is used as given.
* ``bps``: 1 decimal and ``bp``; ``currency``: 0 decimals, with the ISO code
  (``USD 1,234,567``) when asked (tables put the code in the column header);
  ``number`` and ``ratio``: 2 decimals; ``integer`` and ``days``: 0 decimals;
  ``date``: ISO 8601 (``2024-03-31``); date-times: ``2024-03-31 14:05 UTC``.
* ``None``, NaN and infinities are missing: ``–`` (an en dash) on screen and
  in print, an empty cell in XLSX and CSV.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from reports.document import Column, Format

MISSING = "–"
NUMERIC_FORMATS = frozenset({"integer", "number", "ratio", "percent", "bps", "currency", "days"})
DEFAULT_DECIMALS: dict[str, int] = {
    "percent": 2,
    "number": 2,
    "ratio": 2,
    "currency": 0,
    "bps": 1,
    "integer": 0,
    "days": 0,
}
_MAX_PERCENT_DECIMALS = 6


def is_missing(value: Any) -> bool:
    """Whether ``value`` is a missing value (``None``, NaN or an infinity)."""
    if value is None:
        return True
    return isinstance(value, numbers.Real) and not math.isfinite(value)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a number (numpy scalars included; booleans are not)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_numeric(format_: Format) -> bool:
    """Whether values of ``format_`` are numbers (right-aligned, numeric cells)."""
    return format_ in NUMERIC_FORMATS


def percent_decimals(fraction: float) -> int:
    """The decimals a percentage is shown with when its column sets none: by size
    (2 below 100 %, 1 below 1,000 %, 0 above), then more while a non-zero value
    would show as zero, up to 6."""
    percent = abs(fraction) * 100
    decimals = 2 if percent < 100 else 1 if percent < 1000 else 0
    while decimals < _MAX_PERCENT_DECIMALS and percent > 0 and round(percent, decimals) == 0:
        decimals += 1
    return decimals


def number_text(value: float | Decimal, decimals: int) -> str:
    """``value`` with thousands separators and ``decimals`` decimals, rounded half
    away from zero on the value as written (``repr``), not on its binary
    approximation: 123.45 shows as ``123.5`` although the float is 123.4499…."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{decimals}f}"
    # -0.00 reads as a loss that is not there.
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")
    return text


def value_text(
    value: Any,
    format_: Format,
    *,
    decimals: int | None = None,
    currency: str | None = None,
    with_currency: bool = True,
) -> str:
    """``value`` as shown on screen and in print (see the module docstring)."""
    if is_missing(value):
        return MISSING
    if format_ == "date":
        if isinstance(value, dt.datetime):
            return datetime_text(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)
    if format_ == "text" or not is_number(value):
        return str(value)
    if format_ == "percent":
        places = decimals if decimals is not None else percent_decimals(float(value))
        return number_text(Decimal(repr(float(value))).scaleb(2), places) + "%"
    places = decimals if decimals is not None else DEFAULT_DECIMALS.get(format_, 2)
    text = number_text(float(value), places)
    if format_ == "bps":
        return f"{text} bp"
    if format_ == "currency" and currency and with_currency:
        return f"{currency} {text}"
    return text


def column_text(value: Any, column: Column) -> str:
    """A table cell of ``column`` as shown (the currency code is in the header)."""
    return value_text(
        value,
        column.format,
        decimals=column.decimals,
        currency=column.currency,
        with_currency=False,
    )


def column_label(column: Column) -> str:
    """A column's header: its label, with the currency code or unit when the
    cells do not carry it (``Market value (USD)``)."""
    if column.format == "currency" and column.currency:
        return f"{column.label} ({column.currency})"
    return column.label


def datetime_text(moment: dt.datetime) -> str:
    """A date-time as ``2024-03-31 14:05 UTC`` (aware values converted to UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M") + " UTC"


def excel_number_format(column: Column) -> str | None:
    """The Excel number format of ``column``'s cells (None for text): percent
    formats keep the value a fraction (``0.00%``), dates are ``yyyy-mm-dd``."""
    format_ = column.format
    if format_ == "date":
        return "yyyy-mm-dd"
    if not is_numeric(format_):
        return None
    places = column.decimals if column.decimals is not None else DEFAULT_DECIMALS[format_]
    fraction = "." + "0" * places if places > 0 else ""
    if format_ == "percent":
        return f"0{fraction}%"
    if format_ == "ratio":
        return f"0{fraction}"
    return f"#,##0{fraction}"


def csv_value(value: Any) -> str:
    """A raw CSV cell: numbers as written by Python (percentages stay fractions),
    dates ISO 8601, missing values empty, booleans ``true``/``false``."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
