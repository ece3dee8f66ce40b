"""Drawdowns within the report period: the underwater chart and the worst
drawdown episodes.

Drawdowns are negative fractions of the running peak of wealth, the peak starting
at the value before the period's first return (so a fall on its first day is
already a drawdown). An episode runs from its peak through its trough to its
recovery, the first date back at or above the peak; its length is counted in
valuation days (peak to recovery, or to the period's end when not recovered) and
in calendar days. The stored episodes are used when the period is the whole
history; otherwise they are found in the period's returns
(:func:`analytics.services.period_analysis.period_drawdowns`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from analytics.presentation.figures import underwater_figure
from analytics.services.period_analysis import PeriodSlice, period_drawdowns
from reports.blocks._snapshot import (
    conventions,
    iso_date,
    period_data,
    period_note,
)
from reports.blocks.base import Block, BlockContext, PortfolioInput
from reports.document import Column, Figure, Kpi, Section, SheetChart, Table

KIND = "drawdowns"
TITLE = "Drawdowns"


def build(context: BlockContext) -> list[Section]:
    return [_portfolio(context, item) for item in context.portfolios]


def _portfolio(context: BlockContext, item: PortfolioInput) -> Section:
    found = period_data(
        context, item, kind=KIND, title=TITLE, stored="drawdowns", compute=period_drawdowns
    )
    if isinstance(found, Section):
        return found
    section, result, period, drawdowns = found.section, found.result, found.period, found.data
    section.kpis = [
        Kpi("Maximum drawdown", drawdowns.get("max_drawdown"), "percent"),
        Kpi("Current drawdown", drawdowns.get("current_drawdown"), "percent"),
        Kpi(
            "Longest drawdown",
            _count(drawdowns.get("max_drawdown_duration")),
            "integer",
            note="valuation days",
        ),
    ]
    section.tables.append(_episodes_table(drawdowns, period, _opening_valuation(result, period)))
    underwater = drawdowns["underwater"]
    section.tables.append(
        Table(
            name="underwater",
            title="Drawdown from the running peak",
            columns=[Column("date", "Date", "date"), Column("drawdown", "Drawdown", "percent")],
            rows=[
                [iso_date(day), value]
                for day, value in zip(underwater["dates"], underwater["values"], strict=True)
            ],
            chart=SheetChart(kind="area", title="Drawdown", x="date", series=("drawdown",)),
            printed=False,
        )
    )
    section.figures.append(
        Figure(
            name="underwater",
            title="Underwater chart",
            figure=underwater_figure(underwater),
            description="Drawdown of the portfolio from its running peak at each date.",
        )
    )
    section.notes.append(period_note(item, period))
    section.notes.append(
        "Drawdowns are measured from the running peak of wealth since the start of the period; "
        "lengths are from the peak to the recovery (or to the period's end when not recovered)."
    )
    section.notes.extend(conventions(context, item, result, period=period, ratios=False))
    return section


def _opening_valuation(result: Mapping[str, Any], period: PeriodSlice) -> dt.date | None:
    """The valuation date before the period's first return: the peak of a drawdown
    that starts on the first return."""
    if period.first is None:
        return None
    net_assets = ((result.get("series") or {}).get("net_assets") or {}).get("dates") or []
    before = [day for day in net_assets if day < period.first]
    return iso_date(before[-1]) if before else None


def _episodes_table(
    drawdowns: Mapping[str, Any], period: PeriodSlice, opening: dt.date | None
) -> Table:
    last = iso_date(period.last)
    rows = []
    for rank, episode in enumerate(drawdowns.get("episodes") or [], start=1):
        peak = iso_date(episode.get("peak_date")) or opening
        recovery = iso_date(episode.get("recovery_date"))
        end = recovery or last
        calendar_days = (end - peak).days if end is not None and peak is not None else None
        rows.append(
            [
                rank,
                peak,
                iso_date(episode.get("trough_date")),
                recovery,
                episode.get("depth"),
                episode.get("length"),
                calendar_days,
                episode.get("time_to_recover"),
            ]
        )
    return Table(
        name="worst_drawdowns",
        title="Worst drawdowns",
        columns=[
            Column("rank", "Rank", "integer"),
            Column("peak", "Start (peak)", "date"),
            Column("trough", "Trough", "date"),
            Column("recovery", "Recovery", "date"),
            Column("depth", "Depth", "percent"),
            Column("length", "Length (valuation days)", "days"),
            Column("calendar_days", "Length (calendar days)", "days"),
            Column("time_to_recover", "Trough to recovery (valuation days)", "days"),
        ],
        rows=rows,
        note="A drawdown not yet recovered has no recovery date; its length runs to the "
        "period's last return. A drawdown starting on the period's first return has its peak "
        "on the valuation before it.",
    )


def _count(value: Any) -> int | None:
    """A stored count (a JSON number that may be a float) as an integer."""
    return None if value is None else int(value)


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Underwater chart and the worst drawdowns (start, trough, recovery, depth, "
    "length) within the report period.",
    build=build,
    per_portfolio=True,
)
