"""Performance summary: period returns (GIPS annualisation), headline figures and
the metrics of the report period, for each portfolio beside its benchmark.

* Period returns: day, month/quarter/year to date, 1 year, 3 and 5 years
  annualised and since inception, ending on the last return of the report period
  (the snapshot's ``period_returns`` when that is its as-of date).
* Headline figures and metrics: over the report period's returns
  (:func:`analytics.services.period_analysis.period_metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.presentation.tables import metric_groups, period_table, unavailable_reason
from analytics.services.period_analysis import period_metrics, period_returns_to_end
from analytics.services.snapshots import CONFIDENCE
from analytics.services.snapshots.performance import RELATIVE_METRICS
from reports.blocks._snapshot import (
    conventions,
    missing,
    period_note,
    portfolio_section,
    section_reason,
    sliced,
    snapshot_result,
)
from reports.blocks.base import Block, BlockContext, PortfolioInput
from reports.document import Column, Format, Kpi, Section, Table

KIND = "performance_summary"
TITLE = "Performance summary"

KPIS: tuple[tuple[str, str, Format], ...] = (
    ("cumulative_return", "Return over the period", "percent"),
    ("annual_volatility", "Volatility (annualised)", "percent"),
    ("sharpe", "Sharpe ratio", "ratio"),
    ("max_drawdown", "Maximum drawdown", "percent"),
)

# (table name, title, the kinds of metric it holds, the format of its values)
METRIC_TABLES: tuple[tuple[str, str, tuple[str, ...], Format], ...] = (
    ("metrics_returns_and_risk", "Returns and risk", ("percent",), "percent"),
    ("metrics_ratios", "Ratios and statistics", ("ratio",), "ratio"),
    ("metrics_sample", "Sample", ("days", "count"), "integer"),
)


def build(context: BlockContext) -> list[Section]:
    return [_portfolio(context, item) for item in context.portfolios]


def _portfolio(context: BlockContext, item: PortfolioInput) -> Section:
    section = portfolio_section(KIND, TITLE, item)
    result = snapshot_result(item)
    reason = section_reason(result, "period_returns")
    if result is None or reason is not None:
        return missing(section, reason or "")
    period = sliced(context, item, result)
    returns = period_returns_to_end(result, period)
    if unavailable_reason(returns) is None and "portfolio" in returns:
        section.tables.append(_period_returns_table(returns))
        section.notes.append(
            "1 year and shorter periods are cumulative; 3 and 5 years are annualised. "
            "Since inception is annualised only for a history of at least one year (GIPS), "
            "otherwise cumulative, as its row says. Active: portfolio minus "
            "benchmark (arithmetic); geometric: (1 + portfolio) / (1 + benchmark) − 1."
        )
        if period.last is not None and not period.reaches_as_of:
            section.notes.append(f"Period returns end on {period.last}, the period's last return.")
    elif returns.get("available") is False:
        section.notes.append(f"Period returns: {returns.get('reason')}")
    metrics = period_metrics(result, period)
    if metrics.get("available") is False:
        section.notes.append(f"Metrics of the report period: {metrics.get('reason')}")
        if not section.tables:
            return missing(section, str(metrics.get("reason")))
    else:
        portfolio = metrics.get("portfolio") or {}
        section.kpis = [
            Kpi(label=label, value=portfolio.get(key), format=fmt) for key, label, fmt in KPIS
        ]
        section.tables.extend(_metric_tables(metrics))
        section.notes.extend(metrics.get("notes") or [])
        section.notes.append(period_note(item, period))
    section.notes.extend(conventions(context, item, result, period=period))
    return section


def _period_returns_table(section: Mapping[str, Any]) -> Table:
    """Periods down, series across. The since-inception row says whether it is
    annualised (GIPS: only for a history of a year or more); a series whose basis
    differs from the portfolio's says so in its heading."""
    columns, rows = period_table(section)
    first = columns[0]
    headings = [
        f"{column['label']} (since inception {_basis(column)})"
        if column["basis_differs"] and not column["active"]
        else column["label"]
        for column in columns
    ]
    labels = {"since_inception": f"Since inception, {_basis(first)}"}
    return Table(
        name="period_returns",
        title="Period returns",
        columns=[
            Column("period", "Period"),
            *(
                Column(column["key"], heading, "percent")
                for column, heading in zip(columns, headings, strict=True)
            ),
        ],
        rows=[
            [labels.get(row["key"], row["label"]), *(cell["value"] for cell in row["cells"])]
            for row in rows
        ],
    )


def _basis(column: Mapping[str, Any]) -> str:
    years = column.get("years")
    if column.get("annualised"):
        return "annualised" + (f", {years:.1f} years" if years is not None else "")
    return "cumulative, under a year"


def _metric_tables(metrics: Mapping[str, Any]) -> list[Table]:
    """The period's metrics, portfolio beside benchmark: fractions in one table,
    ratios in another (a column has one format)."""
    groups = metric_groups(metrics, metrics, confidence=CONFIDENCE)
    tables = []
    for name, title, kinds, fmt in METRIC_TABLES:
        rows = [
            [
                group["label"],
                row["label"],
                _value(row["portfolio"], fmt),
                # The benchmark against itself (beta 1, tracking error 0) says nothing.
                None if row["key"] in RELATIVE_METRICS else _value(row["benchmark"], fmt),
            ]
            for group in groups
            for row in group["rows"]
            if row["kind"] in kinds
        ]
        tables.append(
            Table(
                name=name,
                title=f"{title}, {metrics.get('start')} to {metrics.get('end')}",
                columns=[
                    Column("group", "Group"),
                    Column("metric", "Metric"),
                    Column("portfolio", "Portfolio", fmt),
                    Column("benchmark", "Benchmark", fmt),
                ],
                rows=rows,
            )
        )
    return tables


def _value(value: Any, fmt: Format) -> Any:
    """Counts are stored as JSON numbers that may be floats; show them as integers."""
    return int(value) if fmt == "integer" and value is not None else value


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description=(
        "Period returns (day to since inception, GIPS annualisation) beside the benchmark, "
        "headline return, volatility, Sharpe and drawdown, and every metric of the period."
    ),
    build=build,
    per_portfolio=True,
)
