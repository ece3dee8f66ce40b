"""The 1-day VaR backtest of one portfolio: each day's return against the previous
day's VaR forecast, exceptions marked (``var.backtest`` of the snapshot)."""

from analytics.presentation import figures
from dashboards.widgets.base import (
    WidgetRequest,
    envelope,
    last_date,
    period_start,
    single_portfolio,
    unavailable,
)

TITLE = "VaR and exceptions"


def build(request: WidgetRequest) -> dict:
    portfolio, view, empty = single_portfolio(request, TITLE)
    if empty is not None or portfolio is None or view is None:
        return empty or {}
    var = view.section("var")
    reason = unavailable(var)
    backtest = (var or {}).get("backtest")
    if reason or not backtest:
        return envelope(
            request,
            title=TITLE,
            views=[view],
            message=reason or "Not enough history to backtest the VaR forecast yet.",
        )
    last = last_date(view)
    start = period_start(last, request.period) if last else None
    if start is not None:
        first = start.isoformat()
        keep = [i for i, date in enumerate(backtest["dates"]) if date >= first]
        backtest = {
            **backtest,
            "dates": [backtest["dates"][i] for i in keep],
            "returns": [backtest["returns"][i] for i in keep],
            "forecasts": [backtest["forecasts"][i] for i in keep],
            "exception_dates": [d for d in backtest.get("exception_dates", []) if d >= first],
        }
    return envelope(
        request,
        title=f"{TITLE} · {portfolio.code}",
        views=[view],
        figure=figures.var_backtest_figure(backtest),
        exceptions=len(backtest.get("exception_dates", [])),
    )
