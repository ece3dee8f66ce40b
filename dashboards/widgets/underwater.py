"""Underwater curve (drawdown from the running peak, ≤ 0) of one portfolio over the
chosen period, with the stored drawdown episodes so that a click on the curve can
show the episode's peak, trough and recovery dates."""

from analytics.presentation import figures
from dashboards.widgets.base import (
    WidgetRequest,
    cut_series,
    envelope,
    last_date,
    period_start,
    single_portfolio,
    unavailable,
)

TITLE = "Drawdown"


def build(request: WidgetRequest) -> dict:
    portfolio, view, empty = single_portfolio(request, TITLE)
    if empty is not None or portfolio is None or view is None:
        return empty or {}
    drawdowns = view.section("drawdowns")
    reason = unavailable(drawdowns)
    if reason or drawdowns is None:
        return envelope(request, title=TITLE, views=[view], message=reason)
    last = last_date(view)
    start = period_start(last, request.period) if last else None
    episodes = [
        {
            "peak": e.get("peak_date"),
            "trough": e.get("trough_date"),
            "recovery": e.get("recovery_date"),
            "depth": e.get("depth"),
        }
        for e in drawdowns.get("episodes", [])
    ]
    return envelope(
        request,
        title=f"{TITLE} · {portfolio.code}",
        views=[view],
        figure=figures.underwater_figure(cut_series(drawdowns["underwater"], start)),
        episodes=episodes,
    )
