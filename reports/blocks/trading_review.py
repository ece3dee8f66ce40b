"""Trading review: is each strategy (and each trader) making money, and at what
cost? Per portfolio over the report period, from ``analytics.services.trading``
(every convention is stated in ``analytics.engine.trading``): realised P&L by the
template's lot method, the change in unrealised P&L, contribution to return, hit
rate and win/loss ratio of the closed round trips, average holding period,
turnover and slippage against the close.
"""

from __future__ import annotations

import pandas as pd

from analytics.presentation.figures import pnl_by_group_figure
from reports.blocks._trading import METHOD_OPTION, NO_PERIOD, convention_notes, number, review_of
from reports.blocks.base import Block, BlockContext, PortfolioInput, section_key
from reports.document import Column, Figure, Kpi, Section, SheetChart, Table

KIND = "trading_review"
TITLE = "Trading review"


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
    review = data.review
    if review.by_portfolio.empty:
        section.unavailable = "No trades in the period and no position carried into it."
        return section
    total = review.by_portfolio.iloc[0]
    section.kpis = [
        Kpi("Total P&L", number(total["total_pnl"]), "currency", note=base),
        Kpi("Realised P&L", number(total["realised_pnl"]), "currency", note=base),
        Kpi("Contribution to return", number(total["contribution"]), "percent"),
        Kpi("Hit rate", number(total["hit_rate"]), "percent"),
        Kpi("Turnover", number(total["turnover"]), "percent"),
        Kpi("Slippage", number(total["slippage_bps"]), "bps"),
    ]
    for name, title, key in (
        ("by_strategy", "By strategy", "strategy"),
        ("by_trader", "By trader", "trader"),
    ):
        frame = review.by_strategy if key == "strategy" else review.by_trader
        table = _table(name, title, key, frame, base)
        if key == "strategy":
            table.chart = SheetChart(
                "column", "P&L by strategy", x="strategy", series=("realised_pnl", "total_pnl")
            )
        section.tables.append(table)
    section.figures.append(
        Figure(
            name="pnl_by_strategy",
            title="P&L by strategy",
            figure=pnl_by_group_figure(
                [
                    {
                        "name": row.strategy,
                        "realised_pnl": number(row.realised_pnl),
                        "unrealised_pnl_change": number(row.unrealised_pnl_change),
                        "total_pnl": number(row.total_pnl),
                    }
                    for row in review.by_strategy.itertuples(index=False)
                ],
                label="Strategy",
                currency=base,
            ),
            description=(
                f"Realised and unrealised P&L of each strategy over the period, in {base}, "
                "with the total marked."
            ),
        )
    )
    section.notes.append(
        "Total P&L = realised + change in unrealised (marked at the latest close on or before "
        "each date): the mark-to-market gain of the period. Contribution = total P&L ÷ the "
        "portfolio's average net assets over the period; turnover = min(bought, sold) ÷ the "
        "same average. Hit rate: closed round trips with a gain ÷ all closed round trips; "
        "win/loss: average gain ÷ average loss; holding period in calendar days, weighted "
        "by quantity. Trips: closed round trips; Unrealised Δ: the change in unrealised P&L."
    )
    section.notes.extend(convention_notes(data, base))
    return section


def _table(name: str, title: str, key: str, frame: pd.DataFrame, base: str) -> Table:
    ordered = frame.sort_values("total_pnl", ascending=False, na_position="last")
    # Short headings, the currency in the title: eleven columns must fit a portrait page.
    return Table(
        name=name,
        title=f"{title} ({base})",
        columns=[
            Column(key, key.capitalize()),
            Column("realised_pnl", "Realised", "currency"),
            Column("unrealised_pnl_change", "Unrealised Δ", "currency"),
            Column("total_pnl", "Total P&L", "currency"),
            Column("contribution", "Contrib.", "percent"),
            Column("round_trips", "Trips", "integer"),
            Column("hit_rate", "Hit rate", "percent", decimals=0),
            Column("win_loss_ratio", "Win/loss", "ratio"),
            Column("average_holding_days", "Held (days)", "days", decimals=0),
            Column("turnover", "Turnover", "percent"),
            Column("slippage_bps", "Slip. (bp)", "bps"),
        ],
        rows=[
            (
                getattr(row, key) or "(none)",
                number(row.realised_pnl),
                number(row.unrealised_pnl_change),
                number(row.total_pnl),
                number(row.contribution),
                int(row.round_trips),
                number(row.hit_rate),
                number(row.win_loss_ratio),
                number(row.average_holding_days),
                number(row.turnover),
                number(row.slippage_bps),
            )
            for row in ordered.itertuples(index=False)
        ],
    )


BLOCK = Block(
    kind=KIND,
    title=TITLE,
    description=(
        "Per strategy and trader: P&L, contribution, hit rate, win/loss ratio, holding "
        "period, turnover and slippage."
    ),
    build=build,
    options=(METHOD_OPTION,),
)
