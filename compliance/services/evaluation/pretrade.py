"""The pre-trade check: what a proposed trade does to each rule, with the
utilisation before and after, against the portfolio's latest holdings.

It reads only: nothing is stored and no alert is raised. The trade is valued and
booked as the post-trade evaluation will book it (a security leg and a cash leg,
:func:`compliance.services.frames.legs_for_trade`), and both books are measured
over one loaded return history, so a predicted breach is the one that follows.

Each rule is classified by what the trade *does* to it
(:func:`compliance.engine.pretrade.trade_effects`): it **causes** a breach, it
**worsens** an existing one, it leaves an existing breach **unchanged**, it
**reduces** or **cures** one, or the rule stays within its limit. Only causing or
worsening a breach refuses the trade (the verdict ``breach``); a breach the book
already has and the trade does not touch is reported as such, never as one the
trade would cause. A test at acquisition (the 1940 Act's 75-5-10) that the fund
already fails is ``restricted``, and a purchase that worsens it is refused. A VaR
rule under SEC Rule 18f-4's remediation (more than five business days out of
compliance, :mod:`compliance.services.remediation`) allows only trades that lower
its utilisation.

The check also lists every group the instrument belongs to (the instrument, its
issuer and issuer group, sector, country and currency) with its weight before and
after the trade.

A sale of more than the portfolio holds would go short; without a short-selling
permission (:class:`compliance.models.TradingPermission`) it is refused with a
``quantity`` error before anything is measured. Bad input raises Django's
``ValidationError`` with field errors.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.utils import timezone

from analytics.models import Instrument, Portfolio, Price, TradeSide
from analytics.selectors.frames import latest_position_dates
from compliance.engine.holdings import apply_legs
from compliance.engine.kinds import RuleKind
from compliance.engine.pretrade import (
    EFFECT_LABELS,
    REFUSED,
    Effect,
    GroupWeight,
    instrument_group_weights,
    trade_effects,
)
from compliance.engine.rules import classify_trades
from compliance.engine.specs import RuleSpec
from compliance.models import Rule, TradingPermission
from compliance.services import frames
from compliance.services.evaluation.histories import ReturnHistories, return_histories_load
from compliance.services.evaluation.results import book_results
from compliance.services.remediation import reducing_only_rules
from compliance.services.rules import rule_specs, rules_by_portfolio

EFFECT_ORDER = {
    Effect.CAUSES: 0,
    Effect.WORSENS: 1,
    Effect.NOT_REDUCING: 2,
    Effect.UNCHANGED: 3,
    Effect.REDUCES: 4,
    Effect.CURES: 5,
    Effect.WARNING: 6,
    Effect.NO_VALUE: 7,
    Effect.OK: 8,
}
"""Rows are listed by what the trade does (refusals first), then by rule name."""

HEADLINE_PARTS = (
    (Effect.CAUSES, "would breach {n} rule{s}"),
    (Effect.WORSENS, "worsens {n} existing breach{es}"),
    (Effect.NOT_REDUCING, "does not reduce {n} rule{s} restricted to reducing trades"),
    (Effect.REDUCES, "reduces {n} existing breach{es}"),
    (Effect.CURES, "cures {n} existing breach{es}"),
    (Effect.UNCHANGED, "{n} existing breach{es} unchanged by the trade"),
    (Effect.WARNING, "near the limit of {n} rule{s}"),
)

GROUP_RULE_KINDS = (
    RuleKind.MAX_GROUP_WEIGHT,
    RuleKind.MIN_GROUP_WEIGHT,
    RuleKind.MAX_LARGE_GROUPS_TOTAL,
)


@dataclass(frozen=True)
class PreTradeRow:
    """One rule before and after the proposed trade. ``effect`` is what the trade
    does to it (:class:`compliance.engine.pretrade.Effect`); ``group`` names the
    group that drives the rule after the trade (its worst), ``own_group`` the
    instrument's own group for the rule's attribute (``None`` for rules without
    one); ``reducing_only_since`` the date since which the rule allows only trades
    that lower its utilisation (SEC Rule 18f-4 remediation), else ``None``."""

    rule: Rule
    before_value: float | None
    before_utilisation: float | None
    before_status: str
    after_value: float | None
    after_utilisation: float | None
    after_status: str
    group: str
    detail: dict[str, Any]
    effect: str = Effect.OK.value
    own_group: GroupWeight | None = None
    reducing_only_since: dt.date | None = None

    @property
    def effect_label(self) -> str:
        return EFFECT_LABELS[self.effect]

    @property
    def refused(self) -> bool:
        return self.effect in REFUSED


@dataclass(frozen=True)
class PreTradeResult:
    """The check of one proposed trade; ``trade_value_base`` is the security leg's
    signed value in the portfolio's base currency (positive for a buy);
    ``groups`` the instrument's groups with their weights before and after."""

    portfolio: Portfolio
    instrument: Instrument
    side: str
    quantity: float
    price: float
    as_of: dt.date | None
    trade_value_base: float
    rows: list[PreTradeRow]
    groups: list[GroupWeight] = field(default_factory=list)

    @property
    def breaches(self) -> list[PreTradeRow]:
        """Rules the trade would breach, worsen, or (under a restriction to reducing
        trades) fail to reduce: the reasons to refuse it."""
        return [r for r in self.rows if r.refused]

    @property
    def existing_breaches(self) -> list[PreTradeRow]:
        """Rules already failing that the trade leaves exactly where they were."""
        return [r for r in self.rows if r.effect == Effect.UNCHANGED]

    @property
    def reduced(self) -> list[PreTradeRow]:
        """Existing breaches the trade reduces or cures."""
        return [r for r in self.rows if r.effect in (Effect.REDUCES, Effect.CURES)]

    @property
    def warnings(self) -> list[PreTradeRow]:
        """Rules within their limit but near it after the trade."""
        return [r for r in self.rows if r.effect == Effect.WARNING]

    @property
    def verdict(self) -> str:
        """``breach`` when the trade must not be done, ``warning`` when it is allowed
        but a rule is near or (already) beyond its limit, else ``ok``."""
        if self.breaches:
            return "breach"
        return "warning" if self.warnings or self.existing_breaches or self.reduced else "ok"

    @property
    def headline(self) -> str:
        """One sentence: refused or allowed, and what the trade does, by effect."""
        counts = Counter(row.effect for row in self.rows)
        parts = [
            text.format(
                n=counts[effect],
                s="" if counts[effect] == 1 else "s",
                es="" if counts[effect] == 1 else "es",
            )
            for effect, text in HEADLINE_PARTS
            if counts[effect]
        ]
        if not parts:
            return "Allowed: within every limit"
        return ("Refused: " if self.breaches else "Allowed: ") + ", ".join(parts)


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


def _own_group(rule: Rule, groups: Sequence[GroupWeight]) -> GroupWeight | None:
    """The instrument's own group for a rule's attribute: the instrument for the
    instrument-weight rule, its group of the rule's attribute for group rules (when
    the rule is about one named group, only if the instrument belongs to it)."""
    by_attribute = {group.attribute: group for group in groups}
    if rule.kind == RuleKind.MAX_INSTRUMENT_WEIGHT:
        return by_attribute.get("instrument")
    if rule.kind not in GROUP_RULE_KINDS:
        return None
    attribute = rule.params.get("attribute", "issuer")
    own = by_attribute.get(attribute)
    if own is None and attribute == "issuer_group":
        own = by_attribute.get("issuer")  # no group: the issuer is its own body
    named = rule.params.get("group")
    if own is None or (named and named != own.group):
        return None
    return own


def _pretrade_rows(
    *,
    holdings: pd.DataFrame,
    legs: pd.DataFrame,
    specs: Sequence[RuleSpec],
    rules: dict[int, Rule],
    portfolio_id: int,
    histories: ReturnHistories | None,
    groups: Sequence[GroupWeight] = (),
    reducing_only: Mapping[int, dt.date] | None = None,
) -> list[PreTradeRow]:
    """Compute each rule on today's holdings and on them with the trade's legs,
    and classify what the trade does to it."""
    if not specs:
        return []
    reducing_only = reducing_only or {}
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
    today = current.set_index("rule").reindex(proposed["rule"])
    effects = trade_effects(
        before_status=today["status"].fillna("no_value").to_numpy(object),
        before_utilisation=today["utilisation"].to_numpy(dtype=float),
        after_status=proposed["status"].to_numpy(object),
        after_utilisation=proposed["utilisation"].to_numpy(dtype=float),
        reducing_only=[int(rule) in reducing_only for rule in proposed["rule"]],
    )
    rows = []
    for row, (_, before), effect in zip(
        proposed.itertuples(index=False), today.iterrows(), effects, strict=True
    ):
        rule = rules[int(row.rule)]
        rows.append(
            PreTradeRow(
                rule=rule,
                before_value=_optional_float(before["value"]),
                before_utilisation=_optional_float(before["utilisation"]),
                before_status=str(before["status"]),
                after_value=_optional_float(row.value),
                after_utilisation=_optional_float(row.utilisation),
                after_status=row.status,
                group=str(row.group or ""),
                detail=row.detail if isinstance(row.detail, dict) else {},
                effect=str(effect),
                own_group=_own_group(rule, groups),
                reducing_only_since=reducing_only.get(rule.id),
            )
        )
    rows.sort(key=lambda r: (EFFECT_ORDER.get(Effect(r.effect), 9), r.rule.name))
    return rows


def _refuse_oversell(
    *, portfolio: Portfolio, instrument: Instrument, holdings: pd.DataFrame, sold: float
) -> None:
    """A sale of more than the portfolio holds goes short: refused unless the
    portfolio may sell short. Quantities are netted over lots; a tolerance of
    1e-9 units absorbs decimal rounding."""
    if TradingPermission.objects.filter(portfolio=portfolio, short_selling=True).exists():
        return
    held = 0.0
    if len(holdings):
        mine = holdings["instrument"] == instrument.id
        held = float(holdings.loc[mine, "quantity"].astype(float).sum())
    if sold <= held + 1e-9:
        return
    if held > 0:
        message = (
            f"{portfolio.code} holds {held:,.6g} {instrument.identifier}; selling {sold:,.6g} "
            f"would go {sold - held:,.6g} short, and this portfolio has no short-selling "
            f"permission. Sell at most {held:,.6g}."
        )
    else:
        message = (
            f"{portfolio.code} holds no long position in {instrument.identifier} to sell, and "
            "this portfolio has no short-selling permission."
        )
    raise ValidationError({"quantity": [message]})


def pretrade_check(
    *,
    portfolio: Portfolio,
    instrument: Instrument,
    side: str,
    quantity: float,
    price: float | None = None,
) -> PreTradeResult:
    """What a proposed trade does to each rule, with the resulting utilisation
    (module docstring). ``quantity`` is unsigned (``side`` says buy or sell);
    ``price`` is per unit in the instrument's currency and defaults to its latest
    close. An oversell without a short-selling permission raises a
    ``ValidationError`` on ``quantity``."""
    quantity, price = _trade_terms(instrument=instrument, side=side, quantity=quantity, price=price)
    as_of = latest_position_dates(portfolio_ids=[portfolio.id]).get(portfolio.id)
    on = as_of or timezone.localdate()
    holdings = (
        frames.holdings_frame(dates={portfolio.id: as_of})[0]
        if as_of
        else pd.DataFrame(columns=frames.HOLDING_COLUMNS)
    )
    if side == TradeSide.SELL:
        _refuse_oversell(
            portfolio=portfolio, instrument=instrument, holdings=holdings, sold=quantity
        )
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
    rules_for = rules_by_portfolio(portfolio_ids=[portfolio.id])
    specs = rule_specs(rules_for=rules_for)
    # One history for both books: the legs name every instrument the trade adds.
    histories = return_histories_load(
        specs=specs,
        portfolios={portfolio.id: portfolio},
        instrument_ids=set(holdings["instrument"]) | set(legs["instrument"]),
        as_of=on,
    )
    groups = instrument_group_weights(
        before=holdings, after=apply_legs(holdings, legs), instrument=legs.iloc[0].to_dict()
    )
    rows = _pretrade_rows(
        holdings=holdings,
        legs=legs,
        specs=specs,
        rules={rule.id: rule for rule in rules_for[portfolio.id]},
        portfolio_id=portfolio.id,
        histories=histories,
        groups=groups,
        reducing_only=reducing_only_rules(portfolio=portfolio),
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
        groups=groups,
    )
