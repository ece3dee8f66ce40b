"""Formatting of utilisations and rule values on compliance pages."""

import math

from django import template

from compliance.models import ResultStatus

register = template.Library()


@register.filter
def utilisation(value) -> str:
    """0.953 → "95.3%"; infinity (a zero limit used) → "unbounded"; None → "—"."""
    if value is None:
        return "—"
    if math.isinf(value):
        return "unbounded"
    return f"{value:.1%}"


@register.filter
def rule_value(value, kind: str = "") -> str:
    """Counts as whole numbers, everything else as a percentage."""
    if value is None:
        return "—"
    if math.isinf(value):
        return "unbounded"
    if kind in ("max_holdings", "min_holdings", "var_backtest"):
        return f"{value:,.0f}"
    if kind == "max_relative_var":
        return f"{value:.0%} of reference"
    return f"{value:.2%}"


@register.filter
def status_class(status: str) -> str:
    return {
        "breach": "status-breach",
        "warning": "status-warning",
        "restricted": "status-warning",
    }.get(status, "status-ok")


@register.filter
def status_label(status: str) -> str:
    """A result status's label ("no_value" → "No value"); an unknown one as given."""
    try:
        return str(ResultStatus(status).label)
    except ValueError:
        return str(status)
