"""The block catalog: every block a template may use, in the builder's order.

Each block is one module of this package (see :mod:`reports.blocks.base`) that
defines ``BLOCK``; list it in ``CATALOG`` below. ``block_get`` is the one lookup.
"""

from reports.blocks.base import Block

CATALOG: dict[str, Block] = {
    block.kind: block
    for block in (
        # performance, risk, exposures, attribution
        # holdings, trades, trading review, compliance, data quality, executive summary
    )
}
"""kind → block, in the order the builder lists them."""


def block_get(kind: str) -> Block:
    """The catalog's block ``kind``; ``KeyError`` with a readable message if unknown."""
    try:
        return CATALOG[kind]
    except KeyError:
        raise KeyError(f"There is no report block “{kind}”.") from None
