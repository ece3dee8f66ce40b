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

import json
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Max, OuterRef, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from plotly.utils import PlotlyJSONEncoder

from analytics.models import DERIVED_SOURCE, AssetClass, PositionSnapshot, RiskLimitMetric
from analytics.presentation import figures
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
        portfolio.net_assets_base = totals.get(portfolio.id)
    return render(request, "analytics/portfolio_list.html", {"portfolios": portfolios})


# ---------------------------------------------------------------------------
# Shared by the snapshot tabs

TABS = (
    ("overview", "Overview", "portfolio-detail"),
    ("performance", "Performance", "portfolio-performance"),
    ("risk", "Risk", "portfolio-risk"),
    ("attribution", "Attribution", "portfolio-attribution"),
)
WINDOW_LABELS = {
    "SI": "Since inception",
    "5Y": "5 years",
    "3Y": "3 years",
    "1Y": "1 year",
    "YTD": "Year to date",
}
DIMENSION_LABELS = {
    "sector": "Sector",
    "industry": "Industry",
    "country": "Country",
    "asset_class": "Asset class",
    "currency": "Currency",
    "issuer": "Issuer",
}


@dataclass(frozen=True)
class Chart:
    """One Plotly figure on a page: ``<div id="{id}-chart">`` drawn from the JSON
    in ``<script id="{id}-figure">`` by static/js/charts.js."""

    id: str
    label: str
    figure: dict
    css: str = ""

    @property
    def script_id(self) -> str:
        return f"{self.id}-figure"


def _chart(chart_id: str, label: str, figure: dict, css: str = "") -> Chart:
    # Through Plotly's encoder once, so json_script gets plain JSON types.
    return Chart(chart_id, label, json.loads(json.dumps(figure, cls=PlotlyJSONEncoder)), css)


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


def _unavailable(section: dict | None) -> str | None:
    """Why a section cannot be shown, or None when it can."""
    if section is None:
        return "This snapshot has no such section."
    if section.get("available") is False:
        return section.get("reason") or "Not available for this portfolio's data."
    return None


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

PERIODS = (  # key, label, short label for phones
    ("day", "Day", "Day"),
    ("mtd", "Month to date", "MTD"),
    ("qtd", "Quarter to date", "QTD"),
    ("ytd", "Year to date", "YTD"),
    ("1y", "1 year", "1Y"),
    ("3y", "3 years, ann.", "3Y ann."),
    ("5y", "5 years, ann.", "5Y ann."),
    ("since_inception", "Since inception", "SI"),
)
PERIOD_SERIES = (
    ("portfolio", "Portfolio"),
    ("benchmark", "Benchmark"),
    ("active_arithmetic", "Active"),
    ("active_geometric", "Active, geometric"),
)


def _period_table(section: dict) -> tuple[list[dict], list[dict]]:
    """Columns (portfolio, benchmark, active) and rows (periods) of the period-returns
    table; periods run down the page so the table fits a phone. Each column says
    whether its since-inception figure is annualised (GIPS: only for a history of a
    year or more) or cumulative; the active columns follow the portfolio."""
    portfolio = section.get("portfolio", {})
    columns = []
    for key, label in PERIOD_SERIES:
        values = section.get(key)
        if values is None:
            continue
        basis = values if "since_inception_annualised" in values else portfolio
        columns.append(
            {
                "key": key,
                "label": label,
                "values": values,
                "active": key.startswith("active"),
                "annualised": basis.get("since_inception_annualised"),
                "years": basis.get("since_inception_years"),
            }
        )
    for column in columns:  # marked on its cell only where it differs from the row's
        column["basis_differs"] = column["annualised"] != columns[0]["annualised"]
    rows = [
        {
            "key": period,
            "label": label,
            "short_label": short_label,
            "cells": [{**column, "value": column["values"].get(period)} for column in columns],
        }
        for period, label, short_label in PERIODS
    ]
    return columns, rows


@login_required
def portfolio_detail(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "overview")
    portfolio, view, data = context["portfolio"], context["view"], context["data"]
    context["holdings"] = selectors.portfolio_holdings(portfolio=portfolio)
    series = view.section("series") or {}
    if series.get("net_assets"):
        _with_charts(
            context,
            _chart(
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
            _chart(
                "cumulative",
                "Cumulative return, portfolio and benchmark",
                figures.cumulative_return_figure(series, benchmark=data.get("benchmark")),
            ),
        )
    period_returns = view.section("period_returns")
    context["period_reason"] = _unavailable(period_returns) if view.snapshot else None
    if period_returns and not context["period_reason"]:
        context["period_columns"], context["period_rows"] = _period_table(period_returns)
    return render(request, "analytics/portfolio_detail.html", context)


# ---------------------------------------------------------------------------
# Performance

METRIC_GROUPS = (
    (
        "Return",
        (
            ("cumulative_return", "Cumulative return", "percent"),
            ("cagr", "Annualised return (CAGR)", "percent"),
        ),
    ),
    (
        "Risk",
        (
            ("annual_volatility", "Volatility (annualised)", "percent"),
            ("downside_deviation", "Downside deviation (annualised)", "percent"),
            ("max_drawdown", "Maximum drawdown", "percent"),
            ("max_drawdown_duration", "Longest drawdown (valuation days)", "days"),
        ),
    ),
    (
        "Risk-adjusted",
        (
            ("sharpe", "Sharpe ratio", "ratio"),
            ("sortino", "Sortino ratio", "ratio"),
            ("calmar", "Calmar ratio", "ratio"),
            ("omega", "Omega ratio", "ratio"),
        ),
    ),
    (
        "Distribution and tail (1 day, {confidence})",
        (
            ("skew", "Skewness", "ratio"),
            ("kurtosis", "Excess kurtosis", "ratio"),
            ("tail_ratio", "Tail ratio", "ratio"),
            ("var_historical", "VaR, historical", "percent"),
            ("cvar_historical", "CVaR, historical", "percent"),
            ("var_normal", "VaR, normal", "percent"),
            ("cvar_normal", "CVaR, normal", "percent"),
            ("var_cornish_fisher", "VaR, Cornish-Fisher", "percent"),
        ),
    ),
    (
        "Relative to the benchmark",
        (
            ("beta", "Beta", "ratio"),
            ("alpha", "Alpha (annualised)", "percent"),
            ("correlation", "Correlation", "ratio"),
            ("tracking_error", "Tracking error (annualised)", "percent"),
            ("information_ratio", "Information ratio", "ratio"),
            ("up_capture", "Up capture", "ratio"),
            ("down_capture", "Down capture", "ratio"),
        ),
    ),
    ("Sample", (("n_obs", "Daily returns used", "count"),)),
)


def _metric_groups(section: dict, window: dict) -> list[dict]:
    definitions = section.get("definitions", {})
    portfolio, benchmark = window.get("portfolio") or {}, window.get("benchmark") or {}
    return [
        {
            "label": title.format(confidence=f"{CONFIDENCE:.0%}"),
            "rows": [
                {
                    "key": key,
                    "label": label,
                    "kind": kind,
                    "definition": definitions.get(key, ""),
                    "portfolio": portfolio.get(key),
                    "benchmark": benchmark.get(key),
                }
                for key, label, kind in rows
            ],
        }
        for title, rows in METRIC_GROUPS
    ]


def _calendar_rows(calendar: dict[str, list]) -> list[dict]:
    return [
        {"year": year, "months": values[:12], "year_return": values[12]}
        for year, values in sorted(calendar.items(), reverse=True)
    ]


@login_required
def portfolio_performance(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "performance")
    labels = {name: WINDOW_LABELS[name] for name in METRIC_WINDOWS}
    try:
        window = _parameter(request, "window", labels, "SI")
    except BadParameter as error:
        return _bad_request(request, context, error)
    view = context["view"]
    if view.snapshot is None:
        return render(request, "analytics/portfolio_performance.html", context)

    metrics = view.section("metrics")
    context["metrics_reason"] = _unavailable(metrics)
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
        context["metric_groups"] = _metric_groups(metrics, chosen)
        context["has_benchmark"] = chosen.get("benchmark") is not None

    calendar = view.section("calendar")
    context["calendar_reason"] = _unavailable(calendar)
    if not context["calendar_reason"] and calendar.get("portfolio"):
        context["calendar_months"] = figures.MONTHS
        context["calendar_rows"] = _calendar_rows(calendar["portfolio"])
        context["benchmark_calendar_rows"] = _calendar_rows(calendar.get("benchmark") or {})
        _with_charts(
            context,
            _chart(
                "calendar",
                "Monthly returns heatmap",
                figures.calendar_heatmap_figure(calendar["portfolio"]),
                css="chart-auto",
            ),
        )

    drawdowns = view.section("drawdowns")
    context["drawdowns_reason"] = _unavailable(drawdowns)
    if not context["drawdowns_reason"]:
        context["drawdowns"] = drawdowns
        _with_charts(
            context,
            _chart(
                "underwater",
                "Drawdown from the running peak",
                figures.underwater_figure(drawdowns["underwater"]),
            ),
        )

    rolling = view.section("rolling")
    context["rolling_reason"] = _unavailable(rolling)
    if not context["rolling_reason"]:
        if rolling.get("windows"):
            context["rolling_windows"] = sorted(rolling["windows"], key=int)
            _with_charts(
                context,
                _chart(
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

VAR_METHODS = {
    "historical": "Historical",
    "normal": "Normal",
    "cornish_fisher": "Cornish-Fisher",
    "monte_carlo": "Monte Carlo",
}
RATIO_LIMITS = {RiskLimitMetric.BETA}


def _var_rows(rows: list[dict]) -> list[dict]:
    order = list(VAR_METHODS)

    def position(row: dict) -> tuple:
        method = order.index(row["method"]) if row["method"] in order else len(order)
        return (row["confidence"], row["horizon"], method)

    return [
        {**row, "method_label": VAR_METHODS.get(row["method"], row["method"])}
        for row in sorted(rows, key=position)
    ]


def _labelled(rows: list[dict], by: str) -> list[dict]:
    """Rows of a by-group table with a display ``label`` (cash has no sector: "(none)")."""
    labels = dict(AssetClass.choices) if by == "asset_class" else {}
    return [{**row, "label": labels.get(row[by], row[by]) or "(none)"} for row in rows]


def _limits_admin_url(request: HttpRequest, portfolio) -> str | None:
    """Where a staff user sets risk limits: the portfolio's admin page (limits inline)."""
    if not request.user.is_staff:
        return None
    return reverse("admin:analytics_portfolio_change", args=[portfolio.pk])


@login_required
def portfolio_risk(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "risk")
    labels = {name: DIMENSION_LABELS.get(name, name) for name in EXPOSURE_DIMENSIONS}
    try:
        by = _parameter(request, "by", labels, "sector")
    except BadParameter as error:
        return _bad_request(request, context, error)
    portfolio, view = context["portfolio"], context["view"]
    context["limits"] = [
        {**vars(use), "kind": "ratio" if use.metric in RATIO_LIMITS else "percent"}
        for use in selectors.risk_limit_utilisation(portfolio=portfolio, view=view)
    ]
    context["limits_admin_url"] = (
        _limits_admin_url(request, portfolio) if not context["limits"] else None
    )
    if view.snapshot is None:
        return render(request, "analytics/portfolio_risk.html", context)

    var = view.section("var")
    context["var_reason"] = _unavailable(var)
    if not context["var_reason"]:
        context["var"] = var
        context["var_rows"] = _var_rows(var.get("rows", []))
        context["var_scalings"] = sorted({row["scaling"] for row in var.get("rows", [])})
        backtest = var.get("backtest")
        context["backtest"] = backtest
        if backtest:
            _with_charts(
                context,
                _chart(
                    "backtest",
                    "Daily returns against the VaR forecast, exceptions marked",
                    figures.var_backtest_figure(backtest),
                ),
            )

    exposures = view.section("exposures")
    context["exposures_reason"] = _unavailable(exposures)
    if not context["exposures_reason"]:
        context["exposures"] = exposures
        context["by"] = {"key": by, "label": labels[by]}
        context["by_choices"] = _choices(request, "by", labels, by)
        rows = (exposures.get("dimensions") or {}).get(by, [])
        context["exposure_rows"] = _labelled(
            sorted(rows, key=lambda row: -(row["gross"] or 0.0)), by
        )
        if rows:
            _with_charts(
                context,
                _chart(
                    "exposure",
                    f"Long and short exposure by {labels[by].lower()}",
                    figures.exposure_figure(context["exposure_rows"], by="label", label=labels[by]),
                    css="chart-auto",
                ),
            )
    return render(request, "analytics/portfolio_risk.html", context)


# ---------------------------------------------------------------------------
# Attribution

FACTOR_LABELS = {
    "alpha": "Alpha (monthly)",
    "Mkt-RF": "Market (Mkt−RF)",
    "SMB": "Size (SMB)",
    "HML": "Value (HML)",
}


def _factor_rows(section: dict) -> list[dict]:
    names = list(section.get("coefficients", {}))
    names.sort(key=lambda name: (name != "alpha", name != "Mkt-RF", name))
    return [
        {
            "name": name,
            "label": FACTOR_LABELS.get(name, name),
            "coefficient": section["coefficients"].get(name),
            "standard_error": section.get("standard_errors", {}).get(name),
            "t_stat": section.get("t_stats", {}).get(name),
            "contribution": section.get("total_contributions", {}).get(name),
        }
        for name in names
    ]


@login_required
def portfolio_attribution(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "attribution")
    by_labels = {name: DIMENSION_LABELS.get(name, name) for name in ATTRIBUTION_GROUPINGS}
    window_labels = {name: WINDOW_LABELS[name] for name in ATTRIBUTION_WINDOWS}
    try:
        by = _parameter(request, "by", by_labels, "sector")
        window = _parameter(request, "window", window_labels, "SI")
    except BadParameter as error:
        return _bad_request(request, context, error)
    view = context["view"]
    if view.snapshot is None:
        return render(request, "analytics/portfolio_attribution.html", context)

    section = view.section("attribution")
    context["attribution_reason"] = _unavailable(section)
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
            context["group_rows"] = _labelled(linked["groups"], by)
            _with_charts(
                context,
                _chart(
                    "effects",
                    "Monthly allocation, selection and interaction effects",
                    figures.attribution_effects_figure(linked["monthly"]),
                ),
            )
        unmeasured = section.get("unmeasured_holdings") or {}
        # {side: {period: holdings dropped}}: rows without a close or rate at either end.
        context["unmeasured"] = [
            {"side": side, "holdings": sum(periods.values()), "months": sorted(periods)}
            for side, periods in unmeasured.items()
            if periods
        ]

    factors = view.section("factors")
    context["factors_reason"] = _unavailable(factors)
    if not context["factors_reason"]:
        context["factors"] = factors
        context["factor_rows"] = _factor_rows(factors)
    return render(request, "analytics/portfolio_attribution.html", context)
