"""The pre-trade check: which rules a proposed trade would warn on or breach,
with the utilisation before and after, against the portfolio's latest holdings.

It reads only: nothing is stored and no alert is raised. The trade is valued and
booked as the post-trade evaluation will book it (a security leg and a cash leg,
:func:`compliance.services.frames.legs_for_trade`), and both books are measured
over one loaded return history, so a predicted breach is the one that follows.
The trade is classified against today's holdings as the post-trade evaluation
classifies the day's trades: a test at acquisition (the 1940 Act's 75-5-10) that
the fund already fails is ``restricted``, the trade is refused (a ``breach``)
when it causes or worsens the shortfall, and allowed when it leaves it as it is
or improves it (the row stays ``restricted``, listed among the warnings).
Bad input raises Django's ``ValidationError`` with field errors.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.utils import timezone

from analytics.models import Instrument, Portfolio, Price, TradeSide
from analytics.selectors.frames import latest_position_dates
from compliance.engine.holdings import apply_legs
from compliance.engine.rules import classify_trades
from compliance.engine.specs import RuleSpec
from compliance.models import Rule
from compliance.services import frames
from compliance.services.evaluation.histories import ReturnHistories, return_histories_load
from compliance.services.evaluation.results import book_results
from compliance.services.rules import rule_specs, rules_by_portfolio

OUTCOME_ORDER = {"breach": 0, "restricted": 1, "warning": 2, "no_value": 3, "ok": 4}
"""Rows are listed worst first, then by rule name."""


@dataclass(frozen=True)
class PreTradeRow:
    """One rule before and after the proposed trade."""

    rule: Rule
    before_value: float | None
    before_utilisation: float | None
    before_status: str
    after_value: float | None
    after_utilisation: float | None
    after_status: str
    group: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class PreTradeResult:
    """The check of one proposed trade; ``trade_value_base`` is the security leg's
    signed value in the portfolio's base currency (positive for a buy)."""

    portfolio: Portfolio
    instrument: Instrument
    side: str
    quantity: float
    price: float
    as_of: dt.date | None
    trade_value_base: float
    rows: list[PreTradeRow]

    @property
    def breaches(self) -> list[PreTradeRow]:
        return [r for r in self.rows if r.after_status == "breach"]

    @property
    def warnings(self) -> list[PreTradeRow]:
        """Rules near their limit, and tests at acquisition the fund already fails
        that the trade does not worsen (allowed, but the fund stays restricted)."""
        return [r for r in self.rows if r.after_status in ("warning", "restricted")]

    @property
    def verdict(self) -> str:
        return "breach" if self.breaches else "warning" if self.warnings else "ok"


def _valid_amount(value: Any, *, allow_zero: bool) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        return None
    return number


def _trade_terms(
    *, instrument: Instrument, side: str, quantity: Any, price: Any
) -> tuple[float, float]:
    """The validated (quantity, price); the price defaults to the instrument's
    latest close. Raises ``ValidationError`` naming every bad field."""
    errors: dict[str, list[str]] = {}
    if side not in TradeSide.values:
        errors["side"] = [f"Choose one of {list(TradeSide.values)}."]
    checked_quantity = _valid_amount(quantity, allow_zero=False)
    if checked_quantity is None:
        errors["quantity"] = ["Enter a quantity greater than 0."]
    checked_price: float | None = None
    if price is not None:
        checked_price = _valid_amount(price, allow_zero=True)
        if checked_price is None:
            errors["price"] = ["Enter a price ≥ 0."]
    elif not errors:
        latest = Price.objects.filter(instrument=instrument).order_by("-date").first()
        if latest is None:
            errors["price"] = ["The instrument has no price; give the trade price."]
        else:
            checked_price = float(latest.close)
    if errors or checked_quantity is None or checked_price is None:
        raise ValidationError(errors)
    return checked_quantity, checked_price


def _optional_float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _pretrade_rows(
    *,
    holdings: pd.DataFrame,
    legs: pd.DataFrame,
    specs: Sequence[RuleSpec],
    rules: dict[int, Rule],
    portfolio_id: int,
    histories: ReturnHistories | None,
) -> list[PreTradeRow]:
    """Compute each rule on today's holdings and on them with the trade's legs."""
    if not specs:
        return []
    portfolio_ids = [portfolio_id]
    current = book_results(
        holdings=holdings,
        trades=None,
        specs=specs,
        portfolio_ids=portfolio_ids,
        histories=histories,
    )
    # "May not buy" lists see the proposed purchase itself; the acquisition tests
    # compare the proposed book with today's.
    proposed = classify_trades(
        book_results(
            holdings=apply_legs(holdings, legs),
            trades=frames.security_trades(legs),
            specs=specs,
            portfolio_ids=portfolio_ids,
            histories=histories,
        ),
        current,
    )
    today = current.set_index("rule")
    rows = []
    for row in proposed.itertuples(index=False):
        before = today.loc[row.rule]
        rows.append(
            PreTradeRow(
                rule=rules[int(row.rule)],
                before_value=_optional_float(before["value"]),
                before_utilisation=_optional_float(before["utilisation"]),
                before_status=before["status"],
                after_value=_optional_float(row.value),
                after_utilisation=_optional_float(row.utilisation),
                after_status=row.status,
                group=str(row.group or ""),
                detail=row.detail if isinstance(row.detail, dict) else {},
            )
        )
    rows.sort(key=lambda r: (OUTCOME_ORDER.get(r.after_status, 9), r.rule.name))
    return rows


def pretrade_check(
    *,
    portfolio: Portfolio,
    instrument: Instrument,
    side: str,
    quantity: float,
    price: float | None = None,
) -> PreTradeResult:
    """Which rules a proposed trade would warn on or breach, with the resulting
    utilisation (module docstring). ``quantity`` is unsigned (``side`` says buy
    or sell); ``price`` is per unit in the instrument's currency and defaults to
    its latest close."""
    quantity, price = _trade_terms(instrument=instrument, side=side, quantity=quantity, price=price)
    as_of = latest_position_dates(portfolio_ids=[portfolio.id]).get(portfolio.id)
    on = as_of or timezone.localdate()
    try:
        legs = frames.legs_for_trade(
            portfolio=portfolio,
            instrument=instrument,
            signed_quantity=quantity if side == TradeSide.BUY else -quantity,
            price=price,
            currency=instrument.currency,
            on=on,
        )
    except ValueError as error:
        raise ValidationError({"instrument": [str(error)]}) from None
    holdings = (
        frames.holdings_frame(dates={portfolio.id: as_of})[0]
        if as_of
        else pd.DataFrame(columns=frames.HOLDING_COLUMNS)
    )
    rules_for = rules_by_portfolio(portfolio_ids=[portfolio.id])
    specs = rule_specs(rules_for=rules_for)
    # One history for both books: the legs name every instrument the trade adds.
    histories = return_histories_load(
        specs=specs,
        portfolios={portfolio.id: portfolio},
        instrument_ids=set(holdings["instrument"]) | set(legs["instrument"]),
        as_of=on,
    )
    rows = _pretrade_rows(
        holdings=holdings,
        legs=legs,
        specs=specs,
        rules={rule.id: rule for rule in rules_for[portfolio.id]},
        portfolio_id=portfolio.id,
        histories=histories,
    )
    return PreTradeResult(
        portfolio=portfolio,
        instrument=instrument,
        side=side,
        quantity=quantity,
        price=price,
        as_of=as_of,
        trade_value_base=float(legs["market_value_base"].iloc[0]),
        rows=rows,
    )
