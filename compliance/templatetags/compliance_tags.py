"""Formatting of utilisations, rule values, parameters, decisions and people on
compliance pages. Nothing raw reaches a page: no enum value, template key or
Python dict; people are shown by their full name."""

import math
from typing import Any

from django import template

from compliance.engine.kinds import KINDS, Direction, RuleKind
from compliance.engine.pretrade import EFFECT_LABELS
from compliance.engine.templates import TEMPLATES
from compliance.models import ResultStatus
from compliance.services.alerts import PAST_PARTICIPLES
from portal.templatetags.humanize_numbers import percent

register = template.Library()

MAX_DECIMALS = 4


def percent_beside_limit(value: float, decimals: int = 1) -> str:
    """``value`` (a fraction, 1.0 = the limit) as a percentage with ``decimals``,
    and more (up to four) when the rounded text would put it on the wrong side of
    the limit or on it: 0.9997 is "99.97%", never "100.0%", and 1.00004 is
    "100.004%"."""
    text = f"{value:.{decimals}%}"
    while decimals < MAX_DECIMALS and value != 1.0:
        shown = round(value * 100, decimals)
        if (value < 1.0 and shown < 100) or (value > 1.0 and shown > 100):
            break
        decimals += 1
        text = f"{value:.{decimals}%}"
    return text


@register.filter
def utilisation(value) -> str:
    """0.953 → "95.3%"; 0.9997 → "99.97%" (never "100.0%" for a value inside the
    limit); infinity (a zero limit used) → "unbounded"; None → "—"."""
    if value is None:
        return "—"
    if math.isinf(value):
        return "unbounded"
    return percent_beside_limit(value)


def _is_count(kind: str) -> bool:
    return kind in (RuleKind.MAX_HOLDINGS, RuleKind.MIN_HOLDINGS, RuleKind.VAR_BACKTEST)


@register.filter
def rule_value(value, kind: str = "") -> str:
    """Counts as whole numbers, relative VaR as a share of the reference, asset
    coverage as a percentage of borrowings, everything else as a percentage of net
    assets with two decimals (more for a small value that would read as zero)."""
    if value is None:
        return "—"
    if math.isinf(value):
        return "no borrowings" if kind == RuleKind.MIN_ASSET_COVERAGE else "unbounded"
    if _is_count(kind):
        return f"{value:,.0f}"
    if kind == RuleKind.MAX_RELATIVE_VAR:
        return f"{value:.0%} of reference"
    return percent(value)


@register.filter
def is_listed(kind: str) -> bool:
    """Whether a rule kind is a restricted or watch list (read as hits, not as a
    utilisation of a zero limit)."""
    return kind in (RuleKind.RESTRICTED_LIST, RuleKind.WATCH_LIST)


@register.simple_tag
def list_reading(kind: str, value, group: str = "") -> str:
    """A restricted- or watch-list result as it reads: "Watch-list hit: ACME
    (2.30% of net assets)", or "No watch-list names held"."""
    name = "Watch-list" if kind == RuleKind.WATCH_LIST else "Restricted-list"
    if value is None:
        return "—"
    if value == 0:
        return f"No {name.lower()} names held"
    names = f": {group}" if group else ""
    return f"{name} hit{names} ({percent(value)} of net assets)"


@register.filter
def status_class(status: str) -> str:
    return {
        "breach": "status-breach",
        "warning": "status-warning",
        "restricted": "status-warning",
    }.get(status, "status-ok")


@register.filter
def effect_class(effect: str) -> str:
    """The badge colour of a pre-trade effect: refusals red, existing breaches and
    warnings amber, reductions and cures green."""
    return {
        "causes": "status-breach",
        "worsens": "status-breach",
        "not_reducing": "status-breach",
        "unchanged": "status-warning",
        "warning": "status-warning",
    }.get(effect, "status-ok")


@register.filter
def effect_label(effect: str) -> str:
    return EFFECT_LABELS.get(effect, str(effect))


@register.filter
def status_label(status: str) -> str:
    """A result status's label ("no_value" → "No value"); an unknown one as given."""
    try:
        return str(ResultStatus(status).label)
    except ValueError:
        return str(status)


@register.filter
def direction_label(direction: str) -> str:
    return "a maximum" if direction == Direction.MAXIMUM else "a minimum"


@register.filter
def template_label(key: str) -> str:
    """A regulatory template's name for its key; "" stays "—"."""
    found = TEMPLATES.get(key)
    return found.name if found else "—"


PARAM_LABELS = {
    "attribute": "Grouped by",
    "group": "Group",
    "exclude_asset_classes": "Left out",
    "issuer_types": "Issuer types",
    "threshold": "Threshold",
    "identifiers": "Instruments",
    "issuers": "Issuers",
    "mode": "Mode",
    "confidence": "Confidence",
    "horizon_days": "Horizon (trading days)",
    "min_history_days": "History (daily returns)",
    "method": "Method",
    "business_calendar": "Business-day calendar",
    "reference": "Reference",
    "observations": "Observations",
    "issuer_limit": "Issuer limit",
    "voting_limit": "Voting-securities limit",
}

WORDS = {
    "issuer_group": "issuer group (consolidated accounts)",
    "asset_class": "asset class",
    "fixed_income": "fixed income",
    "covered_bond": "covered bond",
    "cornish_fisher": "Cornish-Fisher",
    "hold": "may not hold",
    "buy": "may not buy",
}


def _word(value: Any) -> str:
    text = str(value)
    return WORDS.get(text, text.replace("_", " "))


@register.filter
def readable_params(params: dict, kind: str = "") -> list[tuple[str, str]]:
    """A rule's parameters as (label, value) pairs in the kind's order; lists
    joined, fractions as percentages, empty values left out."""
    try:
        order = [p.name for p in KINDS[RuleKind(kind)].params]
    except ValueError:
        order = []
    names = [n for n in order if n in params] + [n for n in params if n not in order]
    pairs = []
    for name in names:
        value = params[name]
        if value in ("", None, []):
            continue
        if isinstance(value, list | tuple):
            shown = ", ".join(_word(v) for v in value)
        elif name in ("confidence", "threshold", "issuer_limit", "voting_limit"):
            shown = f"{float(value) * 100:.4f}".rstrip("0").rstrip(".") + "%"
        else:
            shown = _word(value)
        pairs.append((PARAM_LABELS.get(name, name.replace("_", " ").capitalize()), shown))
    return pairs


@register.filter
def person(user) -> str:
    """A user by full name (the username when none is recorded); None → "—"."""
    if user is None:
        return "—"
    return user.get_full_name() or user.username


TRANSITION_LABELS = {
    "opened": "Opened",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "reopened": "Reopened",
    "waived": "Waived",
    "snoozed": "Snoozed",
    "assigned": "Assigned",
    "cured": "Back within the limit",
    "escalated": "Escalated",
    "remediation_escalated": "Out of compliance more than five business days: escalated",
    "remediation_follow_up": "Back in compliance: follow-up due",
}


@register.filter
def transition_label(transition: str) -> str:
    return TRANSITION_LABELS.get(transition, str(transition).replace("_", " ").capitalize())


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in a template (None when absent)."""
    if mapping is None:
        return None
    return mapping.get(key)


@register.filter
def past_participle(action: str) -> str:
    """A decision's past participle ("waive" → "waived")."""
    return PAST_PARTICIPLES.get(action, action)


@register.filter
def percent_or_dash(value) -> str:
    """A weight (fraction of net assets) with two decimals (more for a small weight
    that would read as zero: ``humanize_numbers.percent``); None → "—"."""
    if value is None:
        return "—"
    return percent(value)


GROUP_ATTRIBUTE_LABELS = {
    "instrument": "Instrument",
    "issuer": "Issuer",
    "issuer_group": "Issuer group",
    "sector": "Sector",
    "country": "Country",
    "currency": "Currency",
}


@register.filter
def group_attribute_label(attribute: str) -> str:
    return GROUP_ATTRIBUTE_LABELS.get(attribute, attribute.replace("_", " ").capitalize())


@register.filter
def headroom(value) -> str:
    """The share of a limit left (1 − utilisation): "12.5% left", "60.0% beyond";
    a sliver left is never rounded to nothing ("0.01% left"); None → "—"."""
    if value is None:
        return "—"
    if math.isinf(value):
        return "unbounded beyond" if value < 0 else "—"
    amount = abs(value)
    decimals = 1
    while decimals < MAX_DECIMALS and amount > 0 and round(amount * 100, decimals) == 0:
        decimals += 1
    return f"{amount:.{decimals}%} " + ("left" if value >= 0 else "beyond")
