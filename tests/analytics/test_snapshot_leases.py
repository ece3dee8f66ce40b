"""Snapshots under leases, with no worker: a refresh re-sends a row whose worker
stopped and leaves a live one alone; the nightly chunk takes expired rows over;
the sweeper's recovery sends the compute task again.

Another worker is simulated by writing ``lease_holder`` and ``lease_expires_at``
directly, as its claim would have.
"""

import datetime as dt

import pytest
from django.utils import timezone

from analytics.models import AnalyticsSnapshot, PositionSnapshot, SnapshotStatus
from analytics.services import snapshots
from portal import leases
from tests.factories import InstrumentFactory, PortfolioFactory

AS_OF = dt.date(2024, 1, 4)
DEAD_WORKER = "elsewhere:4242:cafe0001"


@pytest.fixture
def portfolio(db):
    """A portfolio whose current key is as of ``AS_OF`` (one derived position)."""
    portfolio = PortfolioFactory(code="LEASES")
    PositionSnapshot.objects.create(
        portfolio=portfolio, instrument=InstrumentFactory(), date=AS_OF, quantity=1
    )
    return portfolio


@pytest.fixture
def sent(monkeypatch):
    """The compute tasks the snapshot services send (at once or after commit)."""
    tasks: list[tuple[str, tuple]] = []
    monkeypatch.setattr(snapshots, "task_send", lambda name, *args: tasks.append((name, args)))
    monkeypatch.setattr(
        snapshots, "task_send_on_commit", lambda name, *args: tasks.append((name, args))
    )
    return tasks


def _running(portfolio, *, holder: str, seconds_from_now: float) -> AnalyticsSnapshot:
    return AnalyticsSnapshot.objects.create(
        portfolio=portfolio,
        as_of=AS_OF,
        data_version=portfolio.data_version,
        status=SnapshotStatus.RUNNING,
        started_at=timezone.now(),
        lease_holder=holder,
        lease_expires_at=timezone.now() + dt.timedelta(seconds=seconds_from_now),
    )


def test_a_request_for_a_row_a_live_worker_holds_sends_nothing(portfolio, sent):
    held = _running(portfolio, holder=DEAD_WORKER, seconds_from_now=30)

    snapshots.snapshot_request(portfolio=portfolio)

    assert sent == []
    assert AnalyticsSnapshot.objects.get(pk=held.pk).lease_holder == DEAD_WORKER


def test_a_request_for_a_row_whose_lease_expired_resends_it_at_once(portfolio, sent, settings):
    settings.LEASE_SECONDS = {**settings.LEASE_SECONDS, "snapshot": 60}
    stuck = _running(portfolio, holder=DEAD_WORKER, seconds_from_now=-1)

    snapshot = snapshots.snapshot_request(portfolio=portfolio)

    assert snapshot.pk == stuck.pk
    assert sent == [("analytics.snapshot_compute", (stuck.pk,))]
    stuck.refresh_from_db()
    assert stuck.lease_holder == leases.RESENT
    assert stuck.lease_expires_at > timezone.now() + dt.timedelta(seconds=50)


def test_a_request_for_a_row_the_sweeper_resent_sends_it_again(portfolio, sent):
    resent = _running(portfolio, holder=leases.RESENT, seconds_from_now=30)

    snapshots.snapshot_request(portfolio=portfolio)

    assert sent == [("analytics.snapshot_compute", (resent.pk,))]


def test_a_running_row_claimed_before_leases_existed_is_resent(portfolio, sent):
    legacy = AnalyticsSnapshot.objects.create(
        portfolio=portfolio,
        as_of=AS_OF,
        data_version=portfolio.data_version,
        status=SnapshotStatus.RUNNING,
    )

    snapshots.snapshot_request(portfolio=portfolio)

    assert sent == [("analytics.snapshot_compute", (legacy.pk,))]


def test_the_resent_task_takes_the_row_over_and_stores_it(portfolio, sent, monkeypatch):
    stuck = _running(portfolio, holder=DEAD_WORKER, seconds_from_now=-1)
    snapshots.snapshot_request(portfolio=portfolio)
    monkeypatch.setattr(snapshots, "snapshot_result_compute", lambda **kwargs: {"metrics": {}})

    done = snapshots.snapshot_compute(snapshot_id=stuck.pk)

    assert (done.status, done.lease_holder, done.lease_expires_at) == (
        SnapshotStatus.DONE,
        "",
        None,
    )


def test_the_nightly_chunk_takes_over_an_expired_lease_and_skips_a_live_one(
    portfolio, sent, monkeypatch
):
    other = PortfolioFactory(code="LEASES-LIVE")
    PositionSnapshot.objects.create(
        portfolio=other, instrument=InstrumentFactory(), date=AS_OF, quantity=1
    )
    stuck = _running(portfolio, holder=DEAD_WORKER, seconds_from_now=-1)
    live = _running(other, holder=DEAD_WORKER, seconds_from_now=30)
    monkeypatch.setattr(snapshots, "snapshot_result_compute", lambda **kwargs: {"metrics": {}})

    snapshots.snapshots_compute_chunk(portfolio_ids=[portfolio.pk, other.pk])

    assert AnalyticsSnapshot.objects.get(pk=stuck.pk).status == SnapshotStatus.DONE
    assert AnalyticsSnapshot.objects.get(pk=live.pk).status == SnapshotStatus.RUNNING
    assert sent == []  # computed in the chunk's worker


def test_the_sweeper_recovers_snapshots_by_sending_their_task(portfolio, sent):
    stuck = _running(portfolio, holder=DEAD_WORKER, seconds_from_now=-1)

    recovered = leases.leases_sweep()

    assert recovered["snapshot"] == 1
    assert sent == [("analytics.snapshot_compute", (stuck.pk,))]
    assert AnalyticsSnapshot.objects.get(pk=stuck.pk).lease_holder == leases.RESENT
