"""Trades: every fill of the report period with its realised P&L, slippage,
trader and strategy (``analytics.services.trading``; conventions in
``analytics.engine.trading``).

The table can be long (a busy book has hundreds of thousands of fills a year), so
its rows are produced lazily, once, as the renderer reads them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from analytics.services.trading import TradingReviewData
from reports.blocks._trading import METHOD_OPTION, NO_PERIOD, convention_notes, number, review_of
from reports.blocks.base import Block, BlockContext, PortfolioInput, section_key
from reports.document import Column, Kpi, Section, Table

KIND = "trades"
TITLE = "Trades"


def build(context: BlockContext) -> list[Section]:
    return [_portfolio(context, item) for item in context.portfolios]


def _portfolio(context: BlockContext, item: PortfolioInput) -> Section:
    portfolio = item.portfolio
    base = portfolio.base_currency
    section = Section(
        key=section_key(KIND, portfolio),
        block=KIND,
        title=f"{TITLE} — {portfolio.name}",
        portfolio=portfolio.code,
    )
    data = review_of(context, item)
    if data is None:
        section.unavailable = NO_PERIOD
        return section
    fills = data.review.fills
    if fills.empty:
        section.unavailable = f"No trades in the period ({item.period.label.lower()})."
        return section
    # From the review's totals: unknown (–) when any part is (a missing FX rate), never
    # the sum of the parts that are known.
    total = data.review.by_portfolio.iloc[0]
    section.kpis = [
        Kpi("Trades", len(fills), "integer"),
        Kpi("Realised P&L", number(total["realised_pnl"]), "currency", note=base),
        Kpi("Bought", number(total["bought"]), "currency", note=base),
        Kpi("Sold", number(total["sold"]), "currency", note=base),
    ]
    section.tables.append(
        Table(
            name="trades",
            title="Trades in the period",
            columns=[
                Column("trade_date", "Trade date", "date"),
                Column("instrument", "Instrument"),
                Column("side", "Side"),
                Column("quantity", "Quantity", "number", decimals=0),
                Column("price", "Price", "number", decimals=4),
                Column("currency", "Currency"),
                Column("fees", "Fees", "number"),
                Column("realised_pnl", "Realised P&L", "currency", currency=base),
                Column("slippage_bps", "Slippage", "bps"),
                Column("trader", "Trader"),
                Column("strategy", "Strategy"),
            ],
            rows=_rows(data, fills),
            note="Realised P&L is shown on the fills that closed a position (– for a fill "
            "that only opened one).",
        )
    )
    section.notes.extend(convention_notes(data, base))
    return section


def _rows(data: TradingReviewData, fills: pd.DataFrame) -> Iterator[tuple]:
    ordered = fills.sort_values(["date", "trade"], kind="stable")
    for fill in ordered.itertuples(index=False):
        label = data.instruments.get(int(fill.instrument))
        yield (
            fill.date.date(),
            label.identifier if label else str(fill.instrument),
            "Buy" if fill.side == "buy" else "Sell",
            float(fill.quantity),
            number(fill.price_local),
            fill.currency,
            number(fill.fees_local),
            number(fill.realised_pnl),
            number(fill.slippage_bps),
            fill.trader,
            fill.strategy,
        )


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description="Every trade of the period with its realised P&L, slippage, trader and strategy.",
    build=build,
    options=(METHOD_OPTION,),
)
