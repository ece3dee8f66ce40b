"""Reads of portfolio data, always for a portfolio already authorised through
``analytics.selectors.entitlements.portfolio_get_for_user`` (or the list selector)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from analytics.engine.exposure import limit_utilisation
from analytics.models import (
    DEFAULT_RISK_WINDOWS,
    DERIVED_SOURCE,
    AnalyticsSnapshot,
    Portfolio,
    PositionSnapshot,
    RiskLimit,
    RiskLimitMetric,
    RiskWindow,
    SnapshotStatus,
    risk_value_key,
)
from analytics.selectors.frames import latest_position_dates, valuation_totals


@dataclass(frozen=True)
class Holding:
    instrument_id: int
    identifier: str
    name: str
    sector: str
    country: str
    asset_class: str
    currency: str
    quantity: Decimal
    price: Decimal | None
    market_value_local: Decimal | None
    market_value_base: Decimal | None
    weight: float | None  # fraction of net assets; None when the base value is missing


@dataclass(frozen=True)
class HoldingsView:
    as_of: dt.date | None
    net_assets_base: Decimal
    holdings: list[Holding]
    missing_base_values: int  # holdings whose base value could not be computed (no FX)


def portfolio_latest_position_date(
    *, portfolio: Portfolio, on_or_before: dt.date | None = None
) -> dt.date | None:
    """The portfolio's latest date with derived positions (on or before a date)."""
    dates = latest_position_dates(portfolio_ids=[portfolio.pk], on_or_before=on_or_before)
    return dates.get(portfolio.pk)


def portfolio_holdings(*, portfolio: Portfolio, as_of: dt.date | None = None) -> HoldingsView:
    """Holdings at the close of ``as_of`` (default: the latest date with positions),
    largest absolute base value first. Weights are fractions of net assets (the sum
    of base market values, cash included, shorts negative)."""
    date = portfolio_latest_position_date(portfolio=portfolio, on_or_before=as_of)
    if date is None:
        return HoldingsView(
            as_of=None, net_assets_base=Decimal(0), holdings=[], missing_base_values=0
        )
    rows = list(
        PositionSnapshot.objects.filter(portfolio=portfolio, source=DERIVED_SOURCE, date=date)
        .exclude(quantity=0)
        .select_related("instrument")
    )
    net_assets = sum(
        (r.market_value_base for r in rows if r.market_value_base is not None), Decimal(0)
    )
    holdings = [
        Holding(
            instrument_id=r.instrument_id,
            identifier=r.instrument.identifier,
            name=r.instrument.name,
            sector=r.instrument.sector,
            country=r.instrument.country,
            asset_class=r.instrument.asset_class,
            currency=r.instrument.currency,
            quantity=r.quantity,
            price=r.price,
            market_value_local=r.market_value_local,
            market_value_base=r.market_value_base,
            weight=(
                float(r.market_value_base / net_assets)
                if r.market_value_base is not None and net_assets
                else None
            ),
        )
        for r in rows
    ]
    holdings.sort(key=lambda h: abs(h.market_value_base or Decimal(0)), reverse=True)
    return HoldingsView(
        as_of=date,
        net_assets_base=net_assets,
        holdings=holdings,
        missing_base_values=sum(1 for h in holdings if h.market_value_base is None),
    )


@dataclass(frozen=True)
class ValuePoint:
    date: dt.date
    net_assets_base: Decimal
    holdings: int
    missing_base_values: int


def portfolio_value_series(
    *, portfolio: Portfolio, start: dt.date | None = None, end: dt.date | None = None
) -> list[ValuePoint]:
    """Net assets in the base currency at each date with positions. A date where
    some holding lacks a base value reports how many beside the sum of the values
    that exist, so a chart can mark it rather than show a silent drop."""
    rows = valuation_totals(portfolio_ids=[portfolio.pk], first=start, last=end)
    return [
        ValuePoint(
            date=row["date"],
            net_assets_base=row["total"] or Decimal(0),
            holdings=row["holdings"],
            missing_base_values=row["unvalued"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class SnapshotView:
    """What a reader shows: the newest finished snapshot and the state of the current key.

    ``snapshot`` is the newest ``done`` snapshot (None before the first finishes).
    ``current_status`` is the status of the row for the portfolio's current data
    (None if none was requested yet); when it is not ``done``, the numbers shown come
    from an older snapshot and ``stale`` is true.
    """

    snapshot: AnalyticsSnapshot | None
    current_status: str | None
    current_error: str
    stale: bool

    @property
    def result(self) -> dict:
        return self.snapshot.result if self.snapshot else {}

    def section(self, name: str) -> dict | None:
        return self.result.get(name)


def portfolio_snapshot(*, portfolio: Portfolio, as_of: dt.date | None = None) -> SnapshotView:
    """The snapshot readers should show for ``portfolio`` (already authorised): the
    latest, or with ``as_of`` (a date with derived positions) the one of that date."""
    snapshots = AnalyticsSnapshot.objects.filter(portfolio=portfolio)
    if as_of is not None:
        snapshots = snapshots.filter(as_of=as_of)
    current = snapshots.filter(data_version=portfolio.data_version).order_by("-as_of").first()
    done = snapshots.filter(status=SnapshotStatus.DONE).order_by("-data_version", "-as_of")
    snapshot = done.first()
    is_current = (
        snapshot is not None
        and current is not None
        and snapshot.pk == current.pk
        and not snapshot.stale
    )
    return SnapshotView(
        snapshot=snapshot,
        current_status=current.status if current else None,
        current_error=current.error if current else "",
        stale=snapshot is not None and not is_current,
    )


@dataclass(frozen=True)
class LimitUse:
    metric: str
    label: str
    window: str  # a RiskWindow value: the returns the figure is measured on
    window_label: str
    limit: float
    warning_level: float
    value: float | None
    utilisation: float | None
    status: str  # ok, warning, breach or no_value


def _limit_value(values: dict, limit: RiskLimit) -> float | None:
    """The snapshot's value of ``limit``'s metric on its window. Snapshots stored
    before figures were kept per window hold only the default window's value, under
    the bare metric key; it serves limits on the default window."""
    key = risk_value_key(limit.metric, limit.applied_window)
    if key in values:
        return values[key]
    if limit.applied_window == DEFAULT_RISK_WINDOWS.get(limit.metric):
        return values.get(limit.metric)
    return None


def risk_limit_utilisation(*, portfolio: Portfolio, view: SnapshotView) -> list[LimitUse]:
    """Utilisation of each of ``portfolio``'s risk limits by the snapshot's figures
    on the limit's window (computed on read, so a limit changed today applies at
    once). A window the snapshot has no figure for (a history shorter than the
    window, or a snapshot computed before the window existed) gives ``no_value``."""
    limits = list(RiskLimit.objects.filter(portfolio=portfolio).order_by("metric", "window"))
    if not limits:
        return []
    values = view.section("risk_values") or {}
    # One row per limit, keyed by its position: a blank window and the metric's
    # default window spelled out are two limits on the same figure.
    table = limit_utilisation(
        pd.DataFrame(
            [
                (portfolio.pk, position, _limit_value(values, lim))
                for position, lim in enumerate(limits)
            ],
            columns=["portfolio", "metric", "value"],
        ).astype({"value": float}),
        pd.DataFrame(
            [
                (portfolio.pk, position, lim.limit, lim.warning_level)
                for position, lim in enumerate(limits)
            ],
            columns=["portfolio", "metric", "limit", "warning_level"],
        ),
    )
    labels = dict(RiskLimitMetric.choices)
    windows = dict(RiskWindow.choices)
    return [
        LimitUse(
            metric=lim.metric,
            label=labels.get(lim.metric, lim.metric),
            window=lim.applied_window,
            window_label=windows.get(lim.applied_window, lim.applied_window),
            limit=row.limit,
            warning_level=lim.warning_level,
            value=None if pd.isna(row.value) else float(row.value),
            utilisation=None if pd.isna(row.utilisation) else float(row.utilisation),
            status=row.status,
        )
        for row, lim in zip(table.itertuples(index=False), limits, strict=True)
    ]
