"""What a report block is and what it is given.

A block is one small module under ``reports.blocks`` that defines a
:class:`Block`: its ``kind`` (the catalog key stored in templates), a title and
description for the builder, its options with defaults, whether it runs once per
portfolio or once for all of them, and ``build(context) -> list[Section]``, its
data function. Blocks read stored snapshots (``context.portfolios[i].snapshot``)
and call analytics/compliance services and selectors; they never compute a metric
themselves. The HTML fragment is ``templates/reports/blocks/<kind>.html`` when the
block has one (``reports/blocks/_section.html`` otherwise), and the sheet writer
is the generic one fed by the section's tables and their ``SheetChart``.

A block that the data cannot support returns a section with ``unavailable`` set
(never raises for missing data); a block that raises fails the run with a
readable message naming the block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reports.document import Section

if TYPE_CHECKING:
    from analytics.models import Portfolio
    from analytics.selectors.portfolios import SnapshotView
    from portal.models import User


@dataclass(frozen=True)
class ReportPeriod:
    """A resolved report period: ``key`` as stored in the template (``mtd``,
    ``qtd``, ``ytd``, ``1y``, ``3y``, ``5y``, ``since_inception``,
    ``previous_month``, ``previous_quarter``, ``previous_year``, ``custom``), its
    label, and the inclusive dates it covers for one portfolio (``start`` is None
    for since inception)."""

    key: str
    label: str
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True)
class PortfolioInput:
    """One portfolio of a run: the row, the snapshot readers show (see
    ``analytics.selectors.portfolios.SnapshotView``) and the period resolved on
    its as-of date."""

    portfolio: Portfolio
    snapshot: SnapshotView
    period: ReportPeriod


@dataclass(frozen=True)
class BlockContext:
    """Everything a block may use. ``portfolios`` are already scoped to what
    ``user`` is entitled to see (the run checked it); ``options`` are the block's
    options from the template merged over its defaults."""

    user: User
    portfolios: Sequence[PortfolioInput]
    period_key: str
    benchmark: str | None  # a benchmark code overriding each portfolio's own, or None
    reporting_currency: str | None  # None: each portfolio's base currency
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """An option of a block, shown in the builder: ``choices`` (value, label)
    for a select, else a free value of ``default``'s type."""

    name: str
    label: str
    default: Any
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Block:
    """A catalog entry (see the module docstring)."""

    kind: str
    title: str
    description: str
    build: Callable[[BlockContext], list[Section]]
    options: tuple[Option, ...] = ()
    per_portfolio: bool = True

    def defaults(self) -> dict[str, Any]:
        return {option.name: option.default for option in self.options}

    def options_merged(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """The block's defaults overridden by ``given``; an unknown option or a
        value outside an option's choices raises ``ValueError`` with a message a
        user can act on."""
        merged = self.defaults()
        for name, value in (given or {}).items():
            option = next((o for o in self.options if o.name == name), None)
            if option is None:
                raise ValueError(f"The block “{self.title}” has no option “{name}”.")
            if option.choices and value not in {c for c, _ in option.choices}:
                allowed = ", ".join(c for c, _ in option.choices)
                raise ValueError(f"“{option.label}” must be one of: {allowed}.")
            merged[name] = value
        return merged


def section_key(block: str, portfolio: Portfolio | None) -> str:
    """The document-unique key of a block's section for ``portfolio`` (or all)."""
    return f"{block}-{portfolio.code}" if portfolio is not None else block
