"""HTML pages of dashboards. The grid, its widgets and the live updates are drawn by
``static/js/dashboards.js`` from the dashboard's JSON (the same as
``GET /api/dashboards/{id}/``) and the widget data endpoints; the page itself only
authorises (404 for a dashboard the user may not open) and embeds the
configuration: the widgets, the kinds the user may add, their entitled portfolios
for the filters, and the API addresses."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from analytics.selectors.entitlements import portfolio_list_visible_to
from dashboards import selectors
from dashboards.api.views import dashboard_json
from dashboards.widgets import kinds_for
from dashboards.widgets.base import DEFAULT_PERIOD, PERIODS
from portal.authenticated import AuthenticatedHttpRequest
from portal.models import Role

CURRENCIES = ("USD", "EUR", "GBP", "CHF", "JPY")


@login_required
def dashboard_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    dashboards = list(selectors.dashboard_list_for_user(user=user))
    landing = selectors.dashboard_landing_for(user=user)
    return render(
        request,
        "dashboards/index.html",
        {
            "landing": landing,
            "mine": [d for d in dashboards if d.owner_id == user.pk],
            "shared": [d for d in dashboards if not d.is_builtin and d.owner_id != user.pk],
            "builtin": [d for d in dashboards if d.is_builtin],
        },
    )


@login_required
def dashboard_landing(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where a user lands after logging in (``LOGIN_REDIRECT_URL`` names this view,
    so the core never imports dashboards; an explicit ``next=`` wins before it is
    reached): the built-in dashboard of their role, else the dashboards list."""
    landing = selectors.dashboard_landing_for(user=request.user)
    if landing is None:
        return redirect("dashboards:index")
    return redirect("dashboards:detail", dashboard_id=landing.pk)


@login_required
def dashboard_detail(request: AuthenticatedHttpRequest, dashboard_id: int) -> HttpResponse:
    user = request.user
    dashboard = selectors.dashboard_get_for_user(user=user, dashboard_id=dashboard_id)
    portfolios = list(
        portfolio_list_visible_to(user=user).order_by("code").values("id", "code", "name")
    )
    currencies = sorted(
        {*CURRENCIES, *portfolio_list_visible_to(user=user).values_list("base_currency", flat=True)}
    )
    # A portfolio clicked in an overview opens the portfolio manager's dashboard on it.
    portfolio_dashboard = (
        selectors.dashboard_list_for_user(user=user)
        .filter(is_builtin=True, role=Role.PORTFOLIO_MANAGER)
        .first()
    )
    config = {
        "dashboard": dashboard_json(dashboard, user=user, widgets=True),
        "kinds": [
            {"key": k.key, "label": k.label, "w": k.width, "h": k.height} for k in kinds_for(user)
        ],
        "portfolios": portfolios,
        "periods": [{"key": k, "label": v} for k, v in PERIODS.items()],
        "default_period": DEFAULT_PERIOD,
        "currencies": currencies,
        "portfolio_dashboard": reverse("dashboards:detail", args=[portfolio_dashboard.pk])
        if portfolio_dashboard
        else None,
        "urls": {
            "widgets": reverse("dashboard-api-widgets", args=[dashboard.pk]),
            "layout": reverse("dashboard-api-layout", args=[dashboard.pk]),
            "versions": reverse("dashboard-api-versions", args=[dashboard.pk]),
            "clone": reverse("dashboard-api-clone", args=[dashboard.pk]),
            "index": reverse("dashboards:index"),
        },
    }
    others = [
        d
        for d in selectors.dashboard_list_for_user(user=user).order_by("-is_builtin", "name")
        if d.pk != dashboard.pk
    ]
    return render(
        request,
        "dashboards/detail.html",
        {"dashboard": dashboard, "config": config, "others": others},
    )
