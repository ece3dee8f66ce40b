"""What the compliance engine takes and gives per rule: specs, VaR inputs and rule values.

Shared by :mod:`compliance.engine.rules` (which evaluates every kind) and
:mod:`compliance.engine.risk` (which computes the VaR kinds' values), so that neither imports
the other's types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from compliance.engine.kinds import KINDS, Direction, RuleKind


@dataclass(frozen=True)
class RuleSpec:
    """One rule to evaluate. ``portfolios`` limits it to those portfolio ids (its
    scope, resolved by the caller); ``None`` means every portfolio in the frame.
    ``params`` must have passed :func:`clean_params`."""

    rule_id: int
    kind: str
    limit: float
    warning_level: float = 0.9
    params: Mapping[str, Any] = field(default_factory=dict)
    portfolios: tuple[int, ...] | None = None

    @property
    def direction(self) -> Direction:
        return KINDS[RuleKind(self.kind)].direction


@dataclass(frozen=True)
class RiskInputs:
    """Return histories for the VaR rules (see :mod:`compliance.engine.risk`).

    * ``returns``: dates × portfolio, the daily returns of each portfolio's *current*
      holdings over history (hypothetical P&L, the regulatory VaR convention);
    * ``reference_returns``: dates × reference key, e.g. ``"benchmark:SPX"``;
    * ``reference_of``: ``(rule_id, portfolio) → reference key`` for relative VaR;
    * ``realised``: dates × portfolio, the realised (flow-adjusted) daily returns
      that the VaR backtest compares its forecasts with.
    """

    returns: pd.DataFrame | None = None
    reference_returns: pd.DataFrame | None = None
    reference_of: Mapping[tuple[int, int], str] = field(default_factory=dict)
    realised: pd.DataFrame | None = None


@dataclass
class RuleValues:
    """One rule's values for the portfolios it was computed for, in the same order.

    ``value`` is the measured quantity per portfolio (NaN: no value); ``group`` the instrument,
    group or names that drove it (``None``: none); ``detail`` one dict of explanations per
    portfolio (``None``: none).
    """

    value: np.ndarray
    group: np.ndarray | None = None
    detail: list[dict[str, Any]] | None = None
