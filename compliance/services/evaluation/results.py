"""Computing rule results: the engine on a portfolio's holdings and, when trades
were booked on the date, on the holdings without them, so that each breach is
classified *active* (the day's trades caused or worsened it) or *passive*
(markets moved). Computes only: the frames and histories come loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from compliance.engine.holdings import reverse_legs
from compliance.engine.rules import classify_active, evaluate_rules
from compliance.engine.specs import RuleSpec
from compliance.services import frames
from compliance.services.evaluation.histories import ReturnHistories, risk_inputs


@dataclass(frozen=True)
class Books:
    """The holdings an evaluation compares (holdings frames, see
    :mod:`compliance.services.frames`): ``now`` as of the date, ``before`` without
    the date's trades (the same frame when none was booked), and ``trades``, the
    date's security legs as the engine's trades frame (``None`` when none)."""

    now: pd.DataFrame
    before: pd.DataFrame
    trades: pd.DataFrame | None

    @classmethod
    def without_trades(cls, holdings: pd.DataFrame) -> Books:
        return cls(now=holdings, before=holdings, trades=None)

    @classmethod
    def with_legs(cls, *, holdings: pd.DataFrame, legs: pd.DataFrame) -> Books:
        """``holdings`` as of the date and the legs of the trades booked on it."""
        if legs.empty:
            return cls.without_trades(holdings)
        return cls(
            now=holdings, before=reverse_legs(holdings, legs), trades=frames.security_trades(legs)
        )

    @property
    def instrument_ids(self) -> set[int]:
        """Every instrument held now or before: the histories to load."""
        return set(self.now["instrument"]) | set(self.before["instrument"])


def rule_results(
    *,
    books: Books,
    specs: Sequence[RuleSpec],
    portfolio_ids: Sequence[int],
    histories: ReturnHistories | None,
) -> pd.DataFrame:
    """The engine's rows (one per rule and portfolio in scope) for ``books.now``,
    with an ``active`` column: True where the breach is the day's trades' doing
    (always False without trades)."""
    now = evaluate_rules(
        books.now,
        specs,
        trades=books.trades,
        risk=risk_inputs(holdings=books.now, histories=histories),
        portfolios=portfolio_ids,
    )
    if books.trades is None:
        now["active"] = False
        return now
    # Without the day's trades there are no "may not buy" purchases either.
    previous = evaluate_rules(
        books.before,
        specs,
        trades=None,
        risk=risk_inputs(holdings=books.before, histories=histories),
        portfolios=portfolio_ids,
    )
    now["active"] = classify_active(now, previous).to_numpy()
    return now
