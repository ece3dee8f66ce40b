"""HTML pages for portfolios: the entitled list and one portfolio's holdings and value."""

import json

from django.contrib.auth.decorators import login_required
from django.db.models import Max, OuterRef, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from plotly.utils import PlotlyJSONEncoder

from analytics import selectors
from analytics.models import PositionSnapshot
from dashboards.figures import value_over_time_figure
from portal.selectors import portfolio_get_for_user, portfolio_list_visible_to


@login_required
def portfolio_list(request: HttpRequest) -> HttpResponse:
    latest_date = (
        PositionSnapshot.objects.filter(portfolio=OuterRef("pk"))
        .values("portfolio")
        .annotate(latest=Max("date"))
        .values("latest")
    )
    portfolios = list(
        portfolio_list_visible_to(user=request.user)
        .select_related("benchmark", "owner")
        .annotate(as_of=Subquery(latest_date))
        .order_by("code")
    )
    as_of_by_id = {p.id: p.as_of for p in portfolios if p.as_of}
    totals = {
        row["portfolio"]: row["total"]
        for row in PositionSnapshot.objects.filter(
            portfolio__in=as_of_by_id, date__in=set(as_of_by_id.values())
        )
        .values("portfolio", "date")
        .annotate(total=Sum("market_value_base"))
        if as_of_by_id[row["portfolio"]] == row["date"]
    }
    for portfolio in portfolios:
        portfolio.net_assets_base = totals.get(portfolio.id)
    return render(request, "analytics/portfolio_list.html", {"portfolios": portfolios})


@login_required
def portfolio_detail(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    holdings = selectors.portfolio_holdings(portfolio=portfolio)
    points = selectors.portfolio_value_series(portfolio=portfolio)
    figure = value_over_time_figure(points, currency=portfolio.base_currency)
    return render(
        request,
        "analytics/portfolio_detail.html",
        {
            "portfolio": portfolio,
            "holdings": holdings,
            "value_figure": json.loads(json.dumps(figure, cls=PlotlyJSONEncoder)),
        },
    )
