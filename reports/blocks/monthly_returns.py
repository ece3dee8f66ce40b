"""Monthly returns: the calendar table (years × months and the year's return) of
the portfolio and its benchmark over the report period, with a heatmap.

Each month links the returns dated in it; a month or year cut by the period's
bounds links only the returns inside the period (the stored ``calendar`` section
when the period is the whole history). A month without a measured return is
empty, never a zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from analytics.presentation.figures import calendar_heatmap_figure
from analytics.presentation.tables import calendar_rows
from analytics.presentation.theme import MONTHS
from analytics.services.period_analysis import period_calendar
from reports.blocks._snapshot import (
    conventions,
    period_data,
    period_note,
)
from reports.blocks.base import Block, BlockContext, PortfolioInput
from reports.document import Column, Figure, Section, SheetChart, Table

KIND = "monthly_returns"
TITLE = "Monthly returns"
MONTH_KEYS = tuple(month.lower() for month in MONTHS)


def build(context: BlockContext) -> list[Section]:
    return [_portfolio(context, item) for item in context.portfolios]


def _portfolio(context: BlockContext, item: PortfolioInput) -> Section:
    found = period_data(
        context, item, kind=KIND, title=TITLE, stored="calendar", compute=period_calendar
    )
    if isinstance(found, Section):
        return found
    section, result, period, calendar = found.section, found.result, found.period, found.data
    benchmark = period.benchmark_code
    for name, label in (("portfolio", "Portfolio"), ("benchmark", f"Benchmark ({benchmark})")):
        if name in calendar:
            section.tables.append(_table(name, label, calendar[name]))
    section.figures.append(
        Figure(
            name="portfolio_heatmap",
            title="Monthly returns of the portfolio",
            figure=calendar_heatmap_figure(calendar["portfolio"]),
            description="Monthly returns, years down and months across, with the year's return; "
            "losses red, gains green.",
        )
    )
    section.notes.append(period_note(item, period))
    section.notes.append(
        "A month links the daily returns dated in it; the year column links the year's returns "
        "(a part year where the period or the history begins or ends)."
    )
    section.notes.extend(conventions(context, item, result, period=period, ratios=False))
    return section


def _table(name: str, label: str, calendar: Mapping[str, Sequence[float | None]]) -> Table:
    rows = calendar_rows({str(year): values for year, values in calendar.items()})
    return Table(
        name=f"{name}_monthly",
        title=f"{label}: monthly returns",
        columns=[
            Column("year", "Year", "text"),
            *(
                Column(key, month, "percent", decimals=1)
                for key, month in zip(MONTH_KEYS, MONTHS, strict=True)
            ),
            Column("year_return", "Year", "percent", decimals=1),
        ],
        rows=[[str(row["year"]), *row["months"], row["year_return"]] for row in rows],
        chart=SheetChart(
            kind="column",
            title=f"{label}: calendar-year returns",
            x="year",
            series=("year_return",),
        ),
    )


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Monthly and calendar-year returns of the portfolio and its benchmark "
    "over the report period, as a table and a heatmap.",
    build=build,
    per_portfolio=True,
)
