"""Exposure of one portfolio as a treemap sector → issuer → instrument, from its
holdings at the latest position date (weights are fractions of net assets).
Clicking a sector filters the dashboard's holdings table to it."""

from analytics.models import Instrument
from analytics.presentation import figures
from analytics.selectors.portfolios import portfolio_holdings
from dashboards.widgets.base import WidgetRequest, envelope, single_portfolio

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
    payload = envelope(
        request,
        title=f"{TITLE} · {portfolio.code}",
        views=views,
        figure=figures.exposure_treemap_figure(rows),
        drill="sector",
        unvalued=holdings.missing_base_values,
    )
    if payload["as_of"] is None and holdings.as_of is not None:
        payload["as_of"] = holdings.as_of.isoformat()
    return payload
