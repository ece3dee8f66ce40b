"""The chosen portfolios side by side (the executive overview): net assets in
each base currency, YTD return, 1-day VaR 95 % and current drawdown from each
stored snapshot. Each row links to the portfolio manager's dashboard filtered to
that portfolio."""

from analytics.selectors.portfolios import portfolio_snapshot
from dashboards.widgets.base import WidgetRequest, envelope
from dashboards.widgets.kpis import net_assets_of

TITLE = "Portfolios overview"


def build(request: WidgetRequest) -> dict:
    rows, views = [], []
    for portfolio in request.portfolios:
        view = portfolio_snapshot(portfolio=portfolio)
        views.append(view)
        result = view.result
        rows.append(
            {
                "portfolio": portfolio.pk,
                "code": portfolio.code,
                "name": portfolio.name,
                "currency": portfolio.base_currency,
                "net_assets": net_assets_of(result) if view.snapshot else None,
                "ytd": ((result.get("period_returns") or {}).get("portfolio") or {}).get("ytd"),
                "var_95": (result.get("risk_values") or {}).get("var_95"),
                "drawdown": (result.get("drawdowns") or {}).get("current_drawdown"),
                "stale": view.stale,
            }
        )
    return envelope(
        request,
        title=TITLE,
        views=views,
        table={
            "columns": [
                {"key": "code", "label": "Portfolio"},
                {"key": "net_assets", "label": "Net assets", "numeric": True},
                {"key": "ytd", "label": "YTD", "numeric": True, "percent": True},
                {"key": "var_95", "label": "VaR 95%", "numeric": True, "percent": True},
                {"key": "drawdown", "label": "Drawdown", "numeric": True, "percent": True},
            ],
            "rows": rows,
            "link": "portfolio",
        },
    )
