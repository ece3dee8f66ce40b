"""Exposure of one portfolio as a treemap sector → issuer → instrument, from its
holdings at the latest position date (weights are fractions of net assets).
Clicking a sector filters the dashboard's holdings table to it.

Each box also shows its exposure in money, in the dashboard's currency when one
is chosen (see :func:`dashboards.widgets.base.money_in`): a holding's market
value, and for a sector or an issuer its gross exposure (the sum of its holdings'
absolute market values), as its size is the sum of their absolute weights."""

from __future__ import annotations

from analytics.models import Instrument
from analytics.presentation import figures
from analytics.selectors.portfolios import Holding, portfolio_holdings
from dashboards.widgets.base import Money, WidgetRequest, envelope, money_in, single_portfolio

TITLE = "Exposure by sector and issuer"


def build(request: WidgetRequest) -> dict:
    portfolio, view, empty = single_portfolio(request, TITLE)
    if portfolio is None:
        return empty or {}
    holdings = portfolio_holdings(portfolio=portfolio)
    views = [view] if view is not None else []
    if not holdings.holdings:
        return envelope(request, title=TITLE, views=views, message="No positions yet.")
    issuers = dict(
        Instrument.objects.filter(pk__in=[h.instrument_id for h in holdings.holdings]).values_list(
            "pk", "issuer"
        )
    )
    money = money_in(request, base=portfolio.base_currency, on=holdings.as_of)
    rows = [
        {
            "sector": h.sector or "(none)",
            "issuer": issuers.get(h.instrument_id) or h.name,
            "name": h.name,
            "identifier": h.identifier,
            "weight": h.weight,
        }
        for h in holdings.holdings
    ]
    figure = figures.exposure_treemap_figure(rows)
    _with_amounts(figure, holdings.holdings, issuers, money)
    payload = envelope(
        request,
        title=f"{TITLE} · {portfolio.code}",
        views=views,
        figure=figure,
        drill="sector",
        unvalued=holdings.missing_base_values,
        currency=money.currency,
        currency_note=money.note,
    )
    if payload["as_of"] is None and holdings.as_of is not None:
        payload["as_of"] = holdings.as_of.isoformat()
    return payload


def _with_amounts(
    figure: dict, holdings: list[Holding], issuers: dict[int, str], money: Money
) -> None:
    """Add each treemap box's amount (``customdata``) to its label and hover text.
    The box ids are those of :func:`analytics.presentation.figures.exposure_treemap_figure`
    (``sector:S``, ``issuer:S/I``, ``instrument:S/I/identifier``)."""
    amounts: dict[str, float] = {}
    for h in holdings:
        amount = money.of(h.market_value_base)
        if h.weight is None or amount is None:
            continue
        sector = h.sector or "(none)"
        issuer = issuers.get(h.instrument_id) or h.name or "(none)"
        amounts[f"instrument:{sector}/{issuer}/{h.identifier or h.name}"] = amount
        for node in (f"sector:{sector}", f"issuer:{sector}/{issuer}"):
            amounts[node] = amounts.get(node, 0.0) + abs(amount)
    trace = figure["data"][0]
    trace["customdata"] = [amounts.get(node_id) for node_id in trace["ids"]]
    code = money.currency
    trace["texttemplate"] = f"%{{label}}<br>%{{value:.1%}} · {code} %{{customdata:,.0f}}"
    trace["hovertemplate"] = (
        f"%{{label}}: %{{value:.2%}} of net assets, {code} %{{customdata:,.0f}}<extra></extra>"
    )
