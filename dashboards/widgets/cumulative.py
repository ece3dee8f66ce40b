"""Cumulative time-weighted return of one portfolio against its benchmark over
the chosen period, restated to start at 0 % on the period's first date."""

from analytics.presentation import figures
from dashboards.widgets.base import (
    WidgetRequest,
    cut_series,
    envelope,
    last_date,
    period_start,
    rebase_cumulative,
    single_portfolio,
)

TITLE = "Cumulative return vs benchmark"


def build(request: WidgetRequest) -> dict:
    portfolio, view, empty = single_portfolio(request, TITLE)
    if empty is not None or portfolio is None or view is None:
        return empty or {}
    series = view.section("series") or {}
    if not series.get("cumulative"):
        return envelope(request, title=TITLE, views=[view], message="No returns measured yet.")
    last = last_date(view)
    start = period_start(last, request.period) if last else None
    shown = {"cumulative": rebase_cumulative(cut_series(series["cumulative"], start))}
    if request.benchmark and series.get("benchmark_cumulative"):
        shown["benchmark_cumulative"] = rebase_cumulative(
            cut_series(series["benchmark_cumulative"], start)
        )
    benchmark = (view.section("data") or {}).get("benchmark")
    return envelope(
        request,
        title=f"{TITLE} · {portfolio.code}",
        views=[view],
        figure=figures.cumulative_return_figure(shown, benchmark=benchmark),
    )
