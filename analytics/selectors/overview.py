"""The portfolio overview an executive opens first: one row per entitled portfolio.

Each row reads stored data only: net assets at the latest derived positions (base
currency, and converted to a chosen reporting currency at the latest rate on or
before the portfolio's as-of date), the day, month-to-date and year-to-date return
and the year-to-date active return against the benchmark (arithmetic: portfolio
minus benchmark) from the newest finished snapshot's ``period_returns`` section,
and the data completeness of the latest scanned day. Returns are fractions in the
portfolio's base currency.

Facts owned by higher layers (open compliance alerts by severity) are added by
functions they register with :func:`overview_fact_register` in their
``AppConfig.ready``, so this module never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Max, OuterRef, Subquery, Sum

from analytics.models import (
    DERIVED_SOURCE,
    AnalyticsSnapshot,
    Portfolio,
    PortfolioDataStatus,
    PositionSnapshot,
    SnapshotStatus,
)
from analytics.selectors.entitlements import Viewer, portfolio_list_visible_to
from analytics.selectors.fx import rate_to_base_latest

OverviewFact = Callable[[Sequence[int]], dict[int, Any]]
"""Portfolio ids → a fact per portfolio id (missing ids have none)."""

_FACTS: dict[str, OverviewFact] = {}


def overview_fact_register(name: str, fact: OverviewFact) -> None:
    """Add ``fact`` to every overview row as ``row.facts[name]`` (idempotent)."""
    _FACTS[name] = fact


@dataclass
class OverviewRow:
    portfolio: Portfolio
    as_of: dt.date | None
    net_assets_base: Decimal | None
    net_assets_reporting: float | None
    day: float | None = None
    mtd: float | None = None
    ytd: float | None = None
    active_ytd: float | None = None
    snapshot_as_of: dt.date | None = None
    stale: bool = False
    completeness: float | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Overview:
    """The rows, and their total net assets in ``reporting_currency``; portfolios
    with positions but no rate to it are left out of the total and named in
    ``unconverted``."""

    rows: list[OverviewRow]
    reporting_currency: str
    total: float
    unconverted: list[str]


def _latest_net_assets(portfolios: list[Portfolio]) -> dict[int, tuple[dt.date, Decimal]]:
    latest = (
        PositionSnapshot.objects.filter(portfolio=OuterRef("pk"), source=DERIVED_SOURCE)
        .values("portfolio")
        .annotate(latest=Max("date"))
        .values("latest")
    )
    dates = dict(
        Portfolio.objects.filter(pk__in=[p.pk for p in portfolios])
        .annotate(as_of=Subquery(latest))
        .exclude(as_of=None)
        .values_list("pk", "as_of")
    )
    totals = (
        PositionSnapshot.objects.filter(
            portfolio__in=dates, date__in=set(dates.values()), source=DERIVED_SOURCE
        )
        .values("portfolio", "date")
        .annotate(total=Sum("market_value_base"))
    )
    return {
        row["portfolio"]: (row["date"], row["total"] or Decimal(0))
        for row in totals
        if dates[row["portfolio"]] == row["date"]
    }


def _period_returns(portfolios: list[Portfolio]) -> dict[int, dict[str, Any]]:
    newest_done = (
        AnalyticsSnapshot.objects.filter(portfolio=OuterRef("pk"), status=SnapshotStatus.DONE)
        .order_by("-data_version", "-as_of")
        .values("pk")[:1]
    )
    ids = (
        Portfolio.objects.filter(pk__in=[p.pk for p in portfolios])
        .annotate(snapshot=Subquery(newest_done))
        .exclude(snapshot=None)
        .values_list("snapshot", flat=True)
    )
    rows = AnalyticsSnapshot.objects.filter(pk__in=list(ids)).values(
        "portfolio_id", "as_of", "data_version", "stale", "result__period_returns"
    )
    return {row["portfolio_id"]: dict(row) for row in rows}


def _completeness(portfolios: list[Portfolio]) -> dict[int, float | None]:
    latest = (
        PortfolioDataStatus.objects.filter(portfolio=OuterRef("pk"))
        .order_by("-date")
        .values("completeness")[:1]
    )
    return dict(
        Portfolio.objects.filter(pk__in=[p.pk for p in portfolios])
        .annotate(completeness=Subquery(latest))
        .values_list("pk", "completeness")
    )


def portfolio_overview(*, user: Viewer, reporting_currency: str | None = None) -> Overview:
    """The overview rows of the portfolios ``user`` may see, ordered by code;
    ``reporting_currency`` defaults to the most common base currency among them."""
    portfolios = list(
        portfolio_list_visible_to(user=user).select_related("benchmark", "owner").order_by("code")
    )
    if reporting_currency is None:
        bases = [p.base_currency for p in portfolios] or ["USD"]
        reporting_currency = max(sorted(set(bases)), key=bases.count)
    net_assets = _latest_net_assets(portfolios)
    returns = _period_returns(portfolios)
    completeness = _completeness(portfolios)
    ids = [p.pk for p in portfolios]
    facts = {name: fact(ids) for name, fact in _FACTS.items()}
    rows, unconverted, total = [], [], 0.0
    for portfolio in portfolios:
        as_of, amount = net_assets.get(portfolio.pk, (None, None))
        converted = None
        if as_of is not None and amount is not None:
            rate = rate_to_base_latest(
                currency=portfolio.base_currency, base=reporting_currency, on=as_of
            )
            if rate is None:
                unconverted.append(portfolio.code)
            else:
                converted = float(amount) * rate
                total += converted
        row = OverviewRow(portfolio, as_of, amount, converted)
        snapshot = returns.get(portfolio.pk)
        if snapshot is not None:
            section = snapshot["result__period_returns"] or {}
            own = section.get("portfolio") or {}
            active = section.get("active_arithmetic") or {}
            row.day, row.mtd, row.ytd = own.get("day"), own.get("mtd"), own.get("ytd")
            row.active_ytd = active.get("ytd")
            row.snapshot_as_of = snapshot["as_of"]
            row.stale = snapshot["stale"] or snapshot["data_version"] != portfolio.data_version
        row.completeness = completeness.get(portfolio.pk)
        row.facts = {name: values.get(portfolio.pk) for name, values in facts.items()}
        rows.append(row)
    return Overview(rows, reporting_currency, total, unconverted)
