"""The catalog of compliance rule kinds: what each measures, its direction and parameters.

:data:`KINDS` maps every :class:`RuleKind` to its label, its :class:`Direction` (a maximum or a
minimum), its parameters (:class:`Param`: type, default, allowed values and range) and what its
limit means. :func:`clean_params` validates a rule's parameters against it; the evaluation
itself is :mod:`compliance.engine.rules` (holdings rules) and :mod:`compliance.engine.risk`
(VaR rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

GROUP_ATTRIBUTES = ("issuer", "issuer_group", "sector", "country", "asset_class", "currency")
"""``issuer_group`` is the issuer's group for consolidated accounts (its ultimate
parent), the issuer itself when the instrument names no group."""
ISSUER_TYPES = ("corporate", "government", "supranational", "covered_bond")
ASSET_CLASSES = ("equity", "fixed_income", "fund", "derivative", "commodity", "cash")
VAR_METHODS = ("historical", "normal", "cornish_fisher")
TRADING_DAYS_PER_YEAR = 252


class RuleKind(StrEnum):
    MAX_INSTRUMENT_WEIGHT = "max_instrument_weight"
    MAX_GROUP_WEIGHT = "max_group_weight"
    MIN_GROUP_WEIGHT = "min_group_weight"
    MAX_LARGE_GROUPS_TOTAL = "max_large_groups_total"
    MAX_HOLDINGS = "max_holdings"
    MIN_HOLDINGS = "min_holdings"
    RESTRICTED_LIST = "restricted_list"
    WATCH_LIST = "watch_list"
    MAX_GROSS_LEVERAGE = "max_gross_leverage"
    MAX_NET_LEVERAGE = "max_net_leverage"
    MIN_CASH = "min_cash"
    DIVERSIFIED_FUND = "diversified_fund"
    MIN_ASSET_COVERAGE = "min_asset_coverage"
    MAX_VAR = "max_var"
    MAX_RELATIVE_VAR = "max_relative_var"
    VAR_BACKTEST = "var_backtest"


class Direction(StrEnum):
    MAXIMUM = "max"
    MINIMUM = "min"


@dataclass(frozen=True)
class Param:
    """One parameter of a rule kind: its type, default and allowed values."""

    name: str
    type: str  # "float", "int", "str", "list"
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""


@dataclass(frozen=True)
class KindInfo:
    label: str
    direction: Direction
    params: tuple[Param, ...]
    limit_help: str
    needs: str = "holdings"  # "holdings", "trades", "returns", "realised"


_EXCLUDE = Param(
    "exclude_asset_classes",
    "list",
    default=("cash",),
    choices=ASSET_CLASSES,
    help="Asset classes left out of the numerator (net assets still include them).",
)
_EXCLUDE_NONE = Param(
    "exclude_asset_classes",
    "list",
    default=(),
    choices=ASSET_CLASSES,
    help="Asset classes left out of the numerator (default: cash for issuer, sector and "
    "country; nothing for asset class and currency).",
)
_ISSUER_TYPES = Param(
    "issuer_types",
    "list",
    default=(),
    choices=ISSUER_TYPES,
    help="Only holdings of these issuer types count in the numerator (empty: all).",
)
_ATTRIBUTE = Param(
    "attribute", "str", required=True, choices=GROUP_ATTRIBUTES, help="Grouping attribute."
)
_CONFIDENCE = Param("confidence", "float", 0.99, minimum=0.5, maximum=0.9999)
_HORIZON = Param("horizon_days", "int", 20, minimum=1, maximum=250, help="Trading days.")
_HISTORY = Param(
    "min_history_days",
    "int",
    3 * TRADING_DAYS_PER_YEAR,
    minimum=20,
    maximum=5000,
    help="Daily returns required (the window used); fewer gives no value.",
)
_METHOD = Param("method", "str", "historical", choices=VAR_METHODS)
_CALENDAR = Param(
    "business_calendar",
    "str",
    "XNYS",
    help="The fund's business-day calendar (ISO 10383 MIC, e.g. XNYS) for remediation "
    "timelines; an unknown code counts Monday to Friday.",
)
_LISTED = (
    Param("identifiers", "list", (), help="Instrument identifiers (tickers)."),
    Param("issuers", "list", (), help="Issuer names, matched exactly."),
)

KINDS: dict[RuleKind, KindInfo] = {
    RuleKind.MAX_INSTRUMENT_WEIGHT: KindInfo(
        "Maximum weight per instrument",
        Direction.MAXIMUM,
        (_EXCLUDE, _ISSUER_TYPES),
        "Largest absolute net weight of one instrument, fraction of net assets (0.10 = 10 %).",
    ),
    RuleKind.MAX_GROUP_WEIGHT: KindInfo(
        "Maximum weight per issuer, sector, country, asset class or currency",
        Direction.MAXIMUM,
        (
            _ATTRIBUTE,
            Param("group", "str", "", help="One group only (e.g. Energy); empty: every group."),
            _EXCLUDE_NONE,
            _ISSUER_TYPES,
        ),
        "Largest absolute net weight of one group, fraction of net assets.",
    ),
    RuleKind.MIN_GROUP_WEIGHT: KindInfo(
        "Minimum weight of an issuer, sector, country, asset class or currency",
        Direction.MINIMUM,
        (
            _ATTRIBUTE,
            Param("group", "str", required=True, help="The group (e.g. US)."),
            _EXCLUDE_NONE,
        ),
        "Smallest allowed net weight of the group, fraction of net assets.",
    ),
    RuleKind.MAX_LARGE_GROUPS_TOTAL: KindInfo(
        "Maximum total of the groups above a threshold (UCITS 40 %)",
        Direction.MAXIMUM,
        (
            Param("attribute", "str", "issuer", choices=GROUP_ATTRIBUTES),
            Param("threshold", "float", 0.05, minimum=0.0, maximum=1.0),
            _EXCLUDE,
            _ISSUER_TYPES,
        ),
        "Sum of the weights of the groups strictly above the threshold, fraction of net assets.",
    ),
    RuleKind.MAX_HOLDINGS: KindInfo(
        "Maximum number of holdings",
        Direction.MAXIMUM,
        (_EXCLUDE,),
        "Number of instruments with a non-zero net position.",
    ),
    RuleKind.MIN_HOLDINGS: KindInfo(
        "Minimum number of holdings",
        Direction.MINIMUM,
        (_EXCLUDE, _ISSUER_TYPES),
        "Number of instruments with a non-zero net position.",
    ),
    RuleKind.RESTRICTED_LIST: KindInfo(
        "Restricted list",
        Direction.MAXIMUM,
        (
            *_LISTED,
            Param(
                "mode",
                "str",
                "hold",
                choices=("hold", "buy"),
                help="hold: may not hold; buy: may not buy (sales allowed).",
            ),
        ),
        "Tolerated weight of listed names (normally 0): held weight, or bought value "
        "÷ net assets for 'may not buy'.",
        needs="trades",
    ),
    RuleKind.WATCH_LIST: KindInfo(
        "Watch list (warn only)",
        Direction.MAXIMUM,
        _LISTED,
        "Tolerated weight of listed names (normally 0); never more than a warning.",
    ),
    RuleKind.MAX_GROSS_LEVERAGE: KindInfo(
        "Maximum gross leverage",
        Direction.MAXIMUM,
        (),
        "Sum of absolute non-cash positions ÷ net assets (1.0 = unlevered).",
    ),
    RuleKind.MAX_NET_LEVERAGE: KindInfo(
        "Maximum net leverage",
        Direction.MAXIMUM,
        (),
        "Absolute sum of signed non-cash positions ÷ net assets.",
    ),
    RuleKind.MIN_CASH: KindInfo(
        "Minimum cash",
        Direction.MINIMUM,
        (),
        "Cash (asset class cash) ÷ net assets.",
    ),
    RuleKind.DIVERSIFIED_FUND: KindInfo(
        "Diversified fund basket (1940 Act 75-5-10)",
        Direction.MINIMUM,
        (
            Param("issuer_limit", "float", 0.05, minimum=0.0, maximum=1.0),
            Param("voting_limit", "float", 0.10, minimum=0.0, maximum=1.0),
        ),
        "Qualifying assets ÷ total assets (0.75 for the 1940 Act). Tested at acquisition: "
        "a failure by market moves restricts acquisitions; a purchase that causes or "
        "worsens it is the breach.",
    ),
    RuleKind.MIN_ASSET_COVERAGE: KindInfo(
        "Minimum asset coverage of borrowings (1940 Act §18(f)(1))",
        Direction.MINIMUM,
        (),
        "(Total assets − liabilities other than borrowings) ÷ borrowings (3.0 = 300 %); "
        "borrowings are negative cash balances. No borrowings: no limit applies.",
    ),
    RuleKind.MAX_VAR: KindInfo(
        "Maximum VaR (absolute)",
        Direction.MAXIMUM,
        (_CONFIDENCE, _HORIZON, _HISTORY, _METHOD, _CALENDAR),
        "VaR as a positive loss fraction of net assets (0.20 = 20 %).",
        needs="returns",
    ),
    RuleKind.MAX_RELATIVE_VAR: KindInfo(
        "Maximum relative VaR",
        Direction.MAXIMUM,
        (
            _CONFIDENCE,
            _HORIZON,
            _HISTORY,
            _METHOD,
            _CALENDAR,
            Param(
                "reference",
                "str",
                "benchmark",
                help="benchmark (the portfolio's own), benchmark:<code> or portfolio:<code>.",
            ),
        ),
        "Portfolio VaR ÷ reference VaR (2.0 = 200 %).",
        needs="returns",
    ),
    RuleKind.VAR_BACKTEST: KindInfo(
        "VaR backtest exceptions",
        Direction.MAXIMUM,
        (
            _CONFIDENCE,
            Param("observations", "int", 250, minimum=20, maximum=2000),
            _HISTORY,
            _METHOD,
        ),
        "Most exceptions tolerated among the last observations (4 at 250 × 99 %: Basel green).",
        needs="realised",
    ),
}


class RuleParameterError(ValueError):
    """Invalid rule parameters; ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


def clean_params(
    kind: str, params: Mapping[str, Any] | None, limit: float | None = None
) -> dict[str, Any]:
    """Validate ``params`` for ``kind`` and return them with defaults filled in.

    Raises :class:`RuleParameterError` naming every bad field (unknown keys too).
    """
    errors: dict[str, list[str]] = {}
    try:
        info = KINDS[RuleKind(kind)]
    except ValueError:
        raise RuleParameterError({"kind": [f"Unknown rule kind {kind!r}."]}) from None
    params = dict(params or {})
    known = {p.name for p in info.params}
    for unknown in sorted(set(params) - known):
        errors.setdefault(unknown, []).append(f"Not a parameter of {kind}.")
    cleaned: dict[str, Any] = {}
    for param in info.params:
        raw = params.get(param.name)
        if raw is None or raw == "" or raw == []:
            if param.required:
                errors.setdefault(param.name, []).append("This parameter is required.")
                continue
            default = param.default
            cleaned[param.name] = list(default) if isinstance(default, tuple) else default
            continue
        try:
            cleaned[param.name] = _coerce(param, raw)
        except ValueError as error:
            errors.setdefault(param.name, []).append(str(error))
    if (
        kind in (RuleKind.MAX_GROUP_WEIGHT, RuleKind.MIN_GROUP_WEIGHT)
        and "exclude_asset_classes" not in params
        and cleaned.get("attribute") in ("issuer", "issuer_group", "sector", "country")
    ):
        # Cash is no issuer, sector or country exposure; it is an asset class and a currency.
        cleaned["exclude_asset_classes"] = ["cash"]
    listed = kind in (RuleKind.RESTRICTED_LIST, RuleKind.WATCH_LIST)
    if listed and not errors and not cleaned["identifiers"] and not cleaned["issuers"]:
        errors["identifiers"] = ["Give at least one identifier or issuer."]
    if limit is not None and (not np.isfinite(limit) or limit < 0):
        errors.setdefault("limit", []).append("The limit must be a number ≥ 0.")
    if errors:
        raise RuleParameterError(errors)
    return cleaned


def _coerce(param: Param, raw: Any) -> Any:
    if param.type == "list":
        items = raw.replace("\n", ",").split(",") if isinstance(raw, str) else list(raw)
        values = [str(item).strip() for item in items if str(item).strip()]
        if param.choices:
            bad = [v for v in values if v not in param.choices]
            if bad:
                raise ValueError(f"Unknown values {bad}; choose from {list(param.choices)}.")
        return values
    if param.type in ("float", "int"):
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError("Enter a number.") from None
        if not np.isfinite(number):
            raise ValueError("Enter a finite number.")
        if param.type == "int":
            if number != int(number):
                raise ValueError("Enter a whole number.")
            number = int(number)
        if param.minimum is not None and number < param.minimum:
            raise ValueError(f"Must be at least {param.minimum}.")
        if param.maximum is not None and number > param.maximum:
            raise ValueError(f"Must be at most {param.maximum}.")
        return number
    value = str(raw).strip()
    if param.choices and value not in param.choices:
        raise ValueError(f"Choose one of {list(param.choices)}.")
    return value
