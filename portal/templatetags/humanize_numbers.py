"""Number formats used across pages: money with thousands separators and two
decimals (``amount``: with its currency code first, "USD 1,234,567.00"), prices
and quantities without trailing zeros, weights as percentages with the decimals
their size needs, and dates in ISO 8601 (``iso``: "2024-03-28", a time of day as
"2024-03-28 14:05" in the portal's time zone)."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value) -> str:
    number = _decimal(value)
    return "" if number is None else f"{number:,.2f}"


@register.filter
def price(value) -> str:
    number = _decimal(value)
    return "" if number is None else f"{number:,.4f}".rstrip("0").rstrip(".")


@register.filter
def quantity(value) -> str:
    number = _decimal(value)
    if number is None:
        return ""
    return f"{number:,.6f}".rstrip("0").rstrip(".")


MAX_PERCENT_DECIMALS = 4


@register.filter
def percent(value, digits: int = 2) -> str:
    """A fraction as a percentage with ``digits`` decimals, and more (up to four)
    when a value that is not zero would read as zero: 0.1234 → "12.34%",
    0.00004 → "0.004%", 0 (or less than 0.00005 %) → "0.00%", never "-0.00%"."""
    number = _decimal(value)
    if number is None:
        return ""
    shown = number * 100
    decimals = int(digits)
    while decimals < MAX_PERCENT_DECIMALS and shown != 0 and round(shown, decimals) == 0:
        decimals += 1
    if round(shown, decimals) == 0:  # zero, or too small to show at all
        decimals = int(digits)
    rounded = round(shown, decimals)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:,.{decimals}f}%"


@register.filter
def amount(value, currency: str = "") -> str:
    """Money with its currency code first: ``USD 1,234,567.00``; missing → "—"."""
    text = money(value)
    if not text:
        return "—"
    return f"{currency} {text}" if currency else text


@register.filter
def unit_price(value, currency: str = "") -> str:
    """A price (up to four decimals) with its currency code first: ``USD 101.95``."""
    text = price(value)
    if not text:
        return "—"
    return f"{currency} {text}" if currency else text


@register.filter
def iso(value) -> str:
    """A date as ``2024-03-28``; a date and time as ``2024-03-28 14:05`` in the
    portal's time zone; missing → "" (so ``|default:`` applies)."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
