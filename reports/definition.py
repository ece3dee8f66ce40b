"""What a report is made of, checked: blocks, parameters and layout.

A template version stores these three as JSON (see ``reports.models``); an ad hoc
run carries them unsaved. :func:`definition_clean` is the one validator both go
through: every block kind must be in the catalog (``reports.blocks.block_get``)
with options its ``Block.options_merged`` accepts, the parameters must name a
known scope and period (``reports.periods``), and the layout must fit
``reports.document.Layout``. It returns the cleaned JSON (blocks keep only the
options the user gave, so a changed default applies to old templates too).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analytics.models import Benchmark
from reports.blocks import block_get
from reports.document import Layout
from reports.errors import ReportInvalid
from reports.periods import PeriodError, period_validate

SCOPES = ("portfolios", "entitled", "team")
"""``portfolios``: the listed codes; ``entitled``: every active portfolio the
running user may see; ``team``: the portfolios entitled to a team."""

PARAMETER_DEFAULTS: dict[str, Any] = {
    "scope": "entitled",
    "portfolios": [],
    "team": None,
    "period": "ytd",
    "start": None,
    "end": None,
    "benchmark": None,
    "reporting_currency": None,
}
"""Every parameter and its value when a template does not set it."""

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_LAYOUT_FIELDS = {f.name: f for f in dataclasses.fields(Layout)}


@dataclass(frozen=True)
class ReportDefinition:
    """A report's content, from a template version or unsaved (ad hoc):
    ``slug``/``version`` are ``""``/0 for an ad hoc definition."""

    name: str
    blocks: list[dict[str, Any]]
    parameters: dict[str, Any]
    layout: dict[str, Any]
    description: str = ""
    slug: str = ""
    version: int = 0

    def layout_object(self) -> Layout:
        return Layout(**self.layout)


def blocks_clean(blocks: Any) -> list[dict[str, Any]]:
    """``[{"kind", "options"}]`` with known kinds and acceptable options."""
    if not isinstance(blocks, Sequence) or isinstance(blocks, str | bytes):
        raise ReportInvalid("Blocks must be a list.", field="blocks")
    if not blocks:
        raise ReportInvalid("A report needs at least one block.", field="blocks")
    cleaned = []
    for position, entry in enumerate(blocks, start=1):
        if isinstance(entry, str):
            entry = {"kind": entry}
        if not isinstance(entry, Mapping) or not isinstance(entry.get("kind"), str):
            raise ReportInvalid(f"Block {position} needs a “kind”.", field="blocks")
        try:
            block = block_get(entry["kind"])
        except KeyError as error:
            raise ReportInvalid(str(error.args[0]), field="blocks") from None
        options = entry.get("options") or {}
        if not isinstance(options, Mapping):
            raise ReportInvalid(
                f"The options of “{block.title}” must be an object.", field="blocks"
            )
        try:
            block.options_merged(options)
        except ValueError as error:
            raise ReportInvalid(str(error), field="blocks") from None
        cleaned.append({"kind": block.kind, "options": dict(options)})
    return cleaned


def parameters_clean(parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters over :data:`PARAMETER_DEFAULTS`, checked (unknown names,
    scope, portfolio codes, team id, period, benchmark code, currency)."""
    given = dict(parameters or {})
    unknown = sorted(set(given) - set(PARAMETER_DEFAULTS) - {"portfolios_requested"})
    if unknown:
        raise ReportInvalid(f"Unknown parameter “{unknown[0]}”.", field="parameters")
    cleaned = {**PARAMETER_DEFAULTS, **given}
    if cleaned["scope"] not in SCOPES:
        raise ReportInvalid(f"The scope must be one of: {', '.join(SCOPES)}.", field="scope")
    codes = cleaned["portfolios"] or []
    if isinstance(codes, str) or not all(isinstance(code, str) and code for code in codes):
        raise ReportInvalid("Portfolios must be a list of portfolio codes.", field="portfolios")
    cleaned["portfolios"] = list(dict.fromkeys(codes))
    if cleaned["scope"] == "portfolios" and not cleaned["portfolios"]:
        raise ReportInvalid("Choose at least one portfolio.", field="portfolios")
    if cleaned["scope"] == "team":
        team = cleaned["team"]
        if isinstance(team, bool) or not isinstance(team, int):
            raise ReportInvalid("Choose the team whose portfolios to report.", field="team")
    try:
        _, start, end = period_validate(
            cleaned["period"], start=cleaned["start"], end=cleaned["end"]
        )
    except PeriodError as error:
        raise ReportInvalid(str(error), field="period") from None
    cleaned["start"] = start.isoformat() if start else None
    cleaned["end"] = end.isoformat() if end else None
    benchmark = cleaned["benchmark"] or None
    if benchmark is not None and not Benchmark.objects.filter(code=benchmark).exists():
        raise ReportInvalid(f"There is no benchmark “{benchmark}”.", field="benchmark")
    cleaned["benchmark"] = benchmark
    currency = cleaned["reporting_currency"] or None
    if currency is not None and not _CURRENCY.match(str(currency)):
        raise ReportInvalid(
            "The reporting currency must be a three-letter ISO code such as USD.",
            field="reporting_currency",
        )
    cleaned["reporting_currency"] = currency
    cleaned["portfolios_requested"] = bool(cleaned.get("portfolios_requested"))
    return cleaned


def layout_clean(layout: Mapping[str, Any] | None) -> dict[str, Any]:
    """The layout over ``Layout``'s defaults, checked."""
    given = dict(layout or {})
    unknown = sorted(set(given) - set(_LAYOUT_FIELDS))
    if unknown:
        raise ReportInvalid(f"Unknown layout option “{unknown[0]}”.", field="layout")
    cleaned = {**dataclasses.asdict(Layout()), **given}
    if cleaned["orientation"] not in ("portrait", "landscape"):
        raise ReportInvalid("The orientation must be portrait or landscape.", field="layout")
    if not isinstance(cleaned["accent_colour"], str) or not _COLOUR.match(cleaned["accent_colour"]):
        raise ReportInvalid(
            "The accent colour must be a hex colour such as #1f4e79.", field="layout"
        )
    logo = cleaned["logo"]
    if not isinstance(logo, str) or ".." in logo or logo.startswith(("/", "\\")) or ":" in logo:
        raise ReportInvalid("The logo must be a path under the static files.", field="layout")
    if not isinstance(cleaned["cover_page"], bool):
        raise ReportInvalid("Cover page must be true or false.", field="layout")
    if not isinstance(cleaned["disclaimer"], str) or len(cleaned["disclaimer"]) > 4000:
        raise ReportInvalid(
            "The disclaimer must be text of at most 4,000 characters.", field="layout"
        )
    return cleaned


def definition_clean(
    *,
    name: str,
    blocks: Any,
    parameters: Mapping[str, Any] | None,
    layout: Mapping[str, Any] | None,
    description: str = "",
) -> ReportDefinition:
    """A checked :class:`ReportDefinition`; raises ``ReportInvalid`` naming the
    field at fault."""
    name = (name or "").strip()
    if not name:
        raise ReportInvalid("A report needs a name.", field="name")
    if len(name) > 200:
        raise ReportInvalid("The name is longer than 200 characters.", field="name")
    return ReportDefinition(
        name=name,
        description=(description or "").strip(),
        blocks=blocks_clean(blocks),
        parameters=parameters_clean(parameters),
        layout=layout_clean(layout),
    )


def parameters_merge(
    stored: Mapping[str, Any], requested: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A run's parameters: the template's ``stored`` ones with the ``requested``
    overrides (None values in ``requested`` are ignored), checked. Portfolios
    named in the request set ``scope`` to ``portfolios`` and
    ``portfolios_requested`` (a portfolio the user may not see is then an error,
    whereas a template's own list is silently narrowed to what the user may see).
    Merging a run's stored parameters again changes nothing."""
    overrides = {k: v for k, v in (requested or {}).items() if v is not None}
    merged = {**stored, **overrides}
    # A run's own merged parameters, passed again, carry the flag already.
    if overrides.get("portfolios") and "portfolios_requested" not in overrides:
        merged["scope"] = "portfolios"
        merged["portfolios_requested"] = True
    if "period" in overrides and overrides["period"] != "custom":
        merged["start"] = merged["end"] = None
    return parameters_clean(merged)
