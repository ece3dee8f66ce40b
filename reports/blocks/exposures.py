"""Exposures by an instrument attribute (sector, industry, country, asset class,
currency or issuer): long, short, gross and net as fractions of net assets, as a
table and a bar chart, with the portfolio's totals and concentration.

Exposures are the snapshot's, on its as-of date (holdings are a point in time, not
a period figure). Cash is its own asset class (no sector, country or issuer:
"(none)"); holdings without a base-currency value are left out and counted.
"""

from __future__ import annotations

from analytics.presentation.figures import exposure_figure
from analytics.presentation.tables import DIMENSION_LABELS, exposure_rows
from reports.blocks._snapshot import (
    missing,
    portfolio_section,
    section_reason,
    snapshot_result,
)
from reports.blocks.base import Block, BlockContext, Option, PortfolioInput
from reports.document import Column, Figure, Kpi, Section, SheetChart, Table

KIND = "exposures"
TITLE = "Exposures"
DEFAULT_BY = "sector"


def build(context: BlockContext) -> list[Section]:
    by = str(context.options.get("by", DEFAULT_BY))
    return [_portfolio(item, by) for item in context.portfolios]


def _portfolio(item: PortfolioInput, by: str) -> Section:
    section = portfolio_section(KIND, f"{TITLE} by {DIMENSION_LABELS[by].lower()}", item)
    result = snapshot_result(item)
    reason = section_reason(result, "exposures")
    if result is None or reason is not None:
        return missing(section, reason or "")
    exposures = result["exposures"]
    stored = (exposures.get("dimensions") or {}).get(by)
    if not stored:
        unvalued = exposures.get("unvalued_holdings") or 0
        return missing(
            section,
            f"No valued holdings on the as-of date ({unvalued} without a base-currency value)."
            if unvalued
            else "The portfolio holds nothing on the as-of date.",
        )
    rows = exposure_rows(stored, by)
    label = DIMENSION_LABELS[by]
    totals = exposures.get("totals") or {}
    concentration = exposures.get("concentration") or {}
    section.kpis = [
        Kpi("Gross exposure", totals.get("gross"), "percent", note="excluding cash"),
        Kpi("Net exposure", totals.get("net"), "percent", note="excluding cash"),
        Kpi("Largest position", exposures.get("largest_position"), "percent"),
        Kpi("Top 10 weight", concentration.get("top_n_weight"), "percent"),
    ]
    section.tables.append(
        Table(
            name=f"exposure_by_{by}",
            title=f"Exposure by {label.lower()}",
            columns=[
                Column(by, label),
                Column("long", "Long", "percent"),
                Column("short", "Short", "percent"),
                Column("gross", "Gross", "percent"),
                Column("net", "Net", "percent"),
            ],
            rows=[
                [row["label"], row["long"], row["short"], row["gross"], row["net"]] for row in rows
            ],
            chart=SheetChart(
                kind="bar", title=f"Net exposure by {label.lower()}", x=by, series=("net",)
            ),
        )
    )
    section.figures.append(
        Figure(
            name=f"exposure_by_{by}",
            title=f"Long and short exposure by {label.lower()}",
            figure=exposure_figure(stored, by=by, label=label),
            description=f"Long and short exposure per {label.lower()} as fractions of net assets.",
        )
    )
    as_of = item.snapshot.snapshot.as_of if item.snapshot.snapshot else None
    base = (result.get("data") or {}).get("base_currency") or item.portfolio.base_currency
    section.notes.append(
        f"Holdings on {as_of}, in fractions of net assets ({base}, cash included); short "
        "positions are negative. Gross is long minus short, net long plus short."
    )
    if item.period.end is not None and as_of is not None and item.period.end < as_of:
        section.notes.append(
            f"Exposures are as of {as_of}, the latest data, not the period's end {item.period.end}."
        )
    if exposures.get("unvalued_holdings"):
        section.notes.append(
            f"{exposures['unvalued_holdings']} holding(s) without a base-currency value "
            "are left out."
        )
    if item.snapshot.stale:
        section.notes.append(
            "The analytics shown are from an earlier snapshot: newer data is being processed."
        )
    return section


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Long, short, gross and net exposure by an instrument attribute, with "
    "totals and concentration, as a table and a chart.",
    build=build,
    options=(
        Option(
            name="by",
            label="Group by",
            default=DEFAULT_BY,
            choices=tuple(DIMENSION_LABELS.items()),
        ),
    ),
    per_portfolio=True,
)
