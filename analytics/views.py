"""HTML pages for portfolios: the entitled list, and one portfolio's overview,
performance, risk and attribution tabs.

The tabs show the portfolio's stored analytics snapshot
(``selectors.portfolio_snapshot``) and never compute analytics in the request: a
missing, pending, failed or stale snapshot is stated in a banner on every tab.
Every tab authorises through ``portfolio_get_for_user`` first (404 for missing and
forbidden alike).

Query parameters: an unknown value of ``window`` or ``by`` is a bad request (400,
a page naming the valid choices). A known window that the snapshot cannot show
(history too short for 5Y, say) is not an error: the page falls back to since
inception and says so in a notice.
"""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Max, OuterRef, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from analytics.models import DERIVED_SOURCE, PositionSnapshot
from analytics.presentation import figures, tables
from analytics.presentation.charts import Chart, chart
from analytics.presentation.theme import MONTHS
from analytics.selectors import portfolios as selectors
from analytics.selectors.entitlements import portfolio_get_for_user, portfolio_list_visible_to
from analytics.services.snapshots import CONFIDENCE
from analytics.services.snapshots.attribution import GROUPINGS as ATTRIBUTION_GROUPINGS
from analytics.services.snapshots.attribution import WINDOWS as ATTRIBUTION_WINDOWS
from analytics.services.snapshots.frames import ATTRIBUTES as EXPOSURE_DIMENSIONS
from analytics.services.snapshots.performance import WINDOWS as METRIC_WINDOWS


@login_required
def portfolio_list(request: HttpRequest) -> HttpResponse:
    latest_date = (
        PositionSnapshot.objects.filter(portfolio=OuterRef("pk"), source=DERIVED_SOURCE)
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
            portfolio__in=as_of_by_id, date__in=set(as_of_by_id.values()), source=DERIVED_SOURCE
        )
        .values("portfolio", "date")
        .annotate(total=Sum("market_value_base"))
        if as_of_by_id[row["portfolio"]] == row["date"]
    }
    for portfolio in portfolios:
        portfolio.net_assets_base = totals.get(portfolio.id)  # type: ignore[attr-defined]  # shown by the list
    return render(request, "analytics/portfolio_list.html", {"portfolios": portfolios})


# ---------------------------------------------------------------------------
# Shared by the snapshot tabs

TABS = (
    ("overview", "Overview", "portfolio-detail"),
    ("performance", "Performance", "portfolio-performance"),
    ("risk", "Risk", "portfolio-risk"),
    ("attribution", "Attribution", "portfolio-attribution"),
)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    url: str
    active: bool


class BadParameter(Exception):
    def __init__(self, name: str, value: str, choices: dict[str, str]) -> None:
        super().__init__(f"unknown {name} {value!r}")
        self.name, self.value, self.choices = name, value, choices


def _parameter(request: HttpRequest, name: str, choices: dict[str, str], default: str) -> str:
    value = request.GET.get(name, default)
    if value not in choices:
        raise BadParameter(name, value, choices)
    return value


def _choices(request: HttpRequest, name: str, labels: dict[str, str], active: str) -> list[Choice]:
    """Links that change one query parameter and keep the others."""
    result = []
    for value, label in labels.items():
        query = request.GET.copy()
        query[name] = value
        result.append(Choice(value, label, f"{request.path}?{query.urlencode()}", value == active))
    return result


def _tab_context(request: HttpRequest, portfolio_id: int, tab: str) -> dict:
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    view = selectors.portfolio_snapshot(portfolio=portfolio)
    return {
        "portfolio": portfolio,
        "view": view,
        "data": view.section("data") or {},
        "tab": tab,
        "tabs": [
            {"key": key, "label": label, "url": reverse(name, args=[portfolio.pk])}
            for key, label, name in TABS
        ],
        "notices": [],
        "charts": {},
    }


def _bad_request(request: HttpRequest, context: dict, error: BadParameter) -> HttpResponse:
    context["error"] = error
    context["choices"] = _choices(request, error.name, error.choices, active="")
    return render(request, "analytics/bad_request.html", context, status=400)


def _with_charts(context: dict, *charts: Chart) -> dict:
    context["charts"].update({chart.id.replace("-", "_"): chart for chart in charts})
    return context


# ---------------------------------------------------------------------------
# Overview


@login_required
def portfolio_detail(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "overview")
    portfolio, view, data = context["portfolio"], context["view"], context["data"]
    context["holdings"] = selectors.portfolio_holdings(portfolio=portfolio)
    series = view.section("series") or {}
    if series.get("net_assets"):
        _with_charts(
            context,
            chart(
                "net-assets",
                "Net assets over time",
                figures.net_assets_figure(
                    series["net_assets"],
                    currency=data.get("base_currency", portfolio.base_currency),
                    gaps=data.get("gaps", []),
                ),
            ),
        )
    if series.get("cumulative"):
        _with_charts(
            context,
            chart(
                "cumulative",
                "Cumulative return, portfolio and benchmark",
                figures.cumulative_return_figure(series, benchmark=data.get("benchmark")),
            ),
        )
    period_returns = view.section("period_returns")
    context["period_reason"] = tables.unavailable_reason(period_returns) if view.snapshot else None
    if period_returns and not context["period_reason"]:
        context["period_columns"], context["period_rows"] = tables.period_table(period_returns)
    return render(request, "analytics/portfolio_detail.html", context)


# ---------------------------------------------------------------------------
# Performance


@login_required
def portfolio_performance(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "performance")
    labels = {name: tables.WINDOW_LABELS[name] for name in METRIC_WINDOWS}
    try:
        window = _parameter(request, "window", labels, "SI")
    except BadParameter as error:
        return _bad_request(request, context, error)
    view = context["view"]
    if view.snapshot is None:
        return render(request, "analytics/portfolio_performance.html", context)

    metrics = view.section("metrics")
    context["metrics_reason"] = tables.unavailable_reason(metrics)
    if not context["metrics_reason"]:
        present = metrics["windows"]
        if window not in present:
            context["notices"].append(
                f"{labels[window]} is not available: the history is too short. "
                f"Showing {labels['SI'].lower()} instead."
            )
            window = "SI" if "SI" in present else next(iter(present))
        chosen = present[window]
        context["window"] = {"key": window, "label": labels[window], **chosen}
        context["window_choices"] = _choices(
            request, "window", {k: v for k, v in labels.items() if k in present}, window
        )
        context["metric_groups"] = tables.metric_groups(metrics, chosen, confidence=CONFIDENCE)
        context["has_benchmark"] = chosen.get("benchmark") is not None

    calendar = view.section("calendar")
    context["calendar_reason"] = tables.unavailable_reason(calendar)
    if not context["calendar_reason"] and calendar.get("portfolio"):
        context["calendar_months"] = MONTHS
        context["calendar_rows"] = tables.calendar_rows(calendar["portfolio"])
        context["benchmark_calendar_rows"] = tables.calendar_rows(calendar.get("benchmark") or {})
        _with_charts(
            context,
            chart(
                "calendar",
                "Monthly returns heatmap",
                figures.calendar_heatmap_figure(calendar["portfolio"]),
                css="chart-auto",
            ),
        )

    drawdowns = view.section("drawdowns")
    context["drawdowns_reason"] = tables.unavailable_reason(drawdowns)
    if not context["drawdowns_reason"]:
        context["drawdowns"] = drawdowns
        _with_charts(
            context,
            chart(
                "underwater",
                "Drawdown from the running peak",
                figures.underwater_figure(drawdowns["underwater"]),
            ),
        )

    rolling = view.section("rolling")
    context["rolling_reason"] = tables.unavailable_reason(rolling)
    if not context["rolling_reason"]:
        if rolling.get("windows"):
            context["rolling_windows"] = sorted(rolling["windows"], key=int)
            _with_charts(
                context,
                chart(
                    "rolling",
                    "Rolling volatility, Sharpe ratio and beta",
                    figures.rolling_figure(rolling),
                    css="chart-auto",
                ),
            )
        else:
            context["rolling_reason"] = "The history is shorter than the shortest rolling window."
    return render(request, "analytics/portfolio_performance.html", context)


# ---------------------------------------------------------------------------
# Risk


def _limits_admin_url(request: HttpRequest, portfolio) -> str | None:
    """Where a staff user sets risk limits: the portfolio's admin page (limits inline)."""
    if not request.user.is_staff:
        return None
    return reverse("admin:analytics_portfolio_change", args=[portfolio.pk])


@login_required
def portfolio_risk(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "risk")
    labels = {name: tables.DIMENSION_LABELS.get(name, name) for name in EXPOSURE_DIMENSIONS}
    try:
        by = _parameter(request, "by", labels, "sector")
    except BadParameter as error:
        return _bad_request(request, context, error)
    portfolio, view = context["portfolio"], context["view"]
    context["limits"] = [
        {**vars(use), "kind": tables.limit_kind(use.metric)}
        for use in selectors.risk_limit_utilisation(portfolio=portfolio, view=view)
    ]
    context["limits_admin_url"] = (
        _limits_admin_url(request, portfolio) if not context["limits"] else None
    )
    if view.snapshot is None:
        return render(request, "analytics/portfolio_risk.html", context)

    var = view.section("var")
    context["var_reason"] = tables.unavailable_reason(var)
    if not context["var_reason"]:
        context["var"] = var
        context["var_rows"] = tables.var_rows(var.get("rows", []))
        context["var_scalings"] = sorted({row["scaling"] for row in var.get("rows", [])})
        backtest = var.get("backtest")
        context["backtest"] = backtest
        if backtest:
            _with_charts(
                context,
                chart(
                    "backtest",
                    "Daily returns against the VaR forecast, exceptions marked",
                    figures.var_backtest_figure(backtest),
                ),
            )

    exposures = view.section("exposures")
    context["exposures_reason"] = tables.unavailable_reason(exposures)
    if not context["exposures_reason"]:
        context["exposures"] = exposures
        context["by"] = {"key": by, "label": labels[by]}
        context["by_choices"] = _choices(request, "by", labels, by)
        rows = (exposures.get("dimensions") or {}).get(by, [])
        context["exposure_rows"] = tables.exposure_rows(rows, by)
        if rows:
            _with_charts(
                context,
                chart(
                    "exposure",
                    f"Long and short exposure by {labels[by].lower()}",
                    figures.exposure_figure(context["exposure_rows"], by="label", label=labels[by]),
                    css="chart-auto",
                ),
            )
    return render(request, "analytics/portfolio_risk.html", context)


# ---------------------------------------------------------------------------
# Attribution


@login_required
def portfolio_attribution(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "attribution")
    by_labels = {name: tables.DIMENSION_LABELS.get(name, name) for name in ATTRIBUTION_GROUPINGS}
    window_labels = {name: tables.WINDOW_LABELS[name] for name in ATTRIBUTION_WINDOWS}
    try:
        by = _parameter(request, "by", by_labels, "sector")
        window = _parameter(request, "window", window_labels, "SI")
    except BadParameter as error:
        return _bad_request(request, context, error)
    view = context["view"]
    if view.snapshot is None:
        return render(request, "analytics/portfolio_attribution.html", context)

    section = view.section("attribution")
    context["attribution_reason"] = tables.unavailable_reason(section)
    if not context["attribution_reason"]:
        grouping = section["groupings"].get(by, {})
        if window not in grouping:
            context["notices"].append(
                f"{window_labels[window]} is not available: the history is too short. "
                f"Showing {window_labels['SI'].lower()} instead."
            )
            window = "SI"
        linked = grouping.get(window)
        context["attribution"] = section
        context["linked"] = linked
        context["by"] = {"key": by, "label": by_labels[by]}
        context["window"] = {"key": window, "label": window_labels[window]}
        context["by_choices"] = _choices(request, "by", by_labels, by)
        context["window_choices"] = _choices(
            request, "window", {k: v for k, v in window_labels.items() if k in grouping}, window
        )
        if linked:
            context["group_rows"] = tables.labelled_rows(linked["groups"], by)
            _with_charts(
                context,
                chart(
                    "effects",
                    "Monthly allocation, selection and interaction effects",
                    figures.attribution_effects_figure(linked["monthly"]),
                ),
            )
        unmeasured = section.get("unmeasured_holdings") or {}
        context["unmeasured"] = tables.unmeasured_rows(unmeasured)

    factors = view.section("factors")
    context["factors_reason"] = tables.unavailable_reason(factors)
    if not context["factors_reason"]:
        context["factors"] = factors
        context["factor_rows"] = tables.factor_rows(factors)
    return render(request, "analytics/portfolio_attribution.html", context)
