"""Reads of portfolio data, always for a portfolio already authorised through
``portal.selectors.portfolio_get_for_user`` (or the list selector)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum

from analytics.models import Portfolio, PositionSnapshot


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
    positions = PositionSnapshot.objects.filter(portfolio=portfolio)
    if on_or_before is not None:
        positions = positions.filter(date__lte=on_or_before)
    return positions.aggregate(latest=Max("date"))["latest"]


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
        PositionSnapshot.objects.filter(portfolio=portfolio, date=date)
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
    holdings.sort(key=lambda h: abs(h.market_value_base or 0), reverse=True)
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
    some holding lacks a base value reports how many, so a chart can mark it
    rather than show a silent drop."""
    positions = PositionSnapshot.objects.filter(portfolio=portfolio).exclude(quantity=0)
    if start is not None:
        positions = positions.filter(date__gte=start)
    if end is not None:
        positions = positions.filter(date__lte=end)
    rows = (
        positions.values("date")
        .annotate(
            total=Sum("market_value_base"),
            holdings=Count("id"),
            missing=Count("id", filter=Q(market_value_base__isnull=True)),
        )
        .order_by("date")
    )
    return [
        ValuePoint(
            date=row["date"],
            net_assets_base=row["total"] or Decimal(0),
            holdings=row["holdings"],
            missing_base_values=row["missing"],
        )
        for row in rows
    ]
