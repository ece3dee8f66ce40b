"""Requesting evaluations: one row per (portfolio, as-of date, data version, rules
fingerprint), created before its task is sent, for a post-trade change, the daily
fan-out or a manual run; and the daily batch's chunk count.

Tasks are sent by name after commit (``compliance.evaluate``), in chunks of
:data:`CHUNK_SIZE` evaluation ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics.models import Portfolio
from analytics.selectors.frames import latest_position_dates
from compliance.models import (
    Evaluation,
    EvaluationBatch,
    EvaluationStatus,
    EvaluationTrigger,
    Rule,
)
from compliance.services.rules import rules_by_portfolio, rules_fingerprint
from portal.task_queue import task_send_on_commit

T = TypeVar("T")

CHUNK_SIZE = 100
"""Portfolios per task in a fan-out. The engine is vectorised across portfolios, so
larger chunks amortise the per-query cost; 100 portfolios × ~200 holdings load and
evaluate in well under a second, which keeps chunks short enough for a fair
spread over workers and for a retry to be cheap."""


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
    date = latest_position_dates(portfolio_ids=[portfolio.id], on_or_before=as_of).get(portfolio.id)
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


def _chunks(items: list[T]) -> list[list[T]]:
    return [items[start : start + CHUNK_SIZE] for start in range(0, len(items), CHUNK_SIZE)]


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
        if evaluation is not None and created:
            created_ids.append(evaluation.id)
    for chunk in _chunks(created_ids):
        task_send_on_commit("compliance.evaluate", chunk)
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
        dates = latest_position_dates(portfolio_ids=portfolio_ids, on_or_before=as_of)
        pending = []
        for portfolio in Portfolio.objects.filter(id__in=list(dates)):
            evaluation, was_created = evaluation_request(
                portfolio=portfolio,
                trigger=EvaluationTrigger.DAILY,
                as_of=dates[portfolio.id],
                batch=batch,
                rules=rules_for[portfolio.id],
            )
            if evaluation is not None and was_created:
                pending.append(evaluation.id)
        chunks = _chunks(sorted(pending))  # in id order, as the progress count reads them
        batch.portfolios_total = len(pending)
        batch.chunks_total = len(chunks)
        batch.status = EvaluationStatus.RUNNING if chunks else EvaluationStatus.DONE
        batch.finished_at = None if chunks else timezone.now()
        batch.save()
        for chunk in chunks:
            task_send_on_commit("compliance.evaluate", chunk, batch.id)
    return batch


@transaction.atomic
def evaluation_batch_chunk_done(*, batch_id: int) -> None:
    """Count the batch's finished chunks after a chunk's run; the run that finds
    every evaluation of the batch finished closes it.

    The count is read from the evaluations, not added to: a chunk is the
    :data:`CHUNK_SIZE` evaluations of the batch that follow each other in id order
    (how ``evaluation_batch_start`` cut them), finished once all of them are done
    or failed. So a chunk run again (its task redelivered after a worker died, or
    its rows re-sent by the lease sweeper, in any grouping) is counted once, and
    a run that found nothing to claim counts nothing new. The batch row is locked
    while counting, so chunks finishing at once never lower the count."""
    batch = EvaluationBatch.objects.select_for_update().filter(id=batch_id).first()
    if batch is None or batch.status != EvaluationStatus.RUNNING:
        return
    finished = [
        status in (EvaluationStatus.DONE, EvaluationStatus.FAILED)
        for status in batch.evaluations.order_by("id").values_list("status", flat=True)
    ]
    chunks_done = sum(all(chunk) for chunk in _chunks(finished))
    batch.chunks_done = max(batch.chunks_done, chunks_done)
    if all(finished):
        batch.chunks_done = batch.chunks_total
        batch.status = EvaluationStatus.DONE
        batch.finished_at = timezone.now()
    batch.save(update_fields=["chunks_done", "status", "finished_at"])
