"""The holdings of one portfolio at its latest position date, with search (over
identifier, name and sector, case-insensitive), a sector filter (the drill-down
from the exposure treemap), sorting by any column and paging.

Parameters (``request.params``): ``q``; ``sector``; ``sort`` a column key, ``-``
first for descending (default ``-weight``: largest absolute weight first);
``page`` from 1; ``size`` rows per page (default 10, at most 100).

Market values are in the dashboard's currency when one is chosen (at the latest
rate on or before the position date, see :func:`dashboards.widgets.base.money_in`),
else in the portfolio's base currency; the column's label names the currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from analytics.selectors.portfolios import Holding, portfolio_holdings
from dashboards.widgets.base import Money, WidgetRequest, envelope, money_in, single_portfolio

TITLE = "Holdings"
COLUMNS: list[dict[str, Any]] = [
    {"key": "identifier", "label": "Instrument"},
    {"key": "name", "label": "Name"},
    {"key": "sector", "label": "Sector"},
    {"key": "quantity", "label": "Quantity", "numeric": True},
    {"key": "market_value", "label": "Value", "numeric": True, "amount": True},
    {"key": "weight", "label": "Weight", "numeric": True},
]
SORTABLE = {column["key"] for column in COLUMNS}
PAGE_SIZE, MAX_PAGE_SIZE = 10, 100


def _number(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _row(holding: Holding, money: Money) -> dict:
    return {
        "identifier": holding.identifier,
        "name": holding.name,
        "sector": holding.sector or "(none)",
        "quantity": _number(holding.quantity),
        "market_value": money.of(holding.market_value_base),
        "weight": holding.weight,
    }


def _positive_int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


def build(request: WidgetRequest) -> dict:
    portfolio, view, empty = single_portfolio(request, TITLE)
    if portfolio is None:
        return empty or {}
    holdings = portfolio_holdings(portfolio=portfolio)
    money = money_in(request, base=portfolio.base_currency, on=holdings.as_of)
    rows = [_row(h, money) for h in holdings.holdings]
    query = (request.params.get("q") or "").strip().lower()
    if query:
        rows = [
            r
            for r in rows
            if any(query in str(r[key]).lower() for key in ("identifier", "name", "sector"))
        ]
    sector = request.params.get("sector") or ""
    if sector:
        rows = [r for r in rows if r["sector"] == sector]
    sort = request.params.get("sort") or "-weight"
    key = sort.lstrip("-")
    if key not in SORTABLE:
        key, sort = "weight", "-weight"
    descending = sort.startswith("-")
    present = [r for r in rows if r[key] is not None]
    missing = [r for r in rows if r[key] is None]
    if key == "weight":
        present.sort(key=lambda r: abs(r["weight"]), reverse=descending)
    else:
        present.sort(key=lambda r: r[key], reverse=descending)
    rows = present + missing  # unknown values last, whichever the direction
    size = min(_positive_int(request.params.get("size"), PAGE_SIZE), MAX_PAGE_SIZE)
    pages = max(1, -(-len(rows) // size))
    page = min(_positive_int(request.params.get("page"), 1), pages)
    payload = envelope(
        request,
        title=f"{TITLE} · {portfolio.code}",
        views=[view] if view is not None else [],
        currency=money.currency,
        currency_note=money.note,
        table={
            "columns": [
                {**c, "label": f"Value ({money.currency})"} if c.get("amount") else c
                for c in COLUMNS
            ],
            "rows": rows[(page - 1) * size : page * size],
            "total": len(rows),
            "page": page,
            "pages": pages,
            "sort": sort,
            "q": query,
            "sector": sector,
            "positions_as_of": holdings.as_of.isoformat() if holdings.as_of else None,
            "base_currency": portfolio.base_currency,
            "currency": money.currency,
        },
    )
    if payload["as_of"] is None and holdings.as_of is not None:
        payload["as_of"] = holdings.as_of.isoformat()
    return payload
