"""Evaluating rules: requesting evaluations (post-trade, daily fan-out, manual),
running them through the engine, storing every rule's utilisation and handing
warnings and breaches to the alert episodes; and the read-only pre-trade check.

An :class:`~compliance.models.Evaluation` row with its natural key (portfolio,
as-of date, data version, rules fingerprint) is created before any task is sent;
a task claims it with a conditional update, so a duplicated or retried task finds
it running or done and does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from analytics.models import Instrument, Portfolio, Price, TradeSide
from compliance.engine.holdings import apply_legs, reverse_legs
from compliance.engine.rules import (
    KINDS,
    RiskInputs,
    RuleKind,
    RuleSpec,
    classify_active,
    evaluate_rules,
)
from compliance.models import (
    Evaluation,
    EvaluationBatch,
    EvaluationStatus,
    EvaluationTrigger,
    Rule,
    RuleResult,
)
from compliance.services import frames
from compliance.services.alerts import alerts_observe
from compliance.services.rules import rule_specs, rules_by_portfolio, rules_fingerprint
from portal.task_queue import task_send_on_commit

logger = logging.getLogger(__name__)

CHUNK_SIZE = 100
"""Portfolios per task in a fan-out. The engine is vectorised across portfolios, so
larger chunks amortise the per-query cost; 100 portfolios × ~200 holdings load and
evaluate in well under a second, which keeps chunks short enough for a fair
spread over workers and for a retry to be cheap."""


# --- requesting ---------------------------------------------------------------


def evaluation_request(
    *,
    portfolio: Portfolio,
    trigger: str,
    as_of: dt.date | None = None,
    batch: EvaluationBatch | None = None,
    rules: list[Rule] | None = None,
) -> tuple[Evaluation | None, bool]:
    """Get or create the evaluation of ``portfolio``'s current data and rules on
    ``as_of`` (default: its latest date with positions). Returns (evaluation,
    created); (None, False) when the portfolio has no positions yet."""
    date = frames.latest_position_dates(portfolio_ids=[portfolio.id], on_or_before=as_of).get(
        portfolio.id
    )
    if date is None:
        return None, False
    if rules is None:
        rules = rules_by_portfolio(portfolio_ids=[portfolio.id])[portfolio.id]
    fingerprint = rules_fingerprint(rules)
    portfolio.refresh_from_db(fields=["data_version"])
    key = {
        "portfolio": portfolio,
        "as_of": date,
        "data_version": portfolio.data_version,
        "rules_fingerprint": fingerprint,
    }
    try:
        with transaction.atomic():
            evaluation, created = Evaluation.objects.get_or_create(
                **key, defaults={"trigger": trigger, "batch": batch}
            )
    except IntegrityError:  # a concurrent request created it first
        evaluation, created = Evaluation.objects.get(**key), False
    return evaluation, created


def evaluations_queue(
    *, portfolio_ids: Iterable[int], trigger: str, as_of: dt.date | None = None
) -> list[int]:
    """Create the evaluations of these portfolios and send their tasks after
    commit, in chunks. Returns the ids of the evaluations created."""
    ids = sorted(set(portfolio_ids))
    rules_for = rules_by_portfolio(portfolio_ids=ids)
    created_ids = []
    for portfolio in Portfolio.objects.filter(id__in=ids, is_active=True):
        evaluation, created = evaluation_request(
            portfolio=portfolio, trigger=trigger, as_of=as_of, rules=rules_for[portfolio.id]
        )
        if created:
            created_ids.append(evaluation.id)
    for start in range(0, len(created_ids), CHUNK_SIZE):
        task_send_on_commit("compliance.evaluate", created_ids[start : start + CHUNK_SIZE])
    return created_ids


def evaluation_batch_start(*, as_of: dt.date) -> EvaluationBatch | None:
    """The daily fan-out: one evaluation per active portfolio (its latest positions
    on or before ``as_of``), sent in chunks of :data:`CHUNK_SIZE` portfolios. A
    second call for the same date finds the batch and does nothing."""
    with transaction.atomic():
        batch, created = EvaluationBatch.objects.get_or_create(
            as_of=as_of, trigger=EvaluationTrigger.DAILY
        )
        if not created:
            return None
        portfolio_ids = list(Portfolio.objects.filter(is_active=True).values_list("id", flat=True))
        rules_for = rules_by_portfolio(portfolio_ids=portfolio_ids)
        dates = frames.latest_position_dates(portfolio_ids=portfolio_ids, on_or_before=as_of)
        pending = []
        for portfolio in Portfolio.objects.filter(id__in=list(dates)):
            evaluation, was_created = evaluation_request(
                portfolio=portfolio,
                trigger=EvaluationTrigger.DAILY,
                as_of=dates[portfolio.id],
                batch=batch,
                rules=rules_for[portfolio.id],
            )
            if was_created:
                pending.append(evaluation.id)
        chunks = [pending[i : i + CHUNK_SIZE] for i in range(0, len(pending), CHUNK_SIZE)]
        batch.portfolios_total = len(pending)
        batch.chunks_total = len(chunks)
        batch.status = EvaluationStatus.RUNNING if chunks else EvaluationStatus.DONE
        batch.finished_at = None if chunks else timezone.now()
        batch.save()
        for chunk in chunks:
            task_send_on_commit("compliance.evaluate", chunk, batch.id)
    return batch


def evaluation_batch_chunk_done(*, batch_id: int) -> None:
    """Count one finished chunk; the last one closes the batch."""
    EvaluationBatch.objects.filter(id=batch_id).update(chunks_done=F("chunks_done") + 1)
    EvaluationBatch.objects.filter(
        id=batch_id, chunks_done__gte=F("chunks_total"), status=EvaluationStatus.RUNNING
    ).update(status=EvaluationStatus.DONE, finished_at=timezone.now())


# --- running ------------------------------------------------------------------


def _claim(evaluation_ids: Sequence[int]) -> list[Evaluation]:
    def claim(evaluation_id: int) -> bool:
        return bool(
            Evaluation.objects.filter(id=evaluation_id, status=EvaluationStatus.PENDING).update(
                status=EvaluationStatus.RUNNING, started_at=timezone.now()
            )
        )

    claimed = [evaluation_id for evaluation_id in evaluation_ids if claim(evaluation_id)]
    return list(Evaluation.objects.filter(id__in=claimed).select_related("portfolio"))


def evaluations_fail(*, evaluation_ids: Sequence[int], error: str) -> None:
    """Record a failure readably on the evaluations not finished."""
    Evaluation.objects.filter(
        id__in=list(evaluation_ids),
        status__in=[EvaluationStatus.PENDING, EvaluationStatus.RUNNING],
    ).update(status=EvaluationStatus.FAILED, error=error[:5000], finished_at=timezone.now())


@dataclass
class _Outcome:
    results: pd.DataFrame  # the engine's rows with an ``active`` column
    unvalued: dict[int, int]


def _history_days(specs: Sequence[RuleSpec]) -> int:
    days = 0
    for spec in specs:
        needs = KINDS[RuleKind(spec.kind)].needs
        if needs in ("returns", "realised"):
            extra = spec.params.get("observations", 0) if needs == "realised" else 0
            days = max(days, int(spec.params.get("min_history_days", 756)) + int(extra) + 1)
    return days


def _references(
    *, specs: Sequence[RuleSpec], portfolios: dict[int, Portfolio], end: dt.date, days: int
) -> tuple[pd.DataFrame, dict[tuple[int, int], str]]:
    """Reference returns for relative VaR and the (rule, portfolio) → key map."""
    reference_of: dict[tuple[int, int], str] = {}
    benchmark_ids: set[int] = set()
    reference_portfolios: dict[str, Portfolio] = {}
    for spec in specs:
        if spec.kind != RuleKind.MAX_RELATIVE_VAR:
            continue
        reference = spec.params.get("reference", "benchmark")
        for portfolio_id in spec.portfolios or ():
            portfolio = portfolios.get(portfolio_id)
            if portfolio is None:
                continue
            if reference == "benchmark":
                if portfolio.benchmark_id:
                    benchmark_ids.add(portfolio.benchmark_id)
                    reference_of[(spec.rule_id, portfolio_id)] = (
                        f"benchmark:{portfolio.benchmark.code}"
                    )
            elif reference.startswith("benchmark:"):
                from analytics.models import Benchmark

                benchmark = Benchmark.objects.filter(code=reference.split(":", 1)[1]).first()
                if benchmark:
                    benchmark_ids.add(benchmark.id)
                    reference_of[(spec.rule_id, portfolio_id)] = reference
            elif reference.startswith("portfolio:"):
                other = Portfolio.objects.filter(code=reference.split(":", 1)[1]).first()
                if other:
                    reference_portfolios[reference] = other
                    reference_of[(spec.rule_id, portfolio_id)] = reference
    parts = []
    if benchmark_ids:
        parts.append(frames.benchmark_returns(benchmark_ids=benchmark_ids, end=end, days=days))
    if reference_portfolios:
        dates = frames.latest_position_dates(
            portfolio_ids=[p.id for p in reference_portfolios.values()], on_or_before=end
        )
        holdings, _ = frames.holdings_frame(dates=dates)
        returns = frames.hypothetical_returns(holdings=holdings, end=end, days=days)
        key_of = {p.id: key for key, p in reference_portfolios.items()}
        parts.append(returns.rename(columns=key_of))
    parts = [p for p in parts if not p.empty]
    reference = pd.concat(parts, axis=1) if parts else pd.DataFrame()
    return reference, reference_of


def evaluate_frames(
    *,
    holdings: pd.DataFrame,
    legs: pd.DataFrame,
    specs: Sequence[RuleSpec],
    portfolios: dict[int, Portfolio],
    as_of: dt.date,
) -> pd.DataFrame:
    """Run the engine on today's holdings and on the holdings without today's
    trades, and classify each breach as active or passive."""
    before = reverse_legs(holdings, legs) if not legs.empty else holdings
    trades = frames.security_trades(legs) if not legs.empty else None
    risk_now = risk_before = None
    days = _history_days(specs)
    if days:
        instrument_ids = set(holdings["instrument"]) | set(before["instrument"])
        returns = {
            base: frames.instrument_returns(
                instrument_ids=instrument_ids, end=as_of, days=days, base=base
            )
            for base in {p.base_currency for p in portfolios.values()}
        }
        reference, reference_of = _references(
            specs=specs, portfolios=portfolios, end=as_of, days=days
        )
        realised = frames.realised_returns(portfolio_ids=list(portfolios), end=as_of, days=days)
        risk_now = RiskInputs(
            returns=frames.hypothetical_returns(
                holdings=holdings, end=as_of, days=days, returns_by_base=returns
            ),
            reference_returns=reference,
            reference_of=reference_of,
            realised=realised,
        )
        risk_before = RiskInputs(
            returns=frames.hypothetical_returns(
                holdings=before, end=as_of, days=days, returns_by_base=returns
            ),
            reference_returns=reference,
            reference_of=reference_of,
            realised=realised,
        )
    ids = list(portfolios)
    now = evaluate_rules(holdings, specs, trades=trades, risk=risk_now, portfolios=ids)
    if legs.empty:
        now["active"] = False
        return now
    # Without the day's trades there are no "may not buy" purchases either.
    previous = evaluate_rules(before, specs, trades=None, risk=risk_before, portfolios=ids)
    now["active"] = classify_active(now, previous).to_numpy()
    return now


def _run_date_group(evaluations: list[Evaluation], as_of: dt.date) -> None:
    portfolios = {e.portfolio_id: e.portfolio for e in evaluations}
    rules_for = rules_by_portfolio(portfolio_ids=portfolios)
    rules = {rule.id: rule for group in rules_for.values() for rule in group}
    specs = rule_specs(rules_for=rules_for)
    dates = dict.fromkeys(portfolios, as_of)
    holdings, unvalued = frames.holdings_frame(dates=dates)
    legs = frames.trade_legs_frame(dates=dates)
    results = (
        evaluate_frames(
            holdings=holdings, legs=legs, specs=specs, portfolios=portfolios, as_of=as_of
        )
        if specs
        else pd.DataFrame(columns=["portfolio"])
    )
    by_portfolio = dict(tuple(results.groupby("portfolio"))) if len(results) else {}
    for evaluation in evaluations:
        rows = by_portfolio.get(evaluation.portfolio_id)
        _store(evaluation, rows, rules, unvalued.get(evaluation.portfolio_id, 0))


@transaction.atomic
def _store(
    evaluation: Evaluation, rows: pd.DataFrame | None, rules: dict[int, Rule], unvalued: int
) -> None:
    stored = []
    if rows is not None:
        for row in rows.itertuples(index=False):
            detail = dict(row.detail) if isinstance(row.detail, dict) else {}
            if unvalued:
                detail["unvalued_holdings"] = unvalued
            stored.append(
                RuleResult(
                    evaluation=evaluation,
                    rule_id=int(row.rule),
                    portfolio_id=evaluation.portfolio_id,
                    as_of=evaluation.as_of,
                    value=None if np.isnan(row.value) else float(row.value),
                    limit=float(row.limit),
                    utilisation=None if np.isnan(row.utilisation) else float(row.utilisation),
                    status=row.status,
                    active=bool(row.active),
                    group=str(row.group or "")[:500],
                    detail=detail,
                )
            )
    RuleResult.objects.bulk_create(stored, ignore_conflicts=False)
    for result in stored:
        result.rule = rules[result.rule_id]
    alerts_observe(results=stored)
    Evaluation.objects.filter(id=evaluation.id).update(
        status=EvaluationStatus.DONE, finished_at=timezone.now(), error=""
    )


def evaluations_run(*, evaluation_ids: Sequence[int], batch_id: int | None = None) -> int:
    """Run the pending evaluations among ``evaluation_ids`` (others are skipped:
    already claimed or done). Portfolios sharing an as-of date go through the
    engine together. Returns how many were run."""
    claimed = _claim(evaluation_ids)
    by_date: dict[dt.date, list[Evaluation]] = defaultdict(list)
    for evaluation in claimed:
        by_date[evaluation.as_of].append(evaluation)
    for as_of, group in by_date.items():
        try:
            _run_date_group(group, as_of)
        except Exception as error:
            logger.exception("compliance evaluation failed for %s on %s", group, as_of)
            evaluations_fail(evaluation_ids=[e.id for e in group], error=repr(error))
    if batch_id is not None:
        evaluation_batch_chunk_done(batch_id=batch_id)
    return len(claimed)


def evaluate_now(
    *, portfolio: Portfolio, as_of: dt.date | None = None, trigger: str = EvaluationTrigger.MANUAL
) -> Evaluation | None:
    """Evaluate one portfolio inline (management command, tests); idempotent."""
    evaluation, _ = evaluation_request(portfolio=portfolio, trigger=trigger, as_of=as_of)
    if evaluation is None:
        return None
    evaluations_run(evaluation_ids=[evaluation.id])
    evaluation.refresh_from_db()
    return evaluation


# --- pre-trade check ------------------------------------------------------------


@dataclass(frozen=True)
class PreTradeRow:
    rule: Rule
    before_value: float | None
    before_utilisation: float | None
    before_status: str
    after_value: float | None
    after_utilisation: float | None
    after_status: str
    group: str
    detail: dict

    @property
    def outcome(self) -> str:
        """``breach``/``warning`` when the trade would leave the rule there, else ``ok``."""
        return self.after_status


@dataclass(frozen=True)
class PreTradeResult:
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
        return [r for r in self.rows if r.after_status == "warning"]

    @property
    def verdict(self) -> str:
        return "breach" if self.breaches else "warning" if self.warnings else "ok"


def _number(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def pretrade_check(
    *,
    portfolio: Portfolio,
    instrument: Instrument,
    side: str,
    quantity: float,
    price: float | None = None,
) -> PreTradeResult:
    """Which rules a proposed trade would warn on or breach, with the resulting
    utilisation, against the portfolio's latest holdings. Reads only: nothing is
    stored, no alert is raised. The price defaults to the instrument's latest close.
    The trade is valued and booked as the post-trade evaluation will book it (a
    security leg and a cash leg), so a predicted breach is the one that follows."""
    errors = {}
    if side not in TradeSide.values:
        errors["side"] = [f"Choose one of {list(TradeSide.values)}."]
    try:
        quantity = float(quantity)
        if not quantity > 0 or not np.isfinite(quantity):
            raise ValueError
    except (TypeError, ValueError):
        errors["quantity"] = ["Enter a quantity greater than 0."]
    as_of = frames.latest_position_dates(portfolio_ids=[portfolio.id]).get(portfolio.id)
    if price is None and not errors:
        latest = Price.objects.filter(instrument=instrument).order_by("-date").first()
        if latest is None:
            errors["price"] = ["The instrument has no price; give the trade price."]
        else:
            price = float(latest.close)
    elif price is not None:
        try:
            price = float(price)
            if price < 0 or not np.isfinite(price):
                raise ValueError
        except (TypeError, ValueError):
            errors["price"] = ["Enter a price ≥ 0."]
    if errors:
        raise ValidationError(errors)
    on = as_of or timezone.localdate()
    signed = quantity if side == TradeSide.BUY else -quantity
    try:
        legs = frames.legs_for_trade(
            portfolio=portfolio,
            instrument=instrument,
            signed_quantity=signed,
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
    after = apply_legs(holdings, legs)
    rules_for = rules_by_portfolio(portfolio_ids=[portfolio.id])
    specs = rule_specs(rules_for=rules_for)
    rules = {rule.id: rule for rule in rules_for[portfolio.id]}
    rows: list[PreTradeRow] = []
    if specs:
        portfolios = {portfolio.id: portfolio}
        today = evaluate_frames(
            holdings=holdings,
            legs=pd.DataFrame(columns=frames.HOLDING_COLUMNS),
            specs=specs,
            portfolios=portfolios,
            as_of=on,
        ).set_index("rule")
        proposed = evaluate_frames(
            holdings=after,
            legs=pd.DataFrame(columns=frames.HOLDING_COLUMNS),
            specs=specs,
            portfolios=portfolios,
            as_of=on,
        )
        # "May not buy" lists see the proposed purchase itself.
        buy_rules = [s for s in specs if s.params.get("mode") == "buy"]
        if buy_rules:
            bought = evaluate_rules(
                after, buy_rules, trades=frames.security_trades(legs), portfolios=[portfolio.id]
            ).set_index("rule")
            proposed = proposed.set_index("rule")
            proposed.update(bought[["value", "utilisation", "status", "group"]])
            proposed = proposed.reset_index()
        for row in proposed.itertuples(index=False):
            before = today.loc[row.rule]
            rows.append(
                PreTradeRow(
                    rule=rules[int(row.rule)],
                    before_value=_number(before["value"]),
                    before_utilisation=_number(before["utilisation"]),
                    before_status=before["status"],
                    after_value=_number(row.value),
                    after_utilisation=_number(row.utilisation),
                    after_status=row.status,
                    group=str(row.group or ""),
                    detail=row.detail if isinstance(row.detail, dict) else {},
                )
            )
    order = {"breach": 0, "warning": 1, "no_value": 2, "ok": 3}
    rows.sort(key=lambda r: (order.get(r.after_status, 9), r.rule.name))
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
