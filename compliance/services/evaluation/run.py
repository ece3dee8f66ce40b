"""Running evaluations: claim the pending ones, then for each as-of date load the
frames once for every portfolio evaluated on it, compute the results, and store
each evaluation's results in its own transaction. A failure is recorded on the
evaluations of its date; the others go on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence

import pandas as pd
from django.utils import timezone

from analytics.models import Portfolio
from compliance.models import Evaluation, EvaluationStatus, EvaluationTrigger
from compliance.services import frames
from compliance.services.evaluation.histories import return_histories_load
from compliance.services.evaluation.requests import (
    evaluation_batch_chunk_done,
    evaluation_request,
)
from compliance.services.evaluation.results import Books, rule_results
from compliance.services.evaluation.store import evaluation_store
from compliance.services.rules import rule_specs, rules_by_portfolio

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 5000
"""Characters of a failure's text kept on the evaluation."""


def _claim(evaluation_ids: Sequence[int]) -> list[Evaluation]:
    """Take the pending evaluations among these ids, one conditional update each
    (a duplicated task finds them running or done and gets none)."""

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
    ).update(
        status=EvaluationStatus.FAILED, error=error[:ERROR_MAX_LENGTH], finished_at=timezone.now()
    )


def _evaluate_date(evaluations: list[Evaluation], as_of: dt.date) -> None:
    """Load → compute → store the evaluations of several portfolios on one date."""
    portfolios: dict[int, Portfolio] = {e.portfolio_id: e.portfolio for e in evaluations}
    rules_for = rules_by_portfolio(portfolio_ids=portfolios)
    rules = {rule.id: rule for group in rules_for.values() for rule in group}
    specs = rule_specs(rules_for=rules_for)
    dates = dict.fromkeys(portfolios, as_of)
    holdings, unvalued = frames.holdings_frame(dates=dates)
    results = pd.DataFrame(columns=["portfolio"])
    if specs:
        books = Books.with_legs(holdings=holdings, legs=frames.trade_legs_frame(dates=dates))
        histories = return_histories_load(
            specs=specs, portfolios=portfolios, instrument_ids=books.instrument_ids, as_of=as_of
        )
        results = rule_results(
            books=books, specs=specs, portfolio_ids=list(portfolios), histories=histories
        )
    by_portfolio = dict(tuple(results.groupby("portfolio"))) if len(results) else {}
    for evaluation in evaluations:
        evaluation_store(
            evaluation=evaluation,
            rows=by_portfolio.get(evaluation.portfolio_id),
            rules=rules,
            unvalued=unvalued.get(evaluation.portfolio_id, 0),
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
            _evaluate_date(group, as_of)
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
