"""KPI tiles of one portfolio from its stored snapshot: net assets (base currency,
or the chosen currency at the as-of date's rate), day, month-to-date and
year-to-date time-weighted returns, 1-day historical VaR 95 % (a positive loss
fraction of net assets) and the current drawdown from the running peak (≤ 0)."""

from __future__ import annotations

import datetime as dt

from analytics.selectors.fx import rates_to_base
from dashboards.widgets.base import WidgetRequest, envelope, single_portfolio

TITLE = "Key figures"


def net_assets_of(view_result: dict) -> float | None:
    exposures = view_result.get("exposures") or {}
    if exposures.get("net_assets") is not None:
        return float(exposures["net_assets"])
    values = ((view_result.get("series") or {}).get("net_assets") or {}).get("values") or []
    known = [v for v in values if v is not None]
    return known[-1] if known else None


def _converted(amount: float, *, base: str, target: str, on: dt.date) -> float | None:
    """``amount`` in ``base`` expressed in ``target`` at the latest rate in the week
    up to ``on``; None when there is none (never a conversion at 1)."""
    rates = rates_to_base(base=target, currencies=[base], first=on - dt.timedelta(days=7), last=on)
    if rates.empty:
        return None
    return amount * float(rates.iloc[-1]["to_base"])


def build(request: WidgetRequest) -> dict:
    portfolio, view, empty = single_portfolio(request, TITLE)
    if empty is not None or portfolio is None or view is None or view.snapshot is None:
        return empty or {}
    result = view.result
    base = (result.get("data") or {}).get("base_currency") or portfolio.base_currency
    currency, net_assets = base, net_assets_of(result)
    if request.currency and request.currency != base and net_assets is not None:
        converted = _converted(
            net_assets, base=base, target=request.currency, on=view.snapshot.as_of
        )
        if converted is not None:
            currency, net_assets = request.currency, converted
    returns = (result.get("period_returns") or {}).get("portfolio") or {}
    drawdowns = result.get("drawdowns") or {}
    tiles = [
        {
            "key": "net_assets",
            "label": "Net assets",
            "value": net_assets,
            "format": "amount",
            "toned": False,
            "unit": currency,
        },
        {
            "key": "day",
            "label": "Day",
            "value": returns.get("day"),
            "format": "percent",
            "toned": True,
        },
        {
            "key": "mtd",
            "label": "MTD",
            "value": returns.get("mtd"),
            "format": "percent",
            "toned": True,
        },
        {
            "key": "ytd",
            "label": "YTD",
            "value": returns.get("ytd"),
            "format": "percent",
            "toned": True,
        },
        {
            "key": "var_95",
            "label": "VaR 95% (1 day)",
            "value": (result.get("risk_values") or {}).get("var_95"),
            "format": "percent",
        },
        {
            "key": "drawdown",
            "label": "Current drawdown",
            "value": drawdowns.get("current_drawdown"),
            "format": "percent",
            "toned": True,
        },
    ]
    return envelope(request, title=f"{TITLE} · {portfolio.code}", views=[view], tiles=tiles)
