"""Executive summary: every portfolio of the report on one page — net assets,
returns, risk, open alerts and data freshness — with the total under management.

* **Net assets** on each portfolio's as-of date (the end of its report period),
  the sum of its base-currency market values (``analytics.selectors.portfolios.
  portfolio_value_series``). A date on which a holding has no base value is a gap:
  the portfolio shows no net assets rather than a partial sum. With a reporting
  currency they are converted at the latest FX rate on or before the as-of date
  (``analytics.selectors.fx.rate_to_base_latest``); without one each portfolio
  stays in its base currency and a total is given only when they all share one.
* **Returns** (day, month to date, year to date) and **risk** (annualised
  volatility on one year, 1-day 95 % historical VaR on the last 500 returns, a
  positive fraction) come from the stored snapshot, in the base currency.
* **Open alerts** are those still needing attention (open, acknowledged or
  snoozed; ``compliance.selectors``), by severity; **data freshness** is the data
  status of the as-of date (``analytics.selectors.ingest``).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from analytics.models import RiskLimitMetric
from analytics.selectors.fx import rate_to_base_latest
from analytics.selectors.ingest import portfolio_data_quality
from analytics.selectors.portfolios import portfolio_value_series
from compliance.models import Severity
from compliance.selectors import AlertFilters, alert_list_for_user
from reports.blocks.base import Block, BlockContext, PortfolioInput, section_key
from reports.document import Column, Kpi, Section, Table

KIND = "executive_summary"
TITLE = "Executive summary"


def build(context: BlockContext) -> list[Section]:
    section = Section(key=section_key(KIND, None), block=KIND, title=TITLE)
    if not context.portfolios:
        section.unavailable = "The report has no portfolio you may see."
        return [section]
    included = {item.portfolio.pk for item in context.portfolios}
    alerts = Counter(
        (alert.portfolio_id, alert.severity)
        for alert in alert_list_for_user(user=context.user, filters=AlertFilters(state="active"))
        if alert.portfolio_id in included
    )
    reporting = context.reporting_currency
    rows = []
    totals: dict[str, float] = {}
    missing: list[str] = []
    for item in context.portfolios:
        row, currency, value = _row(item, reporting, alerts)
        rows.append(row)
        if value is None:
            missing.append(item.portfolio.code)
        else:
            totals[currency] = totals.get(currency, 0.0) + value
    single = reporting or (next(iter(totals)) if len(totals) == 1 else None)
    if single is not None and set(totals) <= {single}:
        note = f"{single}; without {', '.join(missing)} (no value)" if missing else single
        section.kpis.append(
            Kpi("Assets under management", totals.get(single, 0.0), "currency", note)
        )
    else:
        section.notes.append(
            "The portfolios are in several base currencies: choose a reporting currency for "
            "a total under management."
        )
    section.kpis.extend(
        [
            Kpi("Portfolios", len(context.portfolios), "integer"),
            Kpi(
                "Open breaches",
                sum(n for (_, s), n in alerts.items() if s == Severity.BREACH),
                "integer",
            ),
            Kpi(
                "Open warnings",
                sum(n for (_, s), n in alerts.items() if s == Severity.WARNING),
                "integer",
            ),
        ]
    )
    section.tables.append(
        Table(
            name="portfolios",
            title="Portfolios",
            # Short headings: thirteen columns must fit a portrait page.
            columns=[
                Column("portfolio", "Portfolio"),
                Column("as_of", "As of", "date"),
                Column("currency", "Ccy"),
                Column("net_assets", "Net assets", "currency"),
                Column("day", "Day", "percent"),
                Column("mtd", "MTD", "percent"),
                Column("ytd", "YTD", "percent"),
                Column("volatility", "Vol. 1Y", "percent", decimals=1),
                Column("var_95", "VaR 95%", "percent"),
                Column("breaches", "Breaches", "integer"),
                Column("warnings", "Warnings", "integer"),
                Column("data_as_of", "Data as of", "date"),
                Column("completeness", "Complete", "percent", decimals=0),
            ],
            rows=rows,
        )
    )
    section.notes.append(
        "Returns (day, month to date, year to date) are time-weighted, in each portfolio's "
        "base currency, to its snapshot's as-of date; Vol. 1Y is the volatility of the last "
        "year annualised (√252, ddof 1); VaR 95% is the 1-day historical VaR of the last 500 "
        "daily returns (a loss, as a positive fraction). Breaches and warnings: compliance "
        "alerts open, acknowledged or snoozed. Complete: the share of holdings valued on the "
        "as-of date."
    )
    if reporting:
        section.notes.append(
            f"Net assets are converted into {reporting} at the latest FX rate on or before "
            "each portfolio's as-of date."
        )
    if missing:
        section.notes.append(
            f"No net assets for {', '.join(missing)}: a holding without a value in the base "
            "currency, no FX rate into the reporting currency, or no positions yet."
        )
    unmeasured = [item.portfolio.code for item in context.portfolios if not item.snapshot.result]
    if unmeasured:
        section.notes.append(
            f"No analytics snapshot yet for {', '.join(unmeasured)}: returns and risk are "
            "shown as missing."
        )
    stale = [item.portfolio.code for item in context.portfolios if item.snapshot.stale]
    if stale:
        section.notes.append(
            f"Analytics of {', '.join(stale)} are from an earlier snapshot: newer data is "
            "being processed."
        )
    return [section]


def _row(
    item: PortfolioInput, reporting: str | None, alerts: Counter
) -> tuple[tuple, str, float | None]:
    """The portfolio's table row, the currency of its net assets and their value."""
    portfolio = item.portfolio
    as_of = item.period.end
    currency = reporting or portfolio.base_currency
    value = _net_assets(item, currency) if as_of is not None else None
    returns = (item.snapshot.section("period_returns") or {}).get("portfolio") or {}
    risk = item.snapshot.section("risk_values") or {}
    quality = portfolio_data_quality(portfolio=portfolio, as_of=as_of)
    row = (
        portfolio.code,
        as_of,
        currency,
        value,
        returns.get("day"),
        returns.get("mtd"),
        returns.get("ytd"),
        risk.get(RiskLimitMetric.VOLATILITY),
        risk.get(RiskLimitMetric.VAR_95),
        alerts.get((portfolio.pk, Severity.BREACH), 0),
        alerts.get((portfolio.pk, Severity.WARNING), 0),
        quality.data_as_of,
        quality.completeness,
    )
    return row, currency, value


def _net_assets(item: PortfolioInput, currency: str) -> float | None:
    portfolio, as_of = item.portfolio, item.period.end
    points = portfolio_value_series(portfolio=portfolio, start=as_of, end=as_of)
    if not points or points[-1].missing_base_values:
        return None
    value: Decimal = points[-1].net_assets_base
    if currency == portfolio.base_currency or as_of is None:
        return float(value)
    rate = rate_to_base_latest(currency=portfolio.base_currency, base=currency, on=as_of)
    return None if rate is None else float(value) * rate


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description=(
        "All portfolios on one page: net assets, returns, volatility, VaR, open alerts and "
        "data freshness, with the total under management."
    ),
    build=build,
    per_portfolio=False,
)
