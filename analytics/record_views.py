"""HTML pages of a portfolio's long record tables: its trades and its data-quality
findings.

Both sort by any column in the database and page on the server; the sort
(``?sort=<key>`` or ``?sort=-<key>``), the page (``?page=``) and the filters all
sit in the URL, and every link keeps the others, so a link reproduces the view.
An unknown sort key is a bad request (400) naming the valid ones; filters that do
not validate are shown with their errors and the table is not filtered by them.
Both pages authorise through ``portfolio_get_for_user`` first (404 for missing
and forbidden alike).
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analytics.forms import FindingFilterForm, TradeFilterForm
from analytics.selectors.entitlements import portfolio_get_for_user
from analytics.selectors.records import portfolio_findings, portfolio_trades
from portal.sorting import Sort, SortColumn, SortError, queryset_sorted, sort_headers, sort_parse

PER_PAGE = 50

TRADE_COLUMNS = (
    SortColumn("trade_date", "Trade date", numeric=True),
    SortColumn("settle_date", "Settles", numeric=True, css="wide-only"),
    SortColumn("instrument", "Instrument", field="instrument__identifier"),
    SortColumn("side", "Side"),
    SortColumn("quantity", "Quantity", numeric=True, css="num"),
    SortColumn("price", "Price", numeric=True, css="num wide-only"),
    SortColumn("value", "Value", field="gross_value", numeric=True, css="num"),
    SortColumn("fees", "Fees", numeric=True, css="num wide-only"),
    SortColumn("trader", "Trader", field="trader_name", css="wide-only"),
    SortColumn("strategy", "Strategy", css="wide-only"),
)
TRADE_DEFAULT_SORT = "-trade_date"

FINDING_COLUMNS = (
    # "severity_order" (``findings_for_portfolios``): errors, warnings, then notes.
    SortColumn("severity", "Severity", field="severity_order"),
    SortColumn("kind", "Kind", field="kind_label"),
    SortColumn("date", "Date", numeric=True),
    SortColumn("instrument", "Instrument", field="instrument__identifier", css="wide-only"),
    SortColumn("message", "Finding"),
    SortColumn("resolved", "Resolved", field="resolved_at", numeric=True, css="wide-only"),
)
FINDING_DEFAULT_SORT = "severity"
"""Without ``?sort=`` the findings keep the selector's order: most severe first,
then the most recent."""


def _page(request: HttpRequest, rows: QuerySet, columns, sort: Sort, *, always: bool):
    if always or "sort" in request.GET:
        rows = queryset_sorted(rows, columns, sort)
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


def _table_context(request: HttpRequest, columns, sort: Sort) -> dict:
    return {
        "headers": sort_headers(request.GET, columns, sort),
        "sort_columns": columns,
        "sort": sort.param,
        "sort_asked": "sort" in request.GET,
    }


def _bad_sort(request: HttpRequest, error: SortError) -> HttpResponse:
    return render(
        request, "analytics/portfolio_list_bad_request.html", {"sort_error": error}, status=400
    )


@login_required
def portfolio_trades_page(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    """The portfolio's trades, newest first; filter by side, instrument and dates."""
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    try:
        sort = sort_parse(request.GET, TRADE_COLUMNS, default=TRADE_DEFAULT_SORT)
    except SortError as error:
        return _bad_sort(request, error)
    form = TradeFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    trades = portfolio_trades(
        portfolio=portfolio,
        side=filters.get("side", ""),
        instrument=(filters.get("instrument") or "").strip(),
        start=filters.get("start"),
        end=filters.get("end"),
    )
    return render(
        request,
        "analytics/portfolio_trades.html",
        {
            "portfolio": portfolio,
            "form": form,
            "page": _page(request, trades, TRADE_COLUMNS, sort, always=True),
            **_table_context(request, TRADE_COLUMNS, sort),
        },
    )


@login_required
def portfolio_findings_page(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    """Every data-quality finding about the portfolio (open ones by default; the
    overview shows only the first few); filter by status, severity and kind."""
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    try:
        sort = sort_parse(request.GET, FINDING_COLUMNS, default=FINDING_DEFAULT_SORT)
    except SortError as error:
        return _bad_sort(request, error)
    data = request.GET.copy()
    data.setdefault("status", "open")
    form = FindingFilterForm(data)
    filters = form.cleaned_data if form.is_valid() else {}
    findings = portfolio_findings(
        portfolio=portfolio,
        kind=filters.get("kind", ""),
        severity=filters.get("severity", ""),
        status=filters.get("status") or "open",
    )
    return render(
        request,
        "analytics/portfolio_findings.html",
        {
            "portfolio": portfolio,
            "form": form,
            "page": _page(request, findings, FINDING_COLUMNS, sort, always=False),
            **_table_context(request, FINDING_COLUMNS, sort),
        },
    )
