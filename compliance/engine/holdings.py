"""Applying and reversing trade legs on holdings frames.

A *leg* frame has the columns of a holdings frame (see
:mod:`compliance.engine.rules`) with ``market_value_base`` and ``quantity`` being
the change the trade makes: a buy of 100 shares worth 1,000 is a security leg of
+100 / +1,000 and a cash leg of −1,000 (quantity −1,000) on the portfolio's cash
instrument of the trade's currency; a sale is the mirror image. Trades therefore
leave net assets unchanged (fees aside), so weights move only by the trade.

* :func:`apply_legs` gives the holdings after proposed trades (a pre-trade check);
* :func:`reverse_legs` gives the holdings as they would be without the day's
  trades, valued at the day's prices (the active/passive classification).

Rows of the same (portfolio, instrument) are netted; a position that nets to zero
is dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

VALUE_COLUMNS = ("market_value_base", "quantity")


def apply_legs(holdings: pd.DataFrame, legs: pd.DataFrame, *, sign: float = 1.0) -> pd.DataFrame:
    """Holdings with ``sign`` × each leg added (``sign=-1`` reverses them)."""
    if legs is None or legs.empty:
        return holdings.copy()
    legs = legs.copy()
    for column in VALUE_COLUMNS:
        if column in legs.columns:
            legs[column] = legs[column].astype(np.float64) * sign
    combined = pd.concat([holdings, legs[[c for c in holdings.columns if c in legs]]])
    values = [c for c in VALUE_COLUMNS if c in combined.columns]
    attributes = [c for c in combined.columns if c not in values and c not in ("portfolio",)]
    attributes.remove("instrument")
    aggregations = dict.fromkeys(values, "sum") | dict.fromkeys(attributes, "first")
    netted = combined.groupby(["portfolio", "instrument"], sort=True, as_index=False).agg(
        aggregations
    )
    quantity = netted["quantity"] if "quantity" in netted else netted["market_value_base"]
    keep = ~(np.isclose(quantity, 0.0) & np.isclose(netted["market_value_base"], 0.0))
    return netted.loc[keep, list(holdings.columns)].reset_index(drop=True)


def reverse_legs(holdings: pd.DataFrame, legs: pd.DataFrame) -> pd.DataFrame:
    """Holdings as they would be without ``legs`` (the day's trades undone)."""
    return apply_legs(holdings, legs, sign=-1.0)
