"""The chosen portfolios side by side (the executive overview): net assets in
each base currency, or all in the dashboard's currency when one is chosen (each at
the latest rate on or before its snapshot's as-of date, as the portfolio overview
converts AUM; a portfolio without a rate stays in its base currency, labelled so,
and is named in ``currency_note``), YTD return, 1-day VaR 95 % and current drawdown from each
stored snapshot. Each row links to the portfolio manager's dashboard filtered to
that portfolio."""

from analytics.selectors.portfolios import portfolio_snapshot
from dashboards.widgets.base import WidgetRequest, envelope, money_in
from dashboards.widgets.kpis import net_assets_of

TITLE = "Portfolios overview"


def build(request: WidgetRequest) -> dict:
    rows, views, notes = [], [], []
    for portfolio in request.portfolios:
        view = portfolio_snapshot(portfolio=portfolio)
        views.append(view)
        result = view.result
        money = money_in(
            request,
            base=portfolio.base_currency,
            on=view.snapshot.as_of if view.snapshot else None,
        )
        if money.note and view.snapshot:
            notes.append(f"{portfolio.code}: {money.note}")
        rows.append(
            {
                "portfolio": portfolio.pk,
                "code": portfolio.code,
                "name": portfolio.name,
                "currency": money.currency,
                "net_assets": money.of(net_assets_of(result)) if view.snapshot else None,
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
        currency=request.currency,
        currency_note=" ".join(notes),
        table={
            "columns": [
                {"key": "code", "label": "Portfolio"},
                {
                    "key": "net_assets",
                    "label": f"Net assets ({request.currency})"
                    if request.currency
                    else "Net assets",
                    "numeric": True,
                },
                {"key": "ytd", "label": "YTD", "numeric": True, "percent": True},
                {"key": "var_95", "label": "VaR 95%", "numeric": True, "percent": True},
                {"key": "drawdown", "label": "Drawdown", "numeric": True, "percent": True},
            ],
            "rows": rows,
            "link": "portfolio",
        },
    )
