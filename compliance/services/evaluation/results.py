"""Computing rule results: the engine on a portfolio's holdings and, when trades
were booked on the date, on the holdings without them, so that each breach is
classified *active* (the day's trades caused or worsened it) or *passive*
(markets moved), and a test at acquisition that the holdings fail is a breach
only when it is active (``restricted`` otherwise, see
:func:`compliance.engine.rules.classify_trades`). Computes only: the frames and
histories come loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from compliance.engine.holdings import reverse_legs
from compliance.engine.rules import classify_trades, evaluate_rules
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
    with an ``active`` column: True where the failure is the day's trades' doing
    (always False without trades)."""
    now = book_results(
        holdings=books.now,
        trades=books.trades,
        specs=specs,
        portfolio_ids=portfolio_ids,
        histories=histories,
    )
    if books.trades is None:
        return classify_trades(now, None)
    # Without the day's trades there are no "may not buy" purchases either.
    previous = book_results(
        holdings=books.before,
        trades=None,
        specs=specs,
        portfolio_ids=portfolio_ids,
        histories=histories,
    )
    return classify_trades(now, previous)


def book_results(
    *,
    holdings: pd.DataFrame,
    trades: pd.DataFrame | None,
    specs: Sequence[RuleSpec],
    portfolio_ids: Sequence[int],
    histories: ReturnHistories | None,
) -> pd.DataFrame:
    """The engine's rows for one holdings frame, before any trade classification
    (a failed test at acquisition reads ``restricted``); ``trades`` is the engine's
    trades frame ("may not buy" lists), ``None`` for none."""
    return evaluate_rules(
        holdings,
        specs,
        trades=trades,
        risk=risk_inputs(holdings=holdings, histories=histories),
        portfolios=portfolio_ids,
    )
