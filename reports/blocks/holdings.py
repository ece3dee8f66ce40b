"""Holdings: what each portfolio holds at the end of the report period.

Read through ``analytics.selectors.portfolios.portfolio_holdings`` (the derived
positions at the close of the latest date with positions on or before the
period's end): instrument, identifier, sector, country, currency, quantity, the
close used, the market value in the portfolio's base currency and the weight
(a fraction of net assets, cash included, shorts negative). Largest weight first;
a holding without a base value (no FX rate) has no weight and comes last.
"""

from __future__ import annotations

from analytics.selectors.portfolios import portfolio_holdings
from reports.blocks.base import Block, BlockContext, PortfolioInput, section_key
from reports.document import Column, Kpi, Section, Table

KIND = "holdings"
TITLE = "Holdings"


def build(context: BlockContext) -> list[Section]:
    return [_portfolio(item) for item in context.portfolios]


def _portfolio(item: PortfolioInput) -> Section:
    portfolio = item.portfolio
    section = Section(
        key=section_key(KIND, portfolio),
        block=KIND,
        title=f"{TITLE} — {portfolio.name}",
        portfolio=portfolio.code,
    )
    view = portfolio_holdings(portfolio=portfolio, as_of=item.period.end)
    if view.as_of is None or not view.holdings:
        section.unavailable = "The portfolio has no positions on or before the end of the period."
        return section
    base = portfolio.base_currency
    holdings = sorted(
        view.holdings,
        key=lambda h: (h.weight is None, -(h.weight if h.weight is not None else 0.0)),
    )
    section.kpis = [
        Kpi("Net assets", float(view.net_assets_base), "currency", note=base),
        Kpi("Holdings", len(holdings), "integer"),
        Kpi("Largest weight", holdings[0].weight, "percent", note=holdings[0].identifier),
    ]
    section.tables.append(
        Table(
            name="holdings",
            title=f"Holdings on {view.as_of.isoformat()}",
            columns=[
                Column("instrument", "Instrument"),
                Column("identifier", "Identifier"),
                Column("sector", "Sector"),
                Column("country", "Country"),
                Column("currency", "Currency"),
                Column("quantity", "Quantity", "number", decimals=0),
                Column("price", "Price", "number", decimals=4),
                Column("market_value", "Market value", "currency", currency=base),
                Column("weight", "Weight", "percent"),
            ],
            rows=[
                (
                    h.name,
                    h.identifier,
                    h.sector,
                    h.country,
                    h.currency,
                    float(h.quantity),
                    None if h.price is None else float(h.price),
                    None if h.market_value_base is None else float(h.market_value_base),
                    h.weight,
                )
                for h in holdings
            ],
            note=f"Total: {float(view.net_assets_base):,.2f} {base} in {len(holdings)} holdings.",
        )
    )
    section.notes.append(
        f"Positions at the close of {view.as_of.isoformat()}, derived from the trades; prices "
        "are closes in the instrument's currency, market values in the base currency "
        f"({base}); weights are fractions of net assets (cash included, shorts negative)."
    )
    if view.missing_base_values:
        section.notes.append(
            f"{view.missing_base_values} holding(s) have no value in {base} (a missing FX "
            "rate): they are listed without a value or weight and left out of net assets."
        )
    return section


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Every holding at the end of the period: quantity, price, market value and weight.",
    build=build,
)
