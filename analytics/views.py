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

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from analytics.models import SnapshotStatus
from analytics.presentation import figures, tables
from analytics.presentation.charts import Chart
from analytics.presentation.figure_cache import snapshot_chart
from analytics.presentation.theme import MONTHS
from analytics.selectors import portfolios as selectors
from analytics.selectors.entitlements import portfolio_get_for_user
from analytics.selectors.overview import OverviewRow, portfolio_overview
from analytics.services.period_analysis import (
    period_attribution,
    period_cumulative,
    period_metrics,
    period_risk,
    period_slice,
)
from analytics.services.snapshots import CONFIDENCE, snapshot_request
from analytics.services.snapshots.attribution import GROUPINGS as ATTRIBUTION_GROUPINGS
from analytics.services.snapshots.attribution import WINDOWS as ATTRIBUTION_WINDOWS
from analytics.services.snapshots.frames import ATTRIBUTES as EXPOSURE_DIMENSIONS
from analytics.services.snapshots.performance import WINDOWS as METRIC_WINDOWS
from portal.sorting import SortColumn, SortError, rows_sorted, sort_headers, sort_parse


def _alerts_total(row: OverviewRow) -> int | None:
    counts = row.facts.get("open_alerts")
    return None if counts is None else sum(counts.values())


LIST_COLUMNS = (
    SortColumn("code", "Code", lambda r: r.portfolio.code),
    SortColumn("name", "Name", lambda r: r.portfolio.name, css="wide-only"),
    SortColumn(
        "net_assets", "Net assets", lambda r: r.net_assets_reporting, numeric=True, css="num"
    ),
    SortColumn("day", "Day", lambda r: r.day, numeric=True, css="num"),
    SortColumn("mtd", "MTD", lambda r: r.mtd, numeric=True, css="num"),
    SortColumn("ytd", "YTD", lambda r: r.ytd, numeric=True, css="num"),
    SortColumn("active_ytd", "Active YTD", lambda r: r.active_ytd, numeric=True, css="num"),
    SortColumn("alerts", "Open alerts", _alerts_total, numeric=True, css="num"),
    SortColumn("completeness", "Data", lambda r: r.completeness, numeric=True, css="num"),
    SortColumn("as_of", "As of", lambda r: r.as_of, numeric=True, css="wide-only"),
)
REPORTING_CURRENCIES = ("USD", "EUR", "GBP", "CHF", "JPY")


@login_required
def portfolio_list(request: HttpRequest) -> HttpResponse:
    """The entitled portfolios with their returns, alerts and data completeness,
    sortable by any column (``?sort=``), net assets and their total in a chosen
    reporting currency (``?currency=``)."""
    currencies = {code: code for code in REPORTING_CURRENCIES}
    try:
        currency = request.GET.get("currency")
        if currency is not None and currency not in currencies:
            raise BadParameter("currency", currency, currencies)
        sort = sort_parse(request.GET, LIST_COLUMNS, default="code")
    except BadParameter as error:
        context = {"error": error, "choices": _choices(request, error.name, error.choices, "")}
        return render(request, "analytics/portfolio_list_bad_request.html", context, status=400)
    except SortError as error:
        return render(
            request, "analytics/portfolio_list_bad_request.html", {"sort_error": error}, status=400
        )
    overview = portfolio_overview(user=request.user, reporting_currency=currency)
    return render(
        request,
        "analytics/portfolio_list.html",
        {
            "overview": overview,
            "rows": rows_sorted(overview.rows, LIST_COLUMNS, sort),
            "headers": sort_headers(request.GET, LIST_COLUMNS, sort),
            "currencies": _choices(request, "currency", currencies, overview.reporting_currency),
        },
    )


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


def _as_of(request: HttpRequest, portfolio) -> tuple[dt.date | None, dt.date | None]:
    """The as-of date asked for (``?as_of=YYYY-MM-DD``; None: the latest) and the
    portfolio's date with positions on or before it that answers it. A malformed
    date, or one before the portfolio's first positions, is a bad request."""
    raw = request.GET.get("as_of")
    if not raw:
        return None, None
    try:
        asked = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"The as-of date “{raw}” is not a date such as 2024-03-28.") from None
    answered = selectors.portfolio_latest_position_date(portfolio=portfolio, on_or_before=asked)
    if answered is None:
        raise BadRequest(
            f"{portfolio.code} has no positions on or before {asked.isoformat()}; "
            "choose a later as-of date."
        )
    return asked, answered


def _tab_context(request: HttpRequest, portfolio_id: int, tab: str) -> dict:
    """What every tab shows first: the portfolio, the snapshot of the as-of date
    (the latest unless ``?as_of=`` picks a past one) and the tab links, which keep
    the as-of date. A past date without a finished snapshot is queued for
    computing (never computed in the request) and the page says so."""
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    asked, as_of = _as_of(request, portfolio)
    view = selectors.portfolio_snapshot(portfolio=portfolio, as_of=as_of)
    if as_of is not None and view.current_status != SnapshotStatus.DONE:
        snapshot_request(portfolio=portfolio, as_of=as_of)
        view = selectors.portfolio_snapshot(portfolio=portfolio, as_of=as_of)
    keep = f"?{urlencode({'as_of': as_of.isoformat()})}" if as_of else ""
    latest = selectors.portfolio_latest_position_date(portfolio=portfolio)
    return {
        "portfolio": portfolio,
        "view": view,
        "data": view.section("data") or {},
        "tab": tab,
        "tabs": [
            {"key": key, "label": label, "url": reverse(name, args=[portfolio.pk]) + keep}
            for key, label, name in TABS
        ],
        "as_of": {"asked": asked, "answered": as_of, "latest": latest},
        "notices": (
            [f"No positions on {asked.isoformat()}: showing {as_of.isoformat()}, the date before."]
            if asked and as_of and asked != as_of
            else []
        ),
        "charts": {},
    }


def _bad_request(request: HttpRequest, context: dict, error: BadParameter) -> HttpResponse:
    context["error"] = error
    context["choices"] = _choices(request, error.name, error.choices, active="")
    return render(request, "analytics/bad_request.html", context, status=400)


def _snapshot_chart(
    context: dict,
    chart_id: str,
    label: str,
    build: Callable[[], dict[str, Any]],
    css: str = "",
    **params: Any,
) -> Chart:
    """A chart of the tab's (already authorised) snapshot, its figure cached per
    snapshot row, figure, as-of date and ``params``."""
    as_of = context["as_of"]["answered"]
    return snapshot_chart(
        snapshot=context["view"].snapshot,
        chart_id=chart_id,
        label=label,
        build=build,
        css=css,
        as_of=as_of.isoformat() if as_of else None,
        **params,
    )


def _with_charts(context: dict, *charts: Chart) -> dict:
    context["charts"].update({chart.id.replace("-", "_"): chart for chart in charts})
    return context


# ---------------------------------------------------------------------------
# Overview


HOLDINGS_PER_PAGE = 50
HOLDING_COLUMNS = (
    SortColumn("identifier", "Instrument"),
    SortColumn("name", "Name", css="wide-only"),
    SortColumn("sector", "Sector", lambda h: h.sector or h.asset_class, css="wide-only"),
    SortColumn("country", "Country", css="wide-only"),
    SortColumn("currency", "Ccy", css="wide-only"),
    SortColumn("quantity", "Quantity", numeric=True, css="num wide-only"),
    SortColumn("price", "Price", numeric=True, css="num wide-only"),
    SortColumn("value", "Value", lambda h: h.market_value_base, numeric=True, css="num"),
    SortColumn("weight", "Weight", numeric=True, css="num"),
)


@login_required
def portfolio_detail(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "overview")
    portfolio, view, data = context["portfolio"], context["view"], context["data"]
    holdings = selectors.portfolio_holdings(portfolio=portfolio)
    try:
        sort = sort_parse(request.GET, HOLDING_COLUMNS, default="-value")
    except SortError as error:
        return render(
            request, "analytics/portfolio_list_bad_request.html", {"sort_error": error}, status=400
        )
    # Holdings are sorted and paged in memory: weights need every row anyway, and a
    # portfolio holds at most a few thousand lines.
    rows = (
        rows_sorted(holdings.holdings, HOLDING_COLUMNS, sort)
        if "sort" in request.GET
        else holdings.holdings  # largest absolute value first (shorts by size)
    )
    context["holdings"] = holdings
    context["holdings_page"] = Paginator(rows, HOLDINGS_PER_PAGE).get_page(request.GET.get("page"))
    context["holding_headers"] = sort_headers(request.GET, HOLDING_COLUMNS, sort)
    series = view.section("series") or {}
    currency = data.get("base_currency", portfolio.base_currency)
    start = _custom_start(request) if "start" in request.GET else None
    cumulative = series
    if start is not None and series.get("cumulative"):
        # A custom range: the cumulative return restarted on the chosen day, linked
        # from the stored daily returns (no data is loaded).
        ranged = period_cumulative(period_slice(view.result, start=start, end=None))
        reason = tables.unavailable_reason(ranged)
        if reason:
            context["notices"].append(f"Custom range from {start.isoformat()}: {reason}")
        else:
            cumulative = ranged
            context["custom_start"] = start.isoformat()
            context["custom_returns"] = {
                side: ranged[key]["values"][-1]
                for side, key in (
                    ("portfolio", "cumulative"),
                    ("benchmark", "benchmark_cumulative"),
                )
                if ranged.get(key) and ranged[key]["values"]
            }
    if series.get("net_assets"):
        _with_charts(
            context,
            _snapshot_chart(
                context,
                "net-assets",
                "Net assets over time",
                lambda: figures.net_assets_figure(
                    series["net_assets"], currency=currency, gaps=data.get("gaps", [])
                ),
                currency=currency,
            ),
        )
    if series.get("cumulative"):
        _with_charts(
            context,
            _snapshot_chart(
                context,
                "cumulative",
                "Cumulative return, portfolio and benchmark",
                lambda: figures.cumulative_return_figure(
                    cumulative, benchmark=data.get("benchmark")
                ),
                start=context.get("custom_start"),
            ),
        )
    period_returns = view.section("period_returns")
    context["period_reason"] = tables.unavailable_reason(period_returns) if view.snapshot else None
    if period_returns and not context["period_reason"]:
        context["period_columns"], context["period_rows"] = tables.period_table(period_returns)
    return render(request, "analytics/portfolio_detail.html", context)


# ---------------------------------------------------------------------------
# Performance


CUSTOM = "custom"


def _custom_start(request: HttpRequest) -> dt.date:
    """The first return date of a custom metrics window (``?window=custom&start=``);
    it ends on the snapshot's as-of date (pick a past one with ``as_of``)."""
    raw = request.GET.get("start", "")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(
            f"A custom range needs its first day as a date such as 2023-01-02 (got “{raw}”)."
        ) from None


def _metrics_context(
    context: dict,
    request: HttpRequest,
    metrics: dict,
    chosen: dict,
    window: str,
    labels: dict[str, str],
) -> None:
    """The metrics card of one window: a stored one, or a custom range computed by
    ``period_analysis`` from the stored snapshot's daily series (no data is loaded)."""
    label = "Custom range" if window == CUSTOM else labels[window]
    context["window"] = {"key": window, "label": label, **chosen}
    context["window_choices"] = _choices(request, "window", labels, window)
    context["custom_start"] = chosen.get("start") if window == CUSTOM else None
    context["risk_free_label"] = tables.risk_free_label(context["data"], chosen)
    context["metric_groups"] = tables.metric_groups(
        metrics,
        chosen,
        confidence=CONFIDENCE,
        window_label=label,
        risk_free=context["risk_free_label"],
    )
    context["has_benchmark"] = chosen.get("benchmark") is not None


@login_required
def portfolio_performance(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    context = _tab_context(request, portfolio_id, "performance")
    labels = {name: tables.WINDOW_LABELS[name] for name in METRIC_WINDOWS}
    try:
        window = _parameter(request, "window", {**labels, CUSTOM: "Custom range"}, "SI")
    except BadParameter as error:
        return _bad_request(request, context, error)
    view = context["view"]
    if view.snapshot is None:
        return render(request, "analytics/portfolio_performance.html", context)

    metrics = view.section("metrics")
    context["metrics_reason"] = tables.unavailable_reason(metrics)
    custom_start = _custom_start(request) if window == CUSTOM else None
    if not context["metrics_reason"] and custom_start is not None:
        chosen = period_metrics(
            view.result, period_slice(view.result, start=custom_start, end=None)
        )
        context["metrics_reason"] = tables.unavailable_reason(chosen)
        if not context["metrics_reason"]:
            window_labels = {k: v for k, v in labels.items() if k in metrics["windows"]}
            _metrics_context(context, request, metrics, chosen, CUSTOM, window_labels)
    elif not context["metrics_reason"]:
        present = metrics["windows"]
        if window not in present:
            context["notices"].append(
                f"{labels[window]} is not available: the history is too short. "
                f"Showing {labels['SI'].lower()} instead."
            )
            window = "SI" if "SI" in present else next(iter(present))
        window_labels = {k: v for k, v in labels.items() if k in present}
        _metrics_context(context, request, metrics, present[window], window, window_labels)

    calendar = view.section("calendar")
    context["calendar_reason"] = tables.unavailable_reason(calendar)
    if not context["calendar_reason"] and calendar.get("portfolio"):
        context["calendar_months"] = MONTHS
        context["calendar_rows"] = tables.calendar_rows(calendar["portfolio"])
        context["benchmark_calendar_rows"] = tables.calendar_rows(calendar.get("benchmark") or {})
        _with_charts(
            context,
            _snapshot_chart(
                context,
                "calendar",
                "Monthly returns heatmap",
                lambda: figures.calendar_heatmap_figure(calendar["portfolio"]),
                css="chart-auto",
            ),
        )

    drawdowns = view.section("drawdowns")
    context["drawdowns_reason"] = tables.unavailable_reason(drawdowns)
    if not context["drawdowns_reason"]:
        context["drawdowns"] = drawdowns
        _with_charts(
            context,
            _snapshot_chart(
                context,
                "underwater",
                "Drawdown from the running peak",
                lambda: figures.underwater_figure(drawdowns["underwater"]),
            ),
        )

    rolling = view.section("rolling")
    context["rolling_reason"] = tables.unavailable_reason(rolling)
    context["data_risk_free_label"] = tables.risk_free_label(view.section("data") or {})
    if not context["rolling_reason"]:
        if rolling.get("windows"):
            context["rolling_windows"] = sorted(rolling["windows"], key=int)
            _with_charts(
                context,
                _snapshot_chart(
                    context,
                    "rolling",
                    "Rolling volatility, Sharpe ratio and beta",
                    lambda: figures.rolling_figure(rolling),
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
    # A custom range: from the chosen day to the as-of date, computed on the stored
    # daily returns (no data is loaded).
    start = _custom_start(request) if "start" in request.GET else None
    if view.snapshot is not None and view.section("risk_values"):
        custom = None
        if start is not None:
            figures_of_range = period_risk(period_slice(view.result, start=start, end=None))
            context["custom_start"] = start.isoformat()
            reason = tables.unavailable_reason(figures_of_range)
            if reason:
                context["notices"].append(f"Custom range from {start.isoformat()}: {reason}")
            else:
                custom = (f"from {start.isoformat()}", figures_of_range)
        context["risk_window_columns"], context["risk_window_rows"] = tables.risk_window_table(
            view.section("risk_values") or {}, custom
        )
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
                _snapshot_chart(
                    context,
                    "backtest",
                    "Daily returns against the VaR forecast, exceptions marked",
                    lambda: figures.var_backtest_figure(backtest),
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
                _snapshot_chart(
                    context,
                    "exposure",
                    f"Long and short exposure by {labels[by].lower()}",
                    lambda: figures.exposure_figure(
                        context["exposure_rows"], by="label", label=labels[by]
                    ),
                    css="chart-auto",
                    by=by,
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
        window = _parameter(request, "window", {**window_labels, CUSTOM: "Custom range"}, "SI")
    except BadParameter as error:
        return _bad_request(request, context, error)
    custom_start = _custom_start(request) if window == CUSTOM else None
    view = context["view"]
    if view.snapshot is None:
        return render(request, "analytics/portfolio_attribution.html", context)

    section = view.section("attribution")
    context["attribution_reason"] = tables.unavailable_reason(section)
    if not context["attribution_reason"]:
        grouping = section["groupings"].get(by, {})
        linked = None
        if custom_start is not None:
            # The stored monthly attributions whose whole month lies between the
            # chosen day and the as-of date, linked (a stored window when they are one).
            linked = period_attribution(
                section, period_slice(view.result, start=custom_start, end=None), by=by
            )
            reason = tables.unavailable_reason(linked)
            context["custom_start"] = custom_start.isoformat()
            if reason:
                context["notices"].append(
                    f"Custom range from {custom_start.isoformat()}: {reason} "
                    f"Showing {window_labels['SI'].lower()} instead."
                )
                linked, window = None, "SI"
        if linked is None and window not in grouping:
            context["notices"].append(
                f"{window_labels[window]} is not available: the history is too short. "
                f"Showing {window_labels['SI'].lower()} instead."
            )
            window = "SI"
        linked = linked or grouping.get(window)
        context["attribution"] = section
        context["linked"] = linked
        context["by"] = {"key": by, "label": by_labels[by]}
        context["window"] = {
            "key": window,
            "label": "Custom range" if window == CUSTOM else window_labels[window],
        }
        context["by_choices"] = _choices(request, "by", by_labels, by)
        context["window_choices"] = _choices(
            request, "window", {k: v for k, v in window_labels.items() if k in grouping}, window
        )
        if linked:
            context["group_rows"] = tables.labelled_rows(linked["groups"], by)
            _with_charts(
                context,
                _snapshot_chart(
                    context,
                    "effects",
                    "Monthly allocation, selection and interaction effects",
                    lambda: figures.attribution_effects_figure(linked["monthly"]),
                    by=by,
                    window=window,
                    start=context.get("custom_start"),
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
