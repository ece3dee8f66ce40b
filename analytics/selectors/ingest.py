"""Reads of import runs and data quality, always for a user or for portfolios
already authorised through ``analytics.selectors.entitlements``.

``portfolio_data_quality`` is what every page, report and dashboard shows next to
its numbers: the data-as-of date, the completeness of the day and the open
findings. ``portfolio_data_status_series`` tells analytics which days are gaps
(completeness below 1) so that a missing value is never a zero return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from analytics.models import (
    DERIVED_SOURCE,
    DataQualityFinding,
    ImportRun,
    Portfolio,
    PortfolioDataStatus,
    PositionSnapshot,
    Severity,
    Trade,
)
from portal.models import User

SHOWN_FINDINGS = 50
SHOWN_ON_PAGE = 20


def import_runs_visible_to(*, user: User) -> QuerySet[ImportRun]:
    """A user's own import runs; administrators see every run."""
    if not user.is_authenticated or not user.is_active:
        return ImportRun.objects.none()
    if user.is_superuser:
        return ImportRun.objects.all()
    return ImportRun.objects.filter(actor=user)


def import_run_get_for_user(*, user: User, run_id: int) -> ImportRun:
    run = import_runs_visible_to(user=user).filter(id=run_id).first()
    if run is None:
        raise Http404("No such import.")
    return run


_SEVERITY_ORDER = Case(
    When(severity=Severity.ERROR, then=Value(0)),
    When(severity=Severity.WARNING, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def findings_for_portfolios(
    *,
    portfolios,
    kind: str | None = None,
    severity: str | None = None,
    include_resolved: bool = False,
) -> QuerySet[DataQualityFinding]:
    """Findings about ``portfolios`` (a queryset or list of authorised
    portfolios) and about the instruments they trade or report, most severe and
    most recent first."""
    portfolio_ids = (
        portfolios.values_list("id", flat=True)
        if isinstance(portfolios, QuerySet)
        else [p.pk for p in portfolios]
    )
    traded = Trade.objects.filter(portfolio_id__in=portfolio_ids).values("instrument_id")
    reported = (
        PositionSnapshot.objects.filter(portfolio_id__in=portfolio_ids)
        .exclude(source=DERIVED_SOURCE)
        .values("instrument_id")
    )
    findings = DataQualityFinding.objects.filter(
        Q(portfolio_id__in=portfolio_ids)
        | Q(portfolio=None, instrument_id__in=traded)
        | Q(portfolio=None, instrument_id__in=reported)
    )
    if not include_resolved:
        findings = findings.filter(resolved_at=None)
    if kind:
        findings = findings.filter(kind=kind)
    if severity:
        findings = findings.filter(severity=severity)
    return (
        findings.select_related("portfolio", "instrument")
        .annotate(severity_order=_SEVERITY_ORDER)
        .order_by("severity_order", "-date", "kind", "id")
    )


@dataclass(frozen=True)
class DataQualitySummary:
    portfolio: Portfolio
    as_of: dt.date | None
    data_as_of: dt.date | None
    completeness: float | None
    loaded_at: dt.datetime | None
    scanned_at: dt.datetime | None
    findings_by_severity: dict[str, int]
    incomplete_days: list[PortfolioDataStatus]
    findings: list[DataQualityFinding]
    findings_total: int

    @property
    def is_complete(self) -> bool:
        return self.completeness is not None and self.completeness >= 1.0

    @property
    def is_late(self) -> bool:
        return (
            self.data_as_of is not None
            and self.as_of is not None
            and (self.data_as_of < self.as_of)
        )

    @property
    def scanned(self) -> bool:
        return self.scanned_at is not None

    @property
    def problems(self) -> list[DataQualityFinding]:
        """Errors and warnings among the shown findings (they come first)."""
        return [f for f in self.findings if f.severity != Severity.INFO][:SHOWN_ON_PAGE]

    @property
    def notes(self) -> list[DataQualityFinding]:
        return [f for f in self.findings if f.severity == Severity.INFO][:SHOWN_ON_PAGE]

    @property
    def shown_on_page(self) -> int:
        return len(self.problems) + len(self.notes)


def portfolio_data_quality(
    *, portfolio: Portfolio, as_of: dt.date | None = None
) -> DataQualitySummary:
    """Data as of, completeness and open findings of an authorised portfolio on
    ``as_of`` (default: its latest date with positions)."""
    statuses = PortfolioDataStatus.objects.filter(portfolio=portfolio)
    if as_of is not None:
        statuses = statuses.filter(date__lte=as_of)
    status = statuses.order_by("-date").first()
    findings = findings_for_portfolios(portfolios=[portfolio])
    counts = dict.fromkeys(Severity.values, 0)
    for severity in findings.values_list("severity", flat=True):
        counts[severity] += 1
    shown = list(findings[:SHOWN_FINDINGS])
    incomplete = list(statuses.filter(completeness__lt=1.0).order_by("-date")[:10])
    return DataQualitySummary(
        portfolio=portfolio,
        as_of=status.date if status else None,
        data_as_of=status.data_as_of if status else None,
        completeness=status.completeness if status else None,
        loaded_at=status.loaded_at if status else None,
        scanned_at=status.computed_at if status else None,
        findings_by_severity=counts,
        incomplete_days=incomplete,
        findings=shown,
        findings_total=sum(counts.values()),
    )


def portfolio_data_status_series(
    *, portfolio: Portfolio, start: dt.date | None = None, end: dt.date | None = None
) -> list[PortfolioDataStatus]:
    """Per-date completeness of an authorised portfolio (for masking gaps with
    ``analytics.engine.quality.mask_incomplete``)."""
    rows = PortfolioDataStatus.objects.filter(portfolio=portfolio)
    if start is not None:
        rows = rows.filter(date__gte=start)
    if end is not None:
        rows = rows.filter(date__lte=end)
    return list(rows.order_by("date"))
