"""What the blocks built on stored analytics snapshots share: the section of one
portfolio, the reason a snapshot cannot be shown, the period slice, ISO dates as
``datetime.date`` and the notes that state the conventions of every figure.

Blocks read the snapshot's sections (``analytics.services.snapshots``) and the
period analytics of :mod:`analytics.services.period_analysis`; they arrange them
into :class:`reports.document.Section` s and never compute a metric themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from analytics.presentation.tables import unavailable_reason
from analytics.services.period_analysis import PeriodSlice, benchmark_override, period_slice
from reports.blocks.base import BlockContext, PortfolioInput, section_key
from reports.document import Section

NO_SNAPSHOT = "No analytics snapshot has been computed for this portfolio yet."


def iso_date(value: str | None) -> dt.date | None:
    """A stored ISO date as a ``datetime.date`` (None stays None)."""
    return None if value is None else dt.date.fromisoformat(value[:10])


def portfolio_section(kind: str, title: str, item: PortfolioInput) -> Section:
    """An empty section of block ``kind`` for one portfolio (the document shows the
    portfolio beside the title)."""
    portfolio = item.portfolio
    return Section(
        key=section_key(kind, portfolio),
        block=kind,
        title=title,
        portfolio=portfolio.code,
    )


def snapshot_result(item: PortfolioInput) -> dict[str, Any] | None:
    """The stored result the portfolio's readers see, or None before the first one."""
    return item.snapshot.result if item.snapshot.snapshot is not None else None


def missing(section: Section, reason: str) -> Section:
    """``section`` marked unavailable with ``reason`` (shown instead of its tables)."""
    section.unavailable = reason
    return section


def section_reason(result: Mapping[str, Any] | None, name: str) -> str | None:
    """Why the stored section ``name`` cannot be shown (no snapshot, no such section,
    or a section the data could not support), or None when it can."""
    if result is None:
        return NO_SNAPSHOT
    return unavailable_reason(result.get(name))


def sliced(context: BlockContext, item: PortfolioInput, result: Mapping[str, Any]) -> PeriodSlice:
    """The snapshot's returns within the portfolio's report period, against the
    template's benchmark override where it names another existing benchmark."""
    code = context.benchmark
    stored = (result.get("data") or {}).get("benchmark")
    override = (
        benchmark_override(result, portfolio=item.portfolio, code=code)
        if code and code != stored
        else None
    )
    return period_slice(
        result,
        start=item.period.start,
        end=item.period.end,
        benchmark=override,
        benchmark_code=code if override is not None else None,
    )


def period_note(item: PortfolioInput, period: PeriodSlice) -> str:
    """Which returns the figures cover, e.g. "Year to date: 3 daily returns dated
    2024-01-31 to 2024-03-29."""
    label = item.period.label
    count = len(period.returns)
    if not count:
        return f"{label}: no measured daily return in the period."
    note = f"{label}: {count} daily returns dated {period.first} to {period.last}."
    start = item.period.start
    first = iso_date(period.first)
    # A week's grace: the first return dated after the start may span a weekend or holiday.
    late = start is not None and first is not None and first > start + dt.timedelta(days=7)
    if late and period.first == history_start(period):
        note += (
            f" The history begins after the period's start ({start}): the figures cover "
            "the history only."
        )
    return note


def history_start(period: PeriodSlice) -> str | None:
    """The ISO date of the first stored return (the start of the history)."""
    return period.history.index[0].date().isoformat() if len(period.history) else None


def conventions(
    context: BlockContext,
    item: PortfolioInput,
    result: Mapping[str, Any],
    *,
    period: PeriodSlice | None = None,
    ratios: bool = True,
) -> list[str]:
    """The notes every return and risk figure needs: its currency, how returns are
    measured, the risk-free rate used by the ratios, and the benchmark override
    (applied on ``period``, or not known)."""
    data = result.get("data") or {}
    base = data.get("base_currency") or item.portfolio.base_currency
    notes = [
        f"Returns are time-weighted daily returns in the portfolio's base currency ({base}), "
        "external flows counted at the end of the day; returns are fractions of value "
        "shown in per cent."
    ]
    if ratios:
        stored_rate = data.get("risk_free_rate")
        rate = "unknown" if stored_rate is None else f"{float(stored_rate):.2%}"
        per_year = data.get("periods_per_year") or 252
        risk_free = data.get("risk_free") or {}
        origin = risk_free.get("source") or "factor data"
        source = (
            f"the risk-free series {risk_free.get('factor')} ({origin}, on average {rate} "
            "a year over the history)"
            if risk_free.get("kind") == "series"
            else f"a risk-free rate of {rate} a year (compounded per day)"
        )
        notes.append(
            f"Ratios use {source} and annualise with {per_year} periods a year; "
            "volatilities use ddof 1."
        )
    if context.reporting_currency and context.reporting_currency != base:
        notes.append(
            f"Returns are measured in {base}, not converted to the reporting currency "
            f"{context.reporting_currency} (a converted return would include the currency move)."
        )
    stored = data.get("benchmark")
    if context.benchmark and context.benchmark != stored:
        if period is not None and period.benchmark_overridden:
            notes.append(
                f"Benchmark {context.benchmark} replaces the portfolio's own "
                f"({stored or 'none'}), linked over the same valuation intervals; the rolling "
                "beta and the holdings-based attribution stay against the portfolio's own."
            )
        else:
            notes.append(
                f"The comparison is with the portfolio's own benchmark ({stored or 'none'}): "
                f"the report's benchmark {context.benchmark} is not used by this section or "
                "is not known."
            )
    if item.snapshot.stale:
        notes.append(
            "The analytics shown are from an earlier snapshot: newer data is being processed."
        )
    return notes


@dataclass(frozen=True)
class PeriodData:
    """A portfolio's section with what a block draws it from: the snapshot's
    result, the period slice and the period analytics ``compute`` returned."""

    section: Section
    result: Mapping[str, Any]
    period: PeriodSlice
    data: dict[str, Any]


def period_data(
    context: BlockContext,
    item: PortfolioInput,
    *,
    kind: str,
    title: str,
    stored: str,
    compute: Callable[[Mapping[str, Any], PeriodSlice], dict[str, Any]],
) -> PeriodData | Section:
    """The period analytics of one portfolio for a block (``compute`` is one of
    :mod:`analytics.services.period_analysis`'s functions), or its section stating
    why it cannot be shown: no snapshot, the snapshot's ``stored`` section
    unavailable, or nothing in the period."""
    section = portfolio_section(kind, title, item)
    result = snapshot_result(item)
    reason = section_reason(result, stored)
    if result is None or reason is not None:
        return missing(section, reason or "")
    period = sliced(context, item, result)
    data = compute(result, period)
    if (reason := unavailable_reason(data)) is not None:
        return missing(section, reason)
    return PeriodData(section, result, period, data)
