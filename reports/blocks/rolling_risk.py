"""Rolling risk: annualised volatility, Sharpe ratio and beta over trailing windows
(63 and 252 valuation days) on the dates of the report period, as a chart and a
table with a native line chart in the workbook.

Each value is the snapshot's stored rolling figure on that date, its trailing
window possibly reaching back before the period
(:func:`analytics.services.period_analysis.period_rolling`).
"""

from __future__ import annotations

from analytics.presentation.figures import ROLLING_PANELS, rolling_figure
from analytics.services.period_analysis import period_rolling
from reports.blocks._snapshot import (
    conventions,
    iso_date,
    period_data,
    period_note,
)
from reports.blocks.base import Block, BlockContext, PortfolioInput
from reports.document import Column, Figure, Format, Section, SheetChart, Table

KIND = "rolling_risk"
TITLE = "Rolling risk"
FORMATS: dict[str, Format] = {"volatility": "percent", "sharpe": "ratio", "beta": "ratio"}


def build(context: BlockContext) -> list[Section]:
    return [_portfolio(context, item) for item in context.portfolios]


def _portfolio(context: BlockContext, item: PortfolioInput) -> Section:
    found = period_data(
        context, item, kind=KIND, title=TITLE, stored="rolling", compute=period_rolling
    )
    if isinstance(found, Section):
        return found
    section, result, period, rolling = found.section, found.result, found.period, found.data
    windows = sorted(rolling["windows"].items(), key=lambda entry: int(entry[0]))
    columns = [Column("date", "Date", "date")]
    values = []
    for name, label, _ in ROLLING_PANELS:
        for window, ratios in windows:
            if name in ratios:
                columns.append(Column(f"{name}_{window}", f"{label}, {window} days", FORMATS[name]))
                values.append(ratios[name])
    rows = [
        [iso_date(day), *(series[index] for series in values)]
        for index, day in enumerate(rolling["dates"])
    ]
    volatility = tuple(column.key for column in columns if column.key.startswith("volatility_"))
    section.tables.append(
        Table(
            name="rolling_risk",
            title="Rolling volatility, Sharpe ratio and beta",
            columns=columns,
            rows=rows,
            chart=SheetChart(
                kind="line", title="Rolling volatility (annualised)", x="date", series=volatility
            ),
            printed=False,
        )
    )
    section.figures.append(
        Figure(
            name="rolling_risk",
            title="Rolling volatility, Sharpe ratio and beta",
            figure=rolling_figure(rolling),
            description="Annualised volatility, Sharpe ratio and beta against the benchmark "
            "over trailing windows of valuation days.",
        )
    )
    section.notes.append(period_note(item, period))
    section.notes.append(
        "Each value covers the trailing window of valuation days ending on its date, which may "
        "begin before the report period; a date with less history than the window is empty. "
        "Beta is against the portfolio's benchmark."
    )
    section.notes.extend(conventions(context, item, result, period=period))
    return section


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Rolling annualised volatility, Sharpe ratio and beta (63 and 252 valuation "
    "days) over the report period.",
    build=build,
    per_portfolio=True,
)
