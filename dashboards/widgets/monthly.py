"""Monthly returns of one portfolio as a years × months heatmap with each calendar
year's return (every stored year: the heatmap is the long view)."""

from analytics.presentation import figures
from dashboards.widgets.base import WidgetRequest, envelope, single_portfolio, unavailable

TITLE = "Monthly returns"


def build(request: WidgetRequest) -> dict:
    portfolio, view, empty = single_portfolio(request, TITLE)
    if empty is not None or portfolio is None or view is None:
        return empty or {}
    calendar = view.section("calendar")
    reason = unavailable(calendar)
    if reason or calendar is None or not calendar.get("portfolio"):
        return envelope(request, title=TITLE, views=[view], message=reason or "No full month yet.")
    return envelope(
        request,
        title=f"{TITLE} · {portfolio.code}",
        views=[view],
        figure=figures.calendar_heatmap_figure(calendar["portfolio"]),
    )
