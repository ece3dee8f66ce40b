"""The block catalog: every block a template may use, in the builder's order.

Each block is one module of this package (see :mod:`reports.blocks.base`) that
defines ``BLOCK``; list it in ``CATALOG`` below. ``block_get`` is the one lookup.
"""

from reports.blocks import (
    attribution,
    compliance,
    cumulative_return,
    data_quality,
    drawdowns,
    executive_summary,
    exposures,
    holdings,
    monthly_returns,
    performance_summary,
    risk,
    rolling_risk,
    trades,
    trading_review,
)
from reports.blocks.base import Block

CATALOG: dict[str, Block] = {
    block.kind: block
    for block in (
        # performance, risk, exposures, attribution
        performance_summary.BLOCK,
        monthly_returns.BLOCK,
        cumulative_return.BLOCK,
        drawdowns.BLOCK,
        rolling_risk.BLOCK,
        risk.BLOCK,
        exposures.BLOCK,
        attribution.BLOCK,
        # holdings, trades, trading review, compliance, data quality, executive summary
        holdings.BLOCK,
        trades.BLOCK,
        trading_review.BLOCK,
        compliance.BLOCK,
        data_quality.BLOCK,
        executive_summary.BLOCK,
    )
}
"""kind → block, in the order the builder lists them."""


def block_get(kind: str) -> Block:
    """The catalog's block ``kind``; ``KeyError`` with a readable message if unknown."""
    try:
        return CATALOG[kind]
    except KeyError:
        raise KeyError(f"There is no report block “{kind}”.") from None
