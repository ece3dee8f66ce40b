"""What the trades and trading-review blocks share: the lot-method option, the
review of one portfolio's report period (``analytics.services.trading``) and the
notes that state its conventions (see ``analytics.engine.trading``)."""

from __future__ import annotations

import math
from typing import Any

from analytics.services.trading import TradingReviewData, trading_review_for
from reports.blocks.base import BlockContext, Option, PortfolioInput

METHOD_OPTION = Option(
    name="method",
    label="Lot method",
    default="fifo",
    choices=(("fifo", "First in, first out"), ("average", "Average cost")),
)
METHOD_LABELS = dict(METHOD_OPTION.choices)
NO_PERIOD = "The report period has no end date: the portfolio has no valued data yet."


def review_of(context: BlockContext, item: PortfolioInput) -> TradingReviewData | None:
    """The trading review of the portfolio's report period, or None without an end."""
    if item.period.end is None:
        return None
    return trading_review_for(
        portfolios=[item.portfolio],
        start=item.period.start,
        end=item.period.end,
        method=context.options.get("method", METHOD_OPTION.default),
    )


def number(value: Any) -> float | None:
    """A float for a table cell: NaN (unknown) becomes None, shown as "–"."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def convention_notes(data: TradingReviewData, base: str) -> list[str]:
    method = METHOD_LABELS[data.review.method]
    return [
        f"P&L in the base currency ({base}), fills converted at their trade date's FX rate. "
        f"Lots: {method.lower()}, matched per instrument; a closed round trip belongs to the "
        "strategy and trader of the fill that opened it. Realised P&L is net of the fees "
        "of both fills.",
        "Slippage: each fill against its trade date's close in basis points, positive = "
        "cost (buying above or selling below the close); a group's slippage is weighted by "
        "notional.",
        "FX spot deals between cash balances are not trading decisions and are left out.",
    ]
