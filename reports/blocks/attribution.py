"""Attribution: Brinson-Fachler attribution by a grouping (sector, country or asset
class), linked over the months of the report period with Carino, and the factor
regression of the portfolio's monthly returns.

* Brinson: holdings-based, monthly, each month from the last valuation of the
  previous month to the last of this one; only whole months inside the report
  period count. The linked effects add up to the compounded holdings-based
  portfolio return minus the benchmark's; the difference between that and the
  time-weighted return is the trading effect (see
  :mod:`analytics.services.snapshots.attribution` and
  :func:`analytics.services.period_analysis.period_attribution`).
* Factors: the snapshot's regression of monthly excess returns on the
  Fama-French factors over its whole history (the window is stated).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.presentation.figures import attribution_effects_figure
from analytics.presentation.tables import (
    DIMENSION_LABELS,
    WINDOW_LABELS,
    factor_rows,
    labelled_rows,
    unavailable_reason,
)
from analytics.services.period_analysis import period_attribution, period_slice
from reports.blocks._snapshot import (
    conventions,
    iso_date,
    missing,
    portfolio_section,
    section_reason,
    snapshot_result,
)
from reports.blocks.base import Block, BlockContext, Option, PortfolioInput
from reports.document import Column, Figure, Section, SheetChart, Table

KIND = "attribution"
TITLE = "Attribution"
GROUPINGS = ("sector", "country", "asset_class")
DEFAULT_BY = "sector"
EFFECT_COLUMNS = (
    ("allocation", "Allocation"),
    ("selection", "Selection"),
    ("interaction", "Interaction"),
)


def build(context: BlockContext) -> list[Section]:
    by = str(context.options.get("by", DEFAULT_BY))
    return [_portfolio(context, item, by) for item in context.portfolios]


def _portfolio(context: BlockContext, item: PortfolioInput, by: str) -> Section:
    section = portfolio_section(KIND, TITLE, item)
    result = snapshot_result(item)
    brinson_reason = section_reason(result, "attribution")
    factor_reason = section_reason(result, "factors")
    if result is None or (brinson_reason is not None and factor_reason is not None):
        return missing(section, brinson_reason or factor_reason or "")
    brinson: Mapping[str, Any] = {}
    if brinson_reason is None:
        # Holdings-based attribution is against the portfolio's own benchmark weights.
        period = period_slice(result, start=item.period.start, end=item.period.end)
        brinson = period_attribution(result["attribution"], period, by=by)
        brinson_reason = unavailable_reason(brinson)
    if brinson_reason is None:
        _brinson(section, result["attribution"], brinson, by)
    else:
        section.notes.append(f"Brinson attribution: {brinson_reason}")
    if factor_reason is None:
        _factors(section, result["factors"])
    else:
        section.notes.append(f"Factor attribution: {factor_reason}")
    if not section.tables:
        return missing(section, brinson_reason or factor_reason or "")
    section.notes.extend(conventions(context, item, result, ratios=False))
    return section


def _brinson(
    section: Section, stored: Mapping[str, Any], linked: Mapping[str, Any], by: str
) -> None:
    label = DIMENSION_LABELS[by]
    totals = linked.get("totals") or {}
    window = (
        f"{linked['months']} months to {linked['end']}, from the month ending {linked['start']}"
    )
    section.tables.append(
        Table(
            name="brinson_summary",
            title=f"Brinson-Fachler attribution by {label.lower()} ({window})",
            columns=[Column("item", "Item"), Column("value", "Value", "percent")],
            rows=[
                ["Portfolio return (holdings-based)", linked.get("portfolio_return")],
                ["Benchmark return", linked.get("benchmark_return")],
                ["Active return", linked.get("active_return")],
                *([name, totals.get(key)] for key, name in EFFECT_COLUMNS),
                ["Portfolio return (time-weighted)", linked.get("portfolio_time_weighted_return")],
                [
                    "Trading effect (time-weighted minus holdings-based)",
                    linked.get("trading_effect"),
                ],
            ],
            note="Allocation, selection and interaction add up to the active return.",
        )
    )
    groups = labelled_rows(linked.get("groups") or [], by)
    if groups:
        section.tables.append(
            Table(
                name="brinson_groups",
                title=f"Linked effects by {label.lower()}",
                columns=[
                    Column("group", label),
                    *(Column(key, name, "percent") for key, name in EFFECT_COLUMNS),
                    Column("total", "Total", "percent"),
                ],
                rows=[
                    [row["label"], *(row.get(key) for key, _ in EFFECT_COLUMNS), row.get("total")]
                    for row in groups
                ],
            )
        )
    else:
        stored_windows = ", ".join(
            WINDOW_LABELS.get(name, name).lower()
            for name in (stored.get("groupings") or {}).get(by, {})
        )
        section.notes.append(
            f"Effects by {label.lower()} are stored for whole windows ({stored_windows}); for this "
            "period the monthly totals are linked with Carino."
        )
    monthly = linked.get("monthly") or []
    section.tables.append(
        Table(
            name="brinson_monthly",
            title="Monthly effects",
            columns=[
                Column("month", "Month end", "date"),
                Column("portfolio_return", "Portfolio", "percent"),
                Column("benchmark_return", "Benchmark", "percent"),
                Column("active_return", "Active", "percent"),
                *(Column(key, name, "percent") for key, name in EFFECT_COLUMNS),
            ],
            rows=[
                [
                    iso_date(row["period"]),
                    row.get("portfolio_return"),
                    row.get("benchmark_return"),
                    row.get("active_return"),
                    *(row.get(key) for key, _ in EFFECT_COLUMNS),
                ]
                for row in monthly
            ],
            chart=SheetChart(
                kind="column",
                title="Monthly effects",
                x="month",
                series=tuple(key for key, _ in EFFECT_COLUMNS),
            ),
        )
    )
    section.figures.append(
        Figure(
            name="brinson_effects",
            title="Monthly allocation, selection and interaction",
            figure=attribution_effects_figure(monthly),
            description="Monthly Brinson-Fachler effects, stacked, with each month's "
            "active return.",
        )
    )
    section.notes.append(
        f"{stored.get('method', 'Brinson-Fachler, linked with Carino')}; benchmark "
        f"{stored.get('benchmark')}. Only whole months inside the report period are linked."
    )


def _factors(section: Section, factors: Mapping[str, Any]) -> None:
    section.tables.append(
        Table(
            name="factor_attribution",
            title=f"Factor regression, monthly, {factors.get('start')} to {factors.get('end')}",
            columns=[
                Column("factor", "Factor"),
                Column("coefficient", "Coefficient", "number", decimals=4),
                Column("standard_error", "Standard error", "number", decimals=4),
                Column("t_stat", "t-statistic", "number", decimals=2),
                Column("contribution", "Contribution (sum of months)", "percent"),
            ],
            rows=[
                [
                    row["label"],
                    row["coefficient"],
                    row["standard_error"],
                    row["t_stat"],
                    row["contribution"],
                ]
                for row in factor_rows(factors)
            ],
        )
    )
    r_squared = _number(factors.get("r_squared"))
    adjusted = _number(factors.get("adjusted_r_squared"))
    section.notes.append(
        f"Factor regression of monthly excess returns (over RF) on {factors.get('observations')} "
        f"months, {factors.get('covariance', 'OLS')} standard errors: R² {r_squared}, "
        f"adjusted R² {adjusted}; "
        "alpha is monthly. It covers the snapshot's whole history, not only the report period."
    )


def _number(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Brinson-Fachler attribution linked over the report period (Carino) by sector, "
    "country or asset class, and the Fama-French factor regression.",
    build=build,
    options=(
        Option(
            name="by",
            label="Group by",
            default=DEFAULT_BY,
            choices=tuple((key, DIMENSION_LABELS[key]) for key in GROUPINGS),
        ),
    ),
    per_portfolio=True,
)
