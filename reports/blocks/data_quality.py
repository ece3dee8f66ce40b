"""Data quality: how complete and how fresh each portfolio's data is at the end
of the report period, and the findings still open.

Read through ``analytics.selectors.ingest.portfolio_data_quality``: the data
status of the latest scanned date on or before the period's end (its as-of;
"data as of", the date up to which every holding has a price; and completeness,
the share of holdings with that day's close converted into the base currency),
the open findings by severity and the most severe and most recent of them, and
the latest incomplete days.
"""

from __future__ import annotations

from analytics.models import FindingKind, Severity
from analytics.selectors.ingest import SHOWN_FINDINGS, portfolio_data_quality
from reports.blocks.base import Block, BlockContext, PortfolioInput, section_key
from reports.document import Column, Kpi, Section, Table

KIND = "data_quality"
TITLE = "Data quality"
KIND_LABELS = dict(FindingKind.choices)
SEVERITY_LABELS = dict(Severity.choices)


def build(context: BlockContext) -> list[Section]:
    return [_portfolio(item) for item in context.portfolios]


def _portfolio(item: PortfolioInput) -> Section:
    portfolio = item.portfolio
    section = Section(
        key=section_key(KIND, portfolio),
        block=KIND,
        title=f"{TITLE} — {portfolio.name}",
        portfolio=portfolio.code,
    )
    summary = portfolio_data_quality(portfolio=portfolio, as_of=item.period.end)
    if summary.as_of is None:
        section.unavailable = (
            "The data of this portfolio has not been checked yet (no data status on or "
            "before the end of the period)."
        )
        return section
    counts = summary.findings_by_severity
    section.kpis = [
        Kpi("As of", summary.as_of, "date"),
        Kpi("Data as of", summary.data_as_of, "date", note="every holding priced up to"),
        Kpi("Completeness", summary.completeness, "percent"),
        Kpi("Open findings", summary.findings_total, "integer"),
    ]
    section.tables.append(
        Table(
            name="findings_by_severity",
            title="Open findings by severity",
            columns=[Column("severity", "Severity"), Column("findings", "Findings", "integer")],
            rows=[(SEVERITY_LABELS[s], counts.get(s, 0)) for s in reversed(Severity.values)],
        )
    )
    section.tables.append(
        Table(
            name="open_findings",
            title="Open findings",
            columns=[
                Column("severity", "Severity"),
                Column("kind", "Finding"),
                Column("date", "Date", "date"),
                Column("instrument", "Instrument"),
                Column("message", "Detail"),
            ],
            rows=[
                (
                    SEVERITY_LABELS.get(f.severity, f.severity),
                    KIND_LABELS.get(f.kind, f.kind),
                    f.date,
                    f.instrument.identifier if f.instrument else "",
                    f.message,
                )
                for f in summary.findings
            ],
            note=(
                f"The {SHOWN_FINDINGS} most severe and most recent of {summary.findings_total}."
                if summary.findings_total > len(summary.findings)
                else ""
            ),
        )
    )
    if summary.incomplete_days:
        section.tables.append(
            Table(
                name="incomplete_days",
                title="Latest incomplete days",
                columns=[
                    Column("date", "Date", "date"),
                    Column("holdings", "Holdings", "integer"),
                    Column("valued", "Valued", "integer"),
                    Column("completeness", "Completeness", "percent"),
                ],
                rows=[
                    (day.date, day.holdings, day.valued, day.completeness)
                    for day in summary.incomplete_days
                ],
            )
        )
    section.notes.append(
        "Completeness is the share of holdings with that day's close converted into the base "
        "currency (a price and, for a foreign holding, an FX rate); data as of is the date "
        "up to which every holding has a price."
    )
    if summary.is_late:
        section.notes.append(
            f"Late data: some holdings are priced only up to {summary.data_as_of}, before the "
            f"as-of date {summary.as_of}."
        )
    return section


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Data as of, completeness, open findings and incomplete days of each portfolio.",
    build=build,
)
