"""Compliance: each portfolio's open alerts, the utilisation of every rule that
applies to it, and the results of the regulatory templates (UCITS 5/10/40, the
1940 Act's 75-5-10 and SEC Rule 18f-4's VaR tests, the last in a section of its
own).

Everything is read through ``compliance.selectors`` with the run's user: the
alerts still needing attention (open, acknowledged or snoozed), and each rule's
latest result (the last evaluation of the latest evaluated date,
``headroom_list_for_user``). Utilisation is value ÷ limit (limit ÷ value for a
minimum; 1 is the limit, larger is worse); headroom is ``1 − utilisation``, the
share of the limit still free. Counts (holdings, VaR backtest exceptions) are
shown as counts; every other value is a fraction (of net assets, of the reference
portfolio's VaR, or asset coverage of borrowings) shown in per cent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from compliance.engine.kinds import RuleKind
from compliance.models import Alert, AlertState, ResultStatus, Severity
from compliance.selectors import (
    AlertFilters,
    HeadroomRow,
    alert_list_for_user,
    headroom_list_for_user,
)
from reports.blocks.base import Block, BlockContext, PortfolioInput, section_key
from reports.document import Column, Kpi, Section, Table

KIND = "compliance"
TITLE = "Compliance"
COUNT_KINDS = {RuleKind.MAX_HOLDINGS, RuleKind.MIN_HOLDINGS, RuleKind.VAR_BACKTEST}
SEC_18F4 = ("sec_18f4_relative", "sec_18f4_absolute")
STATUS_LABELS = dict(ResultStatus.choices)
STATE_LABELS = dict(AlertState.choices)
SEVERITY_LABELS = dict(Severity.choices)


def build(context: BlockContext) -> list[Section]:
    rows = headroom_list_for_user(user=context.user)
    return [_portfolio(context, item, rows) for item in context.portfolios]


def _portfolio(
    context: BlockContext, item: PortfolioInput, all_rows: Sequence[HeadroomRow]
) -> Section:
    portfolio = item.portfolio
    section = Section(
        key=section_key(KIND, portfolio),
        block=KIND,
        title=f"{TITLE} — {portfolio.name}",
        portfolio=portfolio.code,
    )
    rows = sorted(
        (row for row in all_rows if row.portfolio_code == portfolio.code),
        key=lambda row: (row.rule.display_name, row.rule.pk),
    )
    alerts = list(
        alert_list_for_user(
            user=context.user, filters=AlertFilters(state="active", portfolio_id=portfolio.pk)
        )
    )
    if not rows and not alerts:
        section.unavailable = "No compliance rule has been evaluated on this portfolio yet."
        return section
    by_rule = {row.rule.pk: row for row in rows}
    breaches = sum(1 for alert in alerts if alert.severity == Severity.BREACH)
    section.kpis = [
        Kpi("Open alerts", len(alerts), "integer"),
        Kpi("Breaches", breaches, "integer"),
        Kpi("Warnings", len(alerts) - breaches, "integer"),
        Kpi("Rules evaluated", len(rows), "integer"),
    ]
    if rows:
        section.kpis.append(Kpi("Evaluated on", max(row.as_of for row in rows), "date"))
    section.tables.append(_alerts_table(alerts, by_rule))
    by_use = sorted(rows, key=lambda row: -(_finite(row.utilisation) or 0.0))
    section.tables.append(_rules_table("rule_utilisation", "Rule utilisation", by_use))
    regulatory = [row for row in rows if row.rule.template and row.rule.template not in SEC_18F4]
    if regulatory:
        section.tables.append(
            _rules_table("regulatory", "Regulatory templates", regulatory, template=True)
        )
    var_rows = [row for row in rows if row.rule.template in SEC_18F4]
    if var_rows:
        section.tables.append(
            _rules_table("sec_18f4", "SEC Rule 18f-4: VaR", var_rows, template=True)
        )
        section.notes.append(
            "SEC Rule 18f-4 (17 CFR 270.18f-4): 20-day 99 % VaR on three years of history, at "
            "most 200 % of the designated reference portfolio's VaR (relative test) or 20 % of "
            "net assets (absolute test), with daily backtesting of the exceptions."
        )
    section.notes.append(
        "Utilisation is value ÷ limit (limit ÷ value for a minimum): 100 % is the limit. "
        "Headroom is the share of the limit still free (1 − utilisation). Values are "
        "fractions of net assets unless the rule says otherwise (relative VaR: of the "
        "reference's VaR; asset coverage: of borrowings); counts are shown as counts."
    )
    return section


def _alerts_table(alerts: Sequence[Alert], by_rule: dict[int, HeadroomRow]) -> Table:
    latest = [by_rule.get(alert.rule_id) for alert in alerts]
    measures = _Measures(row for row in latest if row is not None)
    return Table(
        name="open_alerts",
        title="Open alerts",
        columns=[
            Column("severity", "Severity"),
            Column("rule", "Rule"),
            Column("scope", "Scope"),
            Column("state", "State"),
            Column("opened", "Opened", "date"),
            *measures.columns,
            Column("utilisation", "Utilisation", "percent", decimals=1),
        ],
        rows=[
            (
                SEVERITY_LABELS.get(alert.severity, alert.severity),
                alert.rule.display_name,
                alert.rule.scope_label,
                STATE_LABELS.get(alert.state, alert.state),
                alert.opened_on,
                *measures.values(row),
                _finite(alert.last_utilisation),
            )
            for alert, row in zip(alerts, latest, strict=True)
        ],
        note=(
            "Alerts still needing attention (open, acknowledged or snoozed), breaches first; "
            "value and limit are the rule's latest result, utilisation the alert's last."
        ),
    )


def _rules_table(
    name: str, title: str, rows: Sequence[HeadroomRow], *, template: bool = False
) -> Table:
    measures = _Measures(rows)
    return Table(
        name=name,
        title=title,
        columns=[
            *([Column("template", "Template")] if template else []),
            Column("rule", "Rule"),
            Column("as_of", "As of", "date"),
            *measures.columns,
            Column("utilisation", "Utilisation", "percent", decimals=1),
            Column("headroom", "Headroom", "percent", decimals=1),
            Column("status", "Status"),
        ],
        rows=[
            (
                *([row.rule.template_label or row.rule.template] if template else []),
                row.rule.display_name,
                row.as_of,
                *measures.values(row),
                _finite(row.utilisation),
                _finite(row.headroom),
                STATUS_LABELS.get(row.status, row.status),
            )
            for row in rows
        ],
    )


class _Measures:
    """The value and limit columns of a table of rule results: fractions (shown
    in per cent) and, only when a counting rule is among the rows, counts."""

    def __init__(self, rows: Iterable[HeadroomRow]) -> None:
        kinds = {row.rule.kind for row in rows}
        self.fractions = bool(kinds - COUNT_KINDS) or not kinds
        self.counts = bool(kinds & COUNT_KINDS)
        self.columns: list[Column] = []
        if self.fractions:
            self.columns += [
                Column("value", "Value", "percent"),
                Column("limit", "Limit", "percent"),
            ]
        if self.counts:
            self.columns += [
                Column("count", "Count", "integer"),
                Column("count_limit", "Count limit", "integer"),
            ]

    def values(self, row: HeadroomRow | None) -> tuple[float | None, ...]:
        value = None if row is None else _finite(row.value)
        limit = None if row is None else _finite(row.limit)
        counting = row is not None and row.rule.kind in COUNT_KINDS
        cells: tuple[float | None, ...] = ()
        if self.fractions:
            cells += (None, None) if counting else (value, limit)
        if self.counts:
            cells += (value, limit) if counting else (None, None)
        return cells


def _finite(value: float | None) -> float | None:
    """A stored figure for a cell; an unbounded one (a zero limit used, no
    borrowings) has no finite value and is shown as missing."""
    return None if value is None or not math.isfinite(value) else value


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description=(
        "Open alerts, rule utilisation and headroom, and the UCITS, 1940 Act and SEC "
        "Rule 18f-4 results."
    ),
    build=build,
)
