"""Cumulative return against the benchmark over the report period: a chart and the
series as a table (with a native line chart in the workbook).

Both lines start at zero at the start of the period and link the daily returns
dated in it (:func:`analytics.services.period_analysis.period_cumulative`); the
benchmark is linked over the portfolio's valuation intervals, so the two are
measured over the same days.
"""

from __future__ import annotations

from analytics.presentation.figures import cumulative_return_figure
from analytics.services.period_analysis import period_cumulative
from reports.blocks._snapshot import (
    conventions,
    iso_date,
    period_data,
    period_note,
)
from reports.blocks.base import Block, BlockContext, PortfolioInput
from reports.document import Column, Figure, Kpi, Section, SheetChart, Table

KIND = "cumulative_return"
TITLE = "Cumulative return"


def build(context: BlockContext) -> list[Section]:
    return [_portfolio(context, item) for item in context.portfolios]


def _portfolio(context: BlockContext, item: PortfolioInput) -> Section:
    found = period_data(
        context,
        item,
        kind=KIND,
        title=TITLE,
        stored="series",
        compute=lambda result, period: period_cumulative(period),
    )
    if isinstance(found, Section):
        return found
    section, result, period, series = found.section, found.result, found.period, found.data
    benchmark_code = period.benchmark_code
    portfolio = series["cumulative"]
    benchmark = series.get("benchmark_cumulative")
    section.kpis.append(Kpi("Portfolio", portfolio["values"][-1], "percent"))
    columns = [Column("date", "Date", "date"), Column("portfolio", "Portfolio", "percent")]
    if benchmark is not None:
        section.kpis.append(
            Kpi(f"Benchmark ({benchmark_code})", benchmark["values"][-1], "percent")
        )
        columns.append(Column("benchmark", f"Benchmark ({benchmark_code})", "percent"))
        rows = [
            [iso_date(day), value, bench]
            for day, value, bench in zip(
                portfolio["dates"], portfolio["values"], benchmark["values"], strict=True
            )
        ]
    else:
        rows = [
            [iso_date(day), value]
            for day, value in zip(portfolio["dates"], portfolio["values"], strict=True)
        ]
        section.notes.append("The portfolio has no benchmark return series.")
    section.tables.append(
        Table(
            name="cumulative_return",
            title="Cumulative return",
            columns=columns,
            rows=rows,
            chart=SheetChart(
                kind="line",
                title="Cumulative return",
                x="date",
                series=tuple(column.key for column in columns[1:]),
            ),
            printed=False,
        )
    )
    section.figures.append(
        Figure(
            name="cumulative_return",
            title="Cumulative return against the benchmark",
            figure=cumulative_return_figure(series, benchmark=benchmark_code),
            description="Cumulative time-weighted return of the portfolio and its benchmark "
            "from the start of the report period.",
        )
    )
    section.notes.append(period_note(item, period))
    section.notes.append(
        "Both lines start at zero before the period's first return. A benchmark value is "
        "empty on a date its series does not cover."
    )
    section.notes.extend(conventions(context, item, result, period=period, ratios=False))
    return section


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Cumulative return of the portfolio against its benchmark over the "
    "report period: chart and series.",
    build=build,
    per_portfolio=True,
)
