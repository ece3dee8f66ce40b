"""Number formats of the analytics pages (snapshot JSON: fractions and floats, ``null``
for a value the data could not support). A missing value shows as an em dash, never
as an empty cell or a zero."""

from django import template

register = template.Library()

MISSING = "—"


def _float(value) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _shown(number: float, digits: int) -> float:
    """The number as displayed; a value that rounds to zero is 0 (never "-0.00")."""
    return round(number, digits) + 0.0


@register.filter
def pct(value, digits=2) -> str:
    """A fraction as a percentage: 0.0123 → ``1.23%``."""
    number = _float(value)
    if number is None:
        return MISSING
    return f"{_shown(number * 100, int(digits)):,.{int(digits)}f}%"


@register.filter
def signed_pct(value, digits=2) -> str:
    """A fraction as a signed percentage: 0.0123 → ``+1.23%`` (zero unsigned)."""
    number = _float(value)
    if number is None:
        return MISSING
    shown = _shown(number * 100, int(digits))
    return f"{shown:,.{int(digits)}f}%" if shown == 0 else f"{shown:+,.{int(digits)}f}%"


@register.filter
def num(value, digits=2) -> str:
    """A plain number with thousands separators."""
    number = _float(value)
    return MISSING if number is None else f"{_shown(number, int(digits)):,.{int(digits)}f}"


@register.filter
def count(value) -> str:
    """A whole number (observations, days)."""
    number = _float(value)
    return MISSING if number is None else f"{round(number):,d}"


@register.filter
def as_kind(value, kind: str) -> str:
    """Format by kind: ``percent``, ``ratio`` (2 decimals), ``count`` or ``days``."""
    if kind == "percent":
        return pct(value)
    if kind in ("count", "days"):
        return count(value)
    return num(value)


@register.filter
def tone(value) -> str:
    """CSS class for a signed fraction as shown in percent with two decimals:
    ``pos``, ``neg`` or empty (also for what rounds to 0.00 %)."""
    number = _float(value)
    if number is None or _shown(number * 100, 2) == 0:
        return ""
    return "pos" if number > 0 else "neg"


@register.filter
def bar_width(value, cap=1.5) -> str:
    """Width of a utilisation bar in % of its track, whose full width is ``cap``
    (150 % utilisation), so a breach still shows how far over the limit it is."""
    number = _float(value)
    if number is None:
        return "0"
    return f"{max(0.0, min(number, float(cap))) / float(cap) * 100:.1f}"


@register.filter
def get(mapping, key):
    """``mapping[key]`` for a key held in a variable (None when absent)."""
    if mapping is None:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None
