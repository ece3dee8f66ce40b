"""Running evaluations: claim the pending ones with a lease, then for each as-of
date load the frames once for every portfolio evaluated on it, compute the
results, and store each evaluation's results in its own transaction. A failure is
recorded on the evaluations of its date; the others go on.

Leases (``portal.leases``, kind ``"evaluation"``, ``LEASE_SECONDS["evaluation"]``):
one conditional UPDATE claims the chunk's rows that are pending or that nobody
holds any more (an expired lease, or re-sent by the sweeper); the run keeps the
lease on every row it claimed until the last is stored; storing ``done``
(``evaluation_store``) or ``failed`` (``evaluations_fail``) releases it in the same
UPDATE, and only while this process holds it. A worker killed mid-chunk leaves
its rows ``running`` under a lease nobody renews: once it expires, the
``portal.leases_sweep`` beat job re-sends them (``evaluations_recover``), and the
chunk's redelivered task, finding them still held, does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence

import pandas as pd
from django.db.models import Q
from django.utils import timezone

from analytics.models import Portfolio
from compliance.models import Evaluation, EvaluationStatus, EvaluationTrigger
from compliance.services import frames
from compliance.services.evaluation.histories import return_histories_load
from compliance.services.evaluation.requests import (
    CHUNK_SIZE,
    evaluation_batch_chunk_done,
    evaluation_request,
)
from compliance.services.evaluation.results import Books, rule_results
from compliance.services.evaluation.store import LEASE_KIND, evaluation_store
from compliance.services.rules import rule_specs, rules_by_portfolio
from portal.leases import LEASE_CLEARED, RESENT, lease_claim, lease_holder_name, lease_kept
from portal.task_queue import task_send

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 5000
"""Characters of a failure's text kept on the evaluation."""


def _claim(evaluation_ids: Sequence[int]) -> list[Evaluation]:
    """Take, in one conditional UPDATE with a lease, the evaluations among these ids
    that are pending or running with no live holder (a duplicated task finds them
    held or done and gets none). The claim's ``started_at`` tells this claim's rows
    from any other this process holds."""
    started_at = timezone.now()
    # A running row without a lease was claimed before leases existed: nobody holds it.
    unheld = Q(status=EvaluationStatus.RUNNING) & (
        Q(lease_expires_at__isnull=True) | Q(lease_holder=RESENT)
    )
    lease_claim(
        Evaluation.objects.filter(id__in=list(evaluation_ids)),
        free=Q(status=EvaluationStatus.PENDING) | unheld,
        kind=LEASE_KIND,
        status=EvaluationStatus.RUNNING,
        started_at=started_at,
    )
    return list(
        Evaluation.objects.filter(
            id__in=list(evaluation_ids),
            status=EvaluationStatus.RUNNING,
            lease_holder=lease_holder_name(),
            started_at=started_at,
        ).select_related("portfolio")
    )


def evaluations_fail(*, evaluation_ids: Sequence[int], error: str) -> None:
    """Record a failure readably on the evaluations not finished that nobody else
    holds (pending ones, and running ones this process holds), releasing the lease."""
    Evaluation.objects.filter(
        Q(status=EvaluationStatus.PENDING)
        | Q(status=EvaluationStatus.RUNNING, lease_holder=lease_holder_name()),
        id__in=list(evaluation_ids),
    ).update(
        status=EvaluationStatus.FAILED,
        error=error[:ERROR_MAX_LENGTH],
        finished_at=timezone.now(),
        **LEASE_CLEARED,
    )


def evaluations_recover(evaluation_ids: Sequence[int]) -> None:
    """The lease sweeper's recovery of evaluations whose worker stopped: send
    ``compliance.evaluate`` again for them, grouped by batch (so the batch's
    progress is counted) in chunks of :data:`CHUNK_SIZE`. The sweeper has re-armed
    them, so the tasks claim them."""
    by_batch: dict[int | None, list[int]] = defaultdict(list)
    evaluations = Evaluation.objects.filter(id__in=list(evaluation_ids)).only("id", "batch")
    for evaluation in evaluations.order_by("id"):
        by_batch[evaluation.batch_id].append(evaluation.id)
    for batch_id, ids in by_batch.items():
        for start in range(0, len(ids), CHUNK_SIZE):
            chunk = ids[start : start + CHUNK_SIZE]
            if batch_id is None:
                task_send("compliance.evaluate", chunk)
            else:
                task_send("compliance.evaluate", chunk, batch_id)


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
    """Run the pending evaluations among ``evaluation_ids``, and the running ones
    whose holder stopped (others are skipped: held by a live worker, or finished).
    Portfolios sharing an as-of date go through the engine together. Then the
    batch's progress is counted from its evaluations (so a chunk run again is not
    counted twice). Returns how many were run."""
    claimed = _claim(evaluation_ids)
    by_date: dict[dt.date, list[Evaluation]] = defaultdict(list)
    for evaluation in claimed:
        by_date[evaluation.as_of].append(evaluation)
    held = Evaluation.objects.filter(id__in=[e.id for e in claimed])
    with lease_kept(held, kind=LEASE_KIND):
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
