"""Number formats used across pages: money with thousands separators and two
decimals, quantities without trailing zeros, weights as percentages."""

from decimal import Decimal, InvalidOperation

from django import template

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


@register.filter
def percent(value, digits: int = 2) -> str:
    number = _decimal(value)
    return "" if number is None else f"{number * 100:.{int(digits)}f}%"
