"""Requesting evaluations: one row per (portfolio, as-of date, data version, rules
fingerprint), created before its task is sent, for a post-trade change, the daily
fan-out or a manual run; and the daily batch's chunk count.

Tasks are sent by name after commit (``compliance.evaluate``), in chunks of
:data:`CHUNK_SIZE` evaluation ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F
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


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + CHUNK_SIZE] for start in range(0, len(ids), CHUNK_SIZE)]


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
        chunks = _chunks(pending)
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
