"""Evaluations under leases, with no worker: a chunk's rows are claimed with one
lease, a live holder's rows are left alone, a holder that lost its lease stores
nothing, the sweeper re-sends a dead worker's chunk, and the daily batch counts
a chunk once however often it runs.

The portfolios have no rules in scope, so an evaluation that runs is simply
marked done. Another worker is simulated by writing ``lease_holder`` and
``lease_expires_at`` directly, as its claim would have.
"""

import datetime as dt

import pytest
from django.utils import timezone

from compliance.models import Evaluation, EvaluationBatch, EvaluationStatus, EvaluationTrigger
from compliance.services.evaluation import requests, run
from compliance.services.evaluation.store import evaluation_store
from portal import leases
from tests.factories import PortfolioFactory

AS_OF = dt.date(2024, 3, 4)
OTHER_WORKER = "elsewhere:4242:cafe0001"


@pytest.fixture
def chunks_of_two(monkeypatch):
    monkeypatch.setattr(requests, "CHUNK_SIZE", 2)
    monkeypatch.setattr(run, "CHUNK_SIZE", 2)


@pytest.fixture
def sent(monkeypatch):
    tasks: list[tuple[str, tuple]] = []
    monkeypatch.setattr(run, "task_send", lambda name, *args: tasks.append((name, args)))
    return tasks


def _evaluations(count: int, *, batch=None, code: str = "EV") -> list[Evaluation]:
    return [
        Evaluation.objects.create(
            portfolio=PortfolioFactory(code=f"{code}-{n}"),
            as_of=AS_OF,
            data_version=0,
            rules_fingerprint="none",
            trigger=EvaluationTrigger.DAILY,
            batch=batch,
        )
        for n in range(count)
    ]


def _batch(*, evaluations: int, chunks: int) -> tuple[EvaluationBatch, list[int]]:
    batch = EvaluationBatch.objects.create(
        as_of=AS_OF,
        trigger=EvaluationTrigger.DAILY,
        status=EvaluationStatus.RUNNING,
        portfolios_total=evaluations,
        chunks_total=chunks,
    )
    return batch, [e.id for e in _evaluations(evaluations, batch=batch)]


def _held_by(ids, holder: str, *, seconds_from_now: float) -> None:
    Evaluation.objects.filter(id__in=ids).update(
        status=EvaluationStatus.RUNNING,
        lease_holder=holder,
        lease_expires_at=timezone.now() + dt.timedelta(seconds=seconds_from_now),
    )


def _statuses(ids) -> list[str]:
    return list(
        Evaluation.objects.filter(id__in=ids).order_by("id").values_list("status", flat=True)
    )


def test_a_chunk_is_claimed_with_one_lease_and_released_when_stored(db):
    ids = [e.id for e in _evaluations(3)]

    assert run.evaluations_run(evaluation_ids=ids) == 3

    assert _statuses(ids) == [EvaluationStatus.DONE] * 3
    assert set(Evaluation.objects.values_list("lease_holder", "lease_expires_at")) == {("", None)}


def test_rows_a_live_worker_holds_are_skipped_and_expired_ones_taken_over(db):
    live, expired, pending = (e.id for e in _evaluations(3))
    _held_by([live], OTHER_WORKER, seconds_from_now=60)
    _held_by([expired], OTHER_WORKER, seconds_from_now=-1)

    assert run.evaluations_run(evaluation_ids=[live, expired, pending]) == 2

    assert _statuses([live, expired, pending]) == [
        EvaluationStatus.RUNNING,
        EvaluationStatus.DONE,
        EvaluationStatus.DONE,
    ]
    assert Evaluation.objects.get(id=live).lease_holder == OTHER_WORKER


def test_a_worker_that_lost_its_lease_stores_no_results(db):
    evaluation = _evaluations(1)[0]
    (claimed,) = run._claim([evaluation.id])
    _held_by([evaluation.id], OTHER_WORKER, seconds_from_now=60)  # taken over meanwhile

    assert evaluation_store(evaluation=claimed, rows=None, rules={}, unvalued=0) == []

    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.lease_holder) == (EvaluationStatus.RUNNING, OTHER_WORKER)


def test_a_failure_is_not_written_over_a_live_worker_s_evaluations(db):
    held, pending = (e.id for e in _evaluations(2))
    _held_by([held], OTHER_WORKER, seconds_from_now=60)

    run.evaluations_fail(evaluation_ids=[held, pending], error="RuntimeError('broker gone')")

    assert _statuses([held, pending]) == [EvaluationStatus.RUNNING, EvaluationStatus.FAILED]
    assert Evaluation.objects.get(id=pending).lease_holder == ""


def test_a_chunk_run_twice_is_counted_once(db, chunks_of_two):
    batch, ids = _batch(evaluations=4, chunks=2)

    run.evaluations_run(evaluation_ids=ids[:2], batch_id=batch.id)
    run.evaluations_run(evaluation_ids=ids[:2], batch_id=batch.id)  # a duplicate delivery
    batch.refresh_from_db()
    assert (batch.chunks_done, batch.status) == (1, EvaluationStatus.RUNNING)

    run.evaluations_run(evaluation_ids=ids[2:], batch_id=batch.id)
    batch.refresh_from_db()
    assert (batch.chunks_done, batch.status) == (2, EvaluationStatus.DONE)


def test_a_dead_worker_s_chunk_is_resent_by_the_sweeper_and_counted_once(db, chunks_of_two, sent):
    batch, ids = _batch(evaluations=2, chunks=1)
    _held_by(ids, OTHER_WORKER, seconds_from_now=60)  # the worker was killed mid-chunk

    # The chunk's task, redelivered while the dead worker's lease still runs, does nothing.
    assert run.evaluations_run(evaluation_ids=ids, batch_id=batch.id) == 0
    batch.refresh_from_db()
    assert (batch.chunks_done, batch.status) == (0, EvaluationStatus.RUNNING)

    Evaluation.objects.filter(id__in=ids).update(lease_expires_at=timezone.now())
    assert leases.leases_sweep()["evaluation"] == 2
    assert sent == [("compliance.evaluate", (ids, batch.id))]
    assert set(Evaluation.objects.values_list("lease_holder", flat=True)) == {leases.RESENT}

    assert run.evaluations_run(evaluation_ids=ids, batch_id=batch.id) == 2
    batch.refresh_from_db()
    assert (batch.chunks_done, batch.status) == (1, EvaluationStatus.DONE)
    assert _statuses(ids) == [EvaluationStatus.DONE] * 2


def test_recovery_sends_one_task_per_batch_and_chunk(db, chunks_of_two, sent):
    batch, in_batch = _batch(evaluations=3, chunks=2)
    loose = [e.id for e in _evaluations(1, code="LOOSE")]

    run.evaluations_recover([*in_batch, *loose])

    assert sorted(sent, key=str) == sorted(
        [
            ("compliance.evaluate", (in_batch[:2], batch.id)),
            ("compliance.evaluate", (in_batch[2:], batch.id)),
            ("compliance.evaluate", (loose,)),
        ],
        key=str,
    )
