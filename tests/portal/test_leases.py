"""Leases on claimed rows (``portal.leases``), on snapshot rows of a portfolio with
no data: claiming, holding, losing and sweeping, with no worker.

Another holder is simulated by writing ``lease_holder`` and ``lease_expires_at``
directly, as a process elsewhere would have done with its own claim.
"""

import datetime as dt
import os
import time

import pytest
from django.db.models import Q
from django.utils import timezone

from analytics.models import AnalyticsSnapshot, SnapshotStatus
from analytics.services import snapshots
from portal import leases
from tests.factories import PortfolioFactory

OTHER = "elsewhere:4242:cafe0001"
PENDING = Q(status=SnapshotStatus.PENDING)


@pytest.fixture
def row(db):
    portfolio = PortfolioFactory(code="LEASED")
    return AnalyticsSnapshot.objects.create(
        portfolio=portfolio, as_of=dt.date(2024, 1, 2), data_version=1
    )


def _claim(row) -> int:
    return leases.lease_claim(
        AnalyticsSnapshot.objects.filter(pk=row.pk),
        free=PENDING,
        kind="snapshot",
        status=SnapshotStatus.RUNNING,
    )


def _held_by(row, holder, *, seconds_from_now):
    AnalyticsSnapshot.objects.filter(pk=row.pk).update(
        status=SnapshotStatus.RUNNING,
        lease_holder=holder,
        lease_expires_at=timezone.now() + dt.timedelta(seconds=seconds_from_now),
    )


def test_a_free_row_is_claimed_for_one_lease_length(row, settings):
    settings.LEASE_SECONDS = {**settings.LEASE_SECONDS, "snapshot": 90}
    before = timezone.now()

    assert _claim(row) == 1

    row.refresh_from_db()
    assert row.status == SnapshotStatus.RUNNING
    assert row.lease_holder == leases.lease_holder_name()
    assert before + dt.timedelta(seconds=90) <= row.lease_expires_at
    assert row.lease_expires_at <= timezone.now() + dt.timedelta(seconds=90)


def test_the_holder_name_says_host_and_process(row):
    host, pid, token = leases.lease_holder_name().split(":")
    assert (int(pid), len(token)) == (os.getpid(), 8)
    assert host


def test_a_live_lease_is_not_claimable_by_another_holder(row):
    _held_by(row, OTHER, seconds_from_now=60)

    assert _claim(row) == 0

    row.refresh_from_db()
    assert row.lease_holder == OTHER


def test_an_expired_lease_is_taken_over(row):
    _held_by(row, OTHER, seconds_from_now=-1)

    assert _claim(row) == 1

    row.refresh_from_db()
    assert row.lease_holder == leases.lease_holder_name()
    assert row.lease_expires_at > timezone.now()


def test_renewal_extends_only_the_holders_own_lease(row):
    assert _claim(row) == 1
    AnalyticsSnapshot.objects.filter(pk=row.pk).update(
        lease_expires_at=timezone.now() + dt.timedelta(seconds=1)
    )

    assert leases.lease_renew(AnalyticsSnapshot.objects.filter(pk=row.pk), kind="snapshot")
    row.refresh_from_db()
    assert row.lease_expires_at > timezone.now() + dt.timedelta(seconds=30)

    _held_by(row, OTHER, seconds_from_now=5)
    assert not leases.lease_renew(AnalyticsSnapshot.objects.filter(pk=row.pk), kind="snapshot")
    row.refresh_from_db()
    assert row.lease_holder == OTHER


def _wait_until(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_kept_lease_is_renewed_while_the_work_runs(settings):
    """A lease of 0.6 s renewed every 0.2 s outlives its first expiry."""
    settings.LEASE_SECONDS = {**settings.LEASE_SECONDS, "snapshot": 0.6}
    row = AnalyticsSnapshot.objects.create(
        portfolio=PortfolioFactory(code="KEPT"), as_of=dt.date(2024, 1, 2), data_version=1
    )
    assert _claim(row) == 1
    first_expiry = AnalyticsSnapshot.objects.get(pk=row.pk).lease_expires_at

    with leases.lease_kept(AnalyticsSnapshot.objects.filter(pk=row.pk), kind="snapshot") as lease:
        renewed = _wait_until(
            lambda: AnalyticsSnapshot.objects.get(pk=row.pk).lease_expires_at > first_expiry
        )
    assert renewed
    assert not lease.lost
    assert AnalyticsSnapshot.objects.get(pk=row.pk).lease_holder == leases.lease_holder_name()


@pytest.mark.django_db(transaction=True)
def test_a_kept_lease_taken_over_is_reported_lost(settings):
    settings.LEASE_SECONDS = {**settings.LEASE_SECONDS, "snapshot": 0.6}
    row = AnalyticsSnapshot.objects.create(
        portfolio=PortfolioFactory(code="LOST"), as_of=dt.date(2024, 1, 2), data_version=1
    )
    assert _claim(row) == 1

    with leases.lease_kept(AnalyticsSnapshot.objects.filter(pk=row.pk), kind="snapshot") as lease:
        _held_by(row, OTHER, seconds_from_now=60)
        assert _wait_until(lambda: lease.lost)
    assert AnalyticsSnapshot.objects.get(pk=row.pk).lease_holder == OTHER


@pytest.mark.django_db(transaction=True)
def test_a_lease_released_by_its_holder_is_not_reported_lost(settings):
    settings.LEASE_SECONDS = {**settings.LEASE_SECONDS, "snapshot": 0.3}
    row = AnalyticsSnapshot.objects.create(
        portfolio=PortfolioFactory(code="FREED"), as_of=dt.date(2024, 1, 2), data_version=1
    )
    assert _claim(row) == 1

    with leases.lease_kept(AnalyticsSnapshot.objects.filter(pk=row.pk), kind="snapshot") as lease:
        AnalyticsSnapshot.objects.filter(pk=row.pk).update(
            status=SnapshotStatus.DONE, **leases.LEASE_CLEARED
        )
        time.sleep(0.5)  # past a renewal, which finds the row released
    assert not lease.lost


def test_inside_a_transaction_the_lease_is_kept_by_its_row_lock(row):
    """Within the test's transaction no renewal thread runs (it would wait on the
    claim's row lock while the block's exit waited on it)."""
    assert _claim(row) == 1
    with leases.lease_kept(AnalyticsSnapshot.objects.filter(pk=row.pk), kind="snapshot") as lease:
        pass
    assert not lease.lost


@pytest.fixture
def only_test_kind(monkeypatch):
    """The sweeper looking after one test kind of work, recording its recoveries."""
    monkeypatch.setattr(leases, "_registry", {})
    recovered: list[list[int]] = []
    leases.leased_work_register(
        kind="snapshot", model=AnalyticsSnapshot, recover=lambda ids: recovered.append(list(ids))
    )
    return recovered


def test_the_sweep_rearms_expired_rows_and_recovers_them_once(row, only_test_kind, settings):
    settings.LEASE_SECONDS = {**settings.LEASE_SECONDS, "snapshot": 60}
    live = AnalyticsSnapshot.objects.create(
        portfolio=row.portfolio, as_of=dt.date(2024, 1, 3), data_version=1
    )
    _held_by(row, OTHER, seconds_from_now=-5)
    _held_by(live, OTHER, seconds_from_now=30)

    assert leases.leases_sweep() == {"snapshot": 1}

    assert only_test_kind == [[row.pk]]
    row.refresh_from_db()
    assert row.lease_holder == leases.RESENT
    assert row.lease_expires_at > timezone.now() + dt.timedelta(seconds=50)
    assert AnalyticsSnapshot.objects.get(pk=live.pk).lease_holder == OTHER

    # Within the re-armed lease a second sweep leaves the recovery to its task.
    assert leases.leases_sweep() == {"snapshot": 0}
    assert only_test_kind == [[row.pk]]


def test_a_resent_row_is_claimed_by_the_recovering_task(row, only_test_kind):
    _held_by(row, OTHER, seconds_from_now=-5)
    leases.leases_sweep()

    assert _claim(row) == 1
    assert AnalyticsSnapshot.objects.get(pk=row.pk).lease_holder == leases.lease_holder_name()


def test_a_holder_that_lost_its_lease_does_not_store_its_result(row, monkeypatch):
    """The compute runs while another worker takes the row over (after this
    worker's lease expired): this worker's result is not stored."""

    def taken_over_meanwhile(**kwargs):
        _held_by(row, OTHER, seconds_from_now=60)
        return {"metrics": {"from": "the worker that lost its lease"}}

    monkeypatch.setattr(snapshots, "snapshot_result_compute", taken_over_meanwhile)

    snapshots.snapshot_compute(snapshot_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.result, row.lease_holder) == (SnapshotStatus.RUNNING, {}, OTHER)


def test_a_holder_that_lost_its_lease_does_not_store_its_failure(row, monkeypatch):
    def taken_over_then_broken(**kwargs):
        _held_by(row, OTHER, seconds_from_now=60)
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshots, "snapshot_result_compute", taken_over_then_broken)

    snapshots.snapshot_compute(snapshot_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.error, row.lease_holder) == (SnapshotStatus.RUNNING, "", OTHER)


def test_the_holder_stores_its_result_and_releases_the_lease(row, monkeypatch):
    monkeypatch.setattr(snapshots, "snapshot_result_compute", lambda **kwargs: {"metrics": {}})

    snapshots.snapshot_compute(snapshot_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.lease_holder, row.lease_expires_at) == (SnapshotStatus.DONE, "", None)
