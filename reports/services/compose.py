"""Composing a report: a template version (or an unsaved definition) and a user
in, one :class:`~reports.document.Document` out.

1. **Portfolios**, under the user's entitlements (``portfolio_list_visible_to``):
   a template's stored list and a team's portfolios are narrowed silently to the
   ones the user may see (the others are never named, so a shared template leaks
   nothing of its owner's); portfolios named in the request itself
   (``portfolios_requested``) must all be visible, else ``ReportInvalid`` “No
   portfolio “X” that you may see” (the same for one that does not exist).
2. **Data**: each portfolio's stored snapshot (``portfolio_snapshot``) and
   data-quality summary (``portfolio_data_quality``), and the period resolved on
   the snapshot's as-of date (``reports.periods``).
3. **Blocks**, in template order: a per-portfolio block once per portfolio, the
   others once for all; ``on_block(done, total, title)`` is called before each
   block (and with ``done == total`` at the end). A block that raises fails the
   report with ``ReportBlockFailed`` “The block “<title>” failed: <message>”.
4. **Gaps**: ``Document.incomplete`` names every gap a reader must see: no
   snapshot yet, figures from an older snapshot than the current data, days
   with incomplete data, data later than the report date, open data-quality
   errors and warnings. Incomplete data never stops a report.

Given a ``run``, its ``data``, ``data_as_of``, ``quality`` and ``warnings`` are
filled in memory (the caller stores them with the run's outcome).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.utils import timezone

from analytics.models import Portfolio
from analytics.selectors.entitlements import portfolio_list_visible_to
from analytics.selectors.ingest import DataQualitySummary, portfolio_data_quality
from analytics.selectors.portfolios import SnapshotView, portfolio_snapshot
from portal.models import User
from reports.blocks import block_get
from reports.blocks.base import BlockContext, PortfolioInput, ReportPeriod
from reports.definition import ReportDefinition, layout_clean, parameters_merge
from reports.document import Document, Layout, PortfolioHeader
from reports.errors import ReportBlockFailed, ReportInvalid
from reports.models import ReportRun, ReportTemplateVersion
from reports.periods import period_resolve

OnBlock = Callable[[int, int, str], None]


def definition_of(
    version_or_definition: ReportTemplateVersion | ReportDefinition,
) -> ReportDefinition:
    """The definition a version stores (or the definition itself)."""
    if isinstance(version_or_definition, ReportDefinition):
        return version_or_definition
    version = version_or_definition
    return ReportDefinition(
        name=version.name,
        description=version.description,
        blocks=list(version.blocks),
        parameters=dict(version.parameters),
        layout=dict(version.layout),
        slug=version.template.slug,
        version=version.number,
    )


def portfolios_resolve(*, user: User, parameters: Mapping[str, Any]) -> list[Portfolio]:
    """The portfolios a report with these (merged, cleaned) parameters shows to
    ``user`` (see the module); ``ReportInvalid`` when a requested one is not
    visible or none is left."""
    visible = portfolio_list_visible_to(user=user).select_related("benchmark")
    scope = parameters["scope"]
    if scope == "entitled":
        chosen = list(visible.filter(is_active=True).order_by("code"))
    elif scope == "team":
        chosen = list(
            visible.filter(entitlements__team_id=parameters["team"]).distinct().order_by("code")
        )
    else:
        codes = list(parameters["portfolios"])
        by_code = {p.code: p for p in visible.filter(code__in=codes)}
        if parameters.get("portfolios_requested"):
            for code in codes:
                if code not in by_code:
                    raise ReportInvalid(
                        f"No portfolio “{code}” that you may see.", field="portfolios"
                    )
        chosen = [by_code[code] for code in codes if code in by_code]
    if not chosen:
        raise ReportInvalid("This report has no portfolio that you may see.", field="portfolios")
    return chosen


def _iso(day: dt.date | dt.datetime | None) -> str | None:
    return day.isoformat() if day is not None else None


def _quality_json(summary: DataQualitySummary) -> dict[str, Any]:
    return {
        "as_of": _iso(summary.as_of),
        "data_as_of": _iso(summary.data_as_of),
        "completeness": summary.completeness,
        "scanned_at": _iso(summary.scanned_at),
        "findings": dict(summary.findings_by_severity),
        "incomplete_days": [_iso(status.date) for status in summary.incomplete_days],
    }


def _gaps(
    *,
    portfolio: Portfolio,
    view: SnapshotView,
    summary: DataQualitySummary,
    period: ReportPeriod,
) -> list[str]:
    """What a reader must know is missing or late in this portfolio's data."""
    name = f"{portfolio.name} ({portfolio.code})"
    gaps = []
    if view.snapshot is None:
        gaps.append(f"{name}: no analytics have been computed yet, so its figures are missing.")
    elif view.stale:
        gaps.append(
            f"{name}: figures are from the data as of {view.snapshot.as_of.isoformat()}; "
            "newer data has not been analysed yet."
        )
    in_period = [
        status
        for status in summary.incomplete_days
        if (period.start is None or status.date >= period.start)
        and (period.end is None or status.date <= period.end)
    ]
    if in_period:
        latest = in_period[0]
        days = "1 day" if len(in_period) == 1 else f"{len(in_period)} days"
        gaps.append(
            f"{name}: {days} of the period with incomplete data "
            f"(latest {latest.date.isoformat()}, {latest.completeness:.0%} complete)."
        )
    if summary.is_late and summary.data_as_of is not None and summary.as_of is not None:
        gaps.append(
            f"{name}: the latest data is as of {summary.data_as_of.isoformat()}, "
            f"before the report date {summary.as_of.isoformat()}."
        )
    errors = summary.findings_by_severity.get("error", 0)
    warnings = summary.findings_by_severity.get("warning", 0)
    if errors or warnings:
        parts = [
            f"{count} {label}{'' if count == 1 else 's'}"
            for count, label in ((errors, "error"), (warnings, "warning"))
            if count
        ]
        gaps.append(f"{name}: open data-quality findings ({', '.join(parts)}).")
    return gaps


def document_build(
    *,
    version_or_definition: ReportTemplateVersion | ReportDefinition,
    user: User,
    parameters: Mapping[str, Any] | None = None,
    run: ReportRun | None = None,
    on_block: OnBlock | None = None,
) -> Document:
    """The document of a report rendered as ``user`` (see the module).
    ``parameters`` override the definition's (a run passes its stored ones)."""
    definition = definition_of(version_or_definition)
    merged = parameters_merge(definition.parameters, parameters)
    portfolios = portfolios_resolve(user=user, parameters=merged)
    today = timezone.localdate()
    inputs: list[PortfolioInput] = []
    headers: list[PortfolioHeader] = []
    incomplete: list[str] = []
    data: dict[str, Any] = {}
    quality: dict[str, Any] = {}
    for portfolio in portfolios:
        view = portfolio_snapshot(portfolio=portfolio)
        summary = portfolio_data_quality(portfolio=portfolio)
        portfolio_as_of = view.snapshot.as_of if view.snapshot else (summary.as_of or today)
        period = period_resolve(
            merged["period"], as_of=portfolio_as_of, start=merged["start"], end=merged["end"]
        )
        inputs.append(PortfolioInput(portfolio=portfolio, snapshot=view, period=period))
        snapshot = view.snapshot
        headers.append(
            PortfolioHeader(
                id=portfolio.pk,
                code=portfolio.code,
                name=portfolio.name,
                base_currency=portfolio.base_currency,
                as_of=snapshot.as_of if snapshot else None,
                data_version=snapshot.data_version if snapshot else portfolio.data_version,
                snapshot_id=snapshot.pk if snapshot else None,
                stale=view.stale or snapshot is None,
            )
        )
        data[portfolio.code] = {
            "data_version": snapshot.data_version if snapshot else portfolio.data_version,
            "snapshot_id": snapshot.pk if snapshot else None,
            "as_of": _iso(snapshot.as_of if snapshot else None),
            "stale": view.stale or snapshot is None,
            "period_start": _iso(period.start),
            "period_end": _iso(period.end),
        }
        quality[portfolio.code] = _quality_json(summary)
        incomplete.extend(_gaps(portfolio=portfolio, view=view, summary=summary, period=period))
    dates = [header.as_of for header in headers if header.as_of is not None]
    as_of = min(dates) if dates else None
    document_period = period_resolve(
        merged["period"], as_of=as_of or today, start=merged["start"], end=merged["end"]
    )
    document = Document(
        title=definition.name,
        template_slug=definition.slug,
        template_version=definition.version,
        run_id=run.pk if run is not None else None,
        generated_at=timezone.now(),
        run_as=user.get_full_name() or user.get_username(),
        period_key=document_period.key,
        period_label=document_period.label,
        period_start=document_period.start,
        period_end=document_period.end,
        as_of=as_of,
        reporting_currency=merged["reporting_currency"],
        portfolios=headers,
        layout=Layout(**layout_clean(definition.layout)),
        description=definition.description,
        incomplete=incomplete,
    )
    total = len(definition.blocks)
    for done, entry in enumerate(definition.blocks):
        try:
            block = block_get(entry["kind"])
        except KeyError as error:
            raise ReportInvalid(str(error.args[0]), field="blocks") from None
        if on_block is not None:
            on_block(done, total, block.title)
        context_for = [[item] for item in inputs] if block.per_portfolio else [inputs]
        for portfolio_inputs in context_for:
            context = BlockContext(
                user=user,
                portfolios=portfolio_inputs,
                period_key=merged["period"],
                benchmark=merged["benchmark"],
                reporting_currency=merged["reporting_currency"],
                options=block.options_merged(entry.get("options")),
            )
            try:
                document.sections.extend(block.build(context))
            except Exception as error:
                reason = str(error) or type(error).__name__
                raise ReportBlockFailed(f"The block “{block.title}” failed: {reason}") from error
    if on_block is not None:
        on_block(total, total, "")
    if run is not None:
        run.data = data
        run.data_as_of = as_of
        run.quality = quality
    return document
