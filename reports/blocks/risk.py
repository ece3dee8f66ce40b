"""Risk: volatility and benchmark-relative risk over the report period, VaR and
CVaR by method, confidence and horizon, and the VaR backtest (exceptions, Kupiec's
test and the Basel traffic-light zone).

* Volatility, beta, tracking error and information ratio are the report period's
  (:func:`analytics.services.period_analysis.period_metrics`).
* VaR and CVaR are the snapshot's: positive loss fractions of net assets estimated
  from its last daily returns up to its as-of date (the window is stated), 10-day
  figures scaled from one day (see :mod:`analytics.services.snapshots.risk`).
* The backtest compares each day's 1-day historical VaR from the trailing window
  with the next day's return over the snapshot's last tested days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.presentation.figures import var_backtest_figure
from analytics.presentation.tables import unavailable_reason, var_rows
from analytics.services.period_analysis import period_metrics
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
from reports.document import Column, Figure, Format, Kpi, Section, Table

KIND = "risk"
TITLE = "Risk"
PERIOD_RISK: tuple[tuple[str, str, Format], ...] = (
    ("annual_volatility", "Volatility (annualised)", "percent"),
    ("downside_deviation", "Downside deviation (annualised)", "percent"),
    ("max_drawdown", "Maximum drawdown", "percent"),
    ("beta", "Beta", "ratio"),
    ("tracking_error", "Tracking error (annualised)", "percent"),
    ("information_ratio", "Information ratio", "ratio"),
)
ZONES = {"green": "Green", "yellow": "Yellow", "red": "Red"}


def build(context: BlockContext) -> list[Section]:
    return [_portfolio(context, item) for item in context.portfolios]


def _portfolio(context: BlockContext, item: PortfolioInput) -> Section:
    section = portfolio_section(KIND, TITLE, item)
    result = snapshot_result(item)
    if result is None:
        return missing(section, section_reason(result, "var") or "")
    period = sliced(context, item, result)
    metrics = period_metrics(result, period)
    var = result.get("var")
    var_reason = section_reason(result, "var")
    metrics_reason = unavailable_reason(metrics)
    if var_reason is not None and metrics_reason is not None:
        return missing(section, var_reason)
    if metrics_reason is None:
        portfolio = metrics.get("portfolio") or {}
        section.kpis = [
            Kpi(label, portfolio.get(key), fmt)
            for key, label, fmt in PERIOD_RISK
            if key in ("annual_volatility", "beta", "tracking_error", "information_ratio")
        ]
        section.tables.append(_period_table(metrics))
        section.notes.extend(metrics.get("notes") or [])
        section.notes.append(period_note(item, period))
    else:
        section.notes.append(f"Risk over the report period: {metrics_reason}")
    if var_reason is None and var is not None:
        section.tables.append(_var_table(var))
        backtest = var.get("backtest")
        if backtest:
            section.tables.append(_backtest_table(backtest))
            section.figures.append(
                Figure(
                    name="var_backtest",
                    title="VaR backtest",
                    figure=var_backtest_figure(backtest),
                    description="Each day's return against the previous day's 1-day VaR forecast; "
                    "exceptions marked.",
                )
            )
        else:
            section.notes.append(
                "VaR backtest: not enough history (it needs more daily returns than its "
                "estimation window)."
            )
    else:
        section.notes.append(f"Value at risk: {var_reason}")
    as_of = item.snapshot.snapshot.as_of if item.snapshot.snapshot else None
    if var_reason is None and item.period.end and as_of and item.period.end < as_of:
        section.notes.append(
            f"VaR, CVaR and the backtest are estimated on the data up to {as_of}, not the "
            f"period's end {item.period.end}."
        )
    section.notes.extend(conventions(context, item, result, period=period))
    return section


def _period_table(metrics: Mapping[str, Any]) -> Table:
    portfolio = metrics.get("portfolio") or {}
    benchmark = metrics.get("benchmark") or {}
    fractions = [entry for entry in PERIOD_RISK if entry[2] == "percent"]
    return Table(
        name="period_risk",
        title=f"Risk over the report period, {metrics.get('start')} to {metrics.get('end')}",
        columns=[
            Column("metric", "Metric"),
            Column("portfolio", "Portfolio", "percent"),
            Column("benchmark", "Benchmark", "percent"),
        ],
        # The benchmark against itself (tracking error 0) says nothing.
        rows=[
            [label, portfolio.get(key), None if key in RELATIVE_METRICS else benchmark.get(key)]
            for key, label, _ in fractions
        ],
    )


def _var_table(var: Mapping[str, Any]) -> Table:
    window = f"{var.get('observations')} daily returns, {var.get('start')} to {var.get('end')}"
    return Table(
        name="value_at_risk",
        title=f"Value at risk and expected shortfall ({window})",
        columns=[
            Column("method", "Method"),
            Column("confidence", "Confidence", "percent", decimals=0),
            Column("horizon", "Horizon (days)", "integer"),
            Column("var", "VaR", "percent"),
            Column("cvar", "CVaR", "percent"),
            Column("scaling", "Horizon scaling"),
        ],
        rows=[
            [
                row["method_label"],
                row["confidence"],
                row["horizon"],
                row["var"],
                row.get("cvar"),
                row.get("scaling", ""),
            ]
            for row in var_rows(var.get("rows") or [])
        ],
        note=f"VaR and CVaR are losses as fractions of net assets, estimated from {window}. "
        "Cornish-Fisher gives no CVaR.",
    )


def _backtest_table(backtest: Mapping[str, Any]) -> Table:
    result = backtest["result"]
    kupiec = result.get("kupiec") or {}
    verdict = "rejects the model" if kupiec.get("reject") else "does not reject the model"
    dates = backtest.get("dates") or []
    tested = f"{dates[0]} to {dates[-1]}" if dates else "no dates"
    return Table(
        name="var_backtest",
        title=f"VaR backtest, 1-day historical VaR at {result['confidence']:.0%} ({tested})",
        columns=[
            Column("observations", "Days tested", "integer"),
            Column("exceptions", "Exceptions", "integer"),
            Column("expected_exceptions", "Expected exceptions", "number", decimals=1),
            Column("exception_rate", "Exception rate", "percent"),
            Column("kupiec_statistic", "Kupiec LR statistic", "number", decimals=3),
            Column("kupiec_p_value", "Kupiec p-value", "number", decimals=3),
            Column("kupiec_result", f"Kupiec at {kupiec.get('level', 0.05):.0%}"),
            Column("zone", "Basel zone"),
        ],
        rows=[
            [
                result.get("observations"),
                result.get("exceptions"),
                result.get("expected_exceptions"),
                result.get("exception_rate"),
                kupiec.get("statistic"),
                kupiec.get("p_value"),
                verdict,
                ZONES.get(result.get("zone", ""), result.get("zone")),
            ]
        ],
        note=f"Forecasts re-estimated each day from the trailing {backtest.get('window')} returns. "
        "An exception is a loss larger than the previous day's forecast. Basel traffic light "
        "(BCBS 1996): green below 95 % cumulative binomial probability, red from 99.99 %.",
    )


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Volatility, beta, tracking error and information ratio over the period; "
    "VaR and CVaR by method; VaR backtest with Kupiec's test and the Basel zone.",
    build=build,
    per_portfolio=True,
)
