"""A badge per chosen portfolio: the data's as-of date, completeness (the
fraction of holdings valued on that date, 1 = complete), whether the data is late
and the open data-quality findings by severity, through
``analytics.selectors.ingest.portfolio_data_quality``."""

from analytics.selectors.ingest import portfolio_data_quality
from analytics.selectors.portfolios import portfolio_snapshot
from dashboards.widgets.base import WidgetRequest, envelope

TITLE = "Data quality"


def build(request: WidgetRequest) -> dict:
    items = []
    views = []
    for portfolio in request.portfolios:
        summary = portfolio_data_quality(portfolio=portfolio)
        views.append(portfolio_snapshot(portfolio=portfolio))
        status = "ok"
        if summary.completeness is None:
            status = "unknown"
        elif (
            not summary.is_complete or summary.is_late or summary.findings_by_severity.get("error")
        ):
            status = "warning"
        items.append(
            {
                "portfolio": portfolio.pk,
                "code": portfolio.code,
                "as_of": summary.as_of.isoformat() if summary.as_of else None,
                "data_as_of": summary.data_as_of.isoformat() if summary.data_as_of else None,
                "completeness": summary.completeness,
                "late": summary.is_late,
                "findings": summary.findings_by_severity,
                "status": status,
            }
        )
    return envelope(request, title=TITLE, views=views, items=items)
