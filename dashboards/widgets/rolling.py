"""Rolling annualised volatility, Sharpe ratio and beta of one portfolio (the
windows the snapshot stores), cut to the chosen period."""

from analytics.presentation import figures
from dashboards.widgets.base import (
    WidgetRequest,
    envelope,
    last_date,
    period_start,
    single_portfolio,
    unavailable,
)

TITLE = "Rolling risk"


def build(request: WidgetRequest) -> dict:
    portfolio, view, empty = single_portfolio(request, TITLE)
    if empty is not None or portfolio is None or view is None:
        return empty or {}
    rolling = view.section("rolling")
    reason = unavailable(rolling)
    if reason or rolling is None or not rolling.get("windows"):
        return envelope(request, title=TITLE, views=[view], message=reason or "No full window yet.")
    last = last_date(view)
    start = period_start(last, request.period) if last else None
    if start is not None:
        first = start.isoformat()
        keep = [i for i, date in enumerate(rolling["dates"]) if date >= first]
        rolling = {
            "dates": [rolling["dates"][i] for i in keep],
            "windows": {
                window: {name: [values[i] for i in keep] for name, values in series.items()}
                for window, series in rolling["windows"].items()
            },
        }
    return envelope(
        request,
        title=f"{TITLE} · {portfolio.code}",
        views=[view],
        figure=figures.rolling_figure(rolling),
    )
