"""KPI tiles of one portfolio from its stored snapshot: net assets (base currency,
or the chosen currency at the latest rate on or before the snapshot's as-of date,
see :func:`dashboards.widgets.base.money_in`), day, month-to-date and
year-to-date time-weighted returns, 1-day historical VaR 95 % (a positive loss
fraction of net assets) and the current drawdown from the running peak (≤ 0)."""

from __future__ import annotations

from dashboards.widgets.base import WidgetRequest, envelope, money_in, single_portfolio

TITLE = "Key figures"


def net_assets_of(view_result: dict) -> float | None:
    exposures = view_result.get("exposures") or {}
    if exposures.get("net_assets") is not None:
        return float(exposures["net_assets"])
    values = ((view_result.get("series") or {}).get("net_assets") or {}).get("values") or []
    known = [v for v in values if v is not None]
    return known[-1] if known else None


def build(request: WidgetRequest) -> dict:
    portfolio, view, empty = single_portfolio(request, TITLE)
    if empty is not None or portfolio is None or view is None or view.snapshot is None:
        return empty or {}
    result = view.result
    base = (result.get("data") or {}).get("base_currency") or portfolio.base_currency
    money = money_in(request, base=base, on=view.snapshot.as_of)
    net_assets = money.of(net_assets_of(result))
    returns = (result.get("period_returns") or {}).get("portfolio") or {}
    drawdowns = result.get("drawdowns") or {}
    tiles = [
        {
            "key": "net_assets",
            "label": "Net assets",
            "value": net_assets,
            "format": "amount",
            "toned": False,
            "unit": money.currency,
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
    return envelope(
        request,
        title=f"{TITLE} · {portfolio.code}",
        views=[view],
        tiles=tiles,
        currency=money.currency,
        currency_note=money.note,
    )
