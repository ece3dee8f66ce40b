"""Analytics snapshots: load a portfolio's frames, run the engine, store the result.

Lifecycle (see ``AnalyticsSnapshot``):

1. ``snapshot_request`` creates the ``pending`` row for the portfolio's current key
   (latest valuation date, ``data_version``) and sends ``analytics.snapshot_compute``
   once the transaction commits. Requesting an existing key sends nothing, except
   for a ``failed`` row, which is retried.
2. The task claims the row (``pending`` → ``running``, or a ``running`` row whose
   worker died more than ``STALE_CLAIM`` ago), computes, and stores ``done`` or
   ``failed`` with the error. A duplicate delivery finds the row claimed or done.
3. When a portfolio's data changes (``portfolio_data_changed``), its snapshots are
   marked stale and a new key is requested.
4. A nightly beat job requests the current key of every active portfolio in
   chunks of ``SNAPSHOT_CHUNK_SIZE`` (one task per chunk), so N workers finish
   about N times sooner; keys already ``done`` cost nothing.

Sections of ``result``: ``data`` (valuations, gaps), ``series``, ``metrics``,
``period_returns``, ``calendar``, ``drawdowns``, ``rolling``, ``var``,
``exposures``, ``attribution``, ``factors`` and ``risk_values``. A section that the
data cannot support holds ``{"available": false, "reason": ...}``.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from analytics.engine.metrics import ReturnsDataError
from analytics.models import (
    DERIVED_SOURCE,
    AnalyticsSnapshot,
    Portfolio,
    PositionSnapshot,
    SnapshotStatus,
)
from analytics.services.snapshots import attribution, performance, risk
from analytics.services.snapshots.frames import portfolio_frames_load
from analytics.services.snapshots.jsonify import clean, series
from analytics.services.snapshots.returns import portfolio_returns
from portal.task_queue import task_send, task_send_on_commit

logger = logging.getLogger(__name__)

STALE_CLAIM = dt.timedelta(minutes=30)
CONFIDENCE = 0.95


def portfolio_as_of(*, portfolio: Portfolio) -> dt.date | None:
    """The latest date with derived positions (the key's as-of date), or None."""
    return PositionSnapshot.objects.filter(portfolio=portfolio, source=DERIVED_SOURCE).aggregate(
        latest=Max("date")
    )["latest"]


def snapshot_request(*, portfolio: Portfolio, enqueue: bool = True) -> AnalyticsSnapshot | None:
    """The snapshot row of ``portfolio``'s current key, queued for computing if new
    or failed (unless ``enqueue`` is false: the caller computes it). None when the
    portfolio has no positions yet."""
    as_of = portfolio_as_of(portfolio=portfolio)
    if as_of is None:
        return None
    version = Portfolio.objects.values_list("data_version", flat=True).get(pk=portfolio.pk)
    with transaction.atomic():
        snapshot, created = AnalyticsSnapshot.objects.get_or_create(
            portfolio=portfolio, as_of=as_of, data_version=version
        )
        retry = not created and snapshot.status == SnapshotStatus.FAILED
        if retry:
            AnalyticsSnapshot.objects.filter(pk=snapshot.pk).update(
                status=SnapshotStatus.PENDING, error=""
            )
            snapshot.status = SnapshotStatus.PENDING
        if (created or retry) and enqueue:
            task_send_on_commit("analytics.snapshot_compute", snapshot.pk)
    return snapshot


def _claim(snapshot_id: int) -> bool:
    now = timezone.now()
    claimable = Q(status=SnapshotStatus.PENDING) | Q(
        status=SnapshotStatus.RUNNING, started_at__lt=now - STALE_CLAIM
    )
    return bool(
        AnalyticsSnapshot.objects.filter(claimable, pk=snapshot_id).update(
            status=SnapshotStatus.RUNNING, started_at=now
        )
    )


def snapshot_compute(*, snapshot_id: int) -> AnalyticsSnapshot | None:
    """Compute and store one snapshot; does nothing unless the row can be claimed.
    A failure is stored on the row (status ``failed`` and the error), not raised."""
    if not _claim(snapshot_id):
        return None
    snapshot = AnalyticsSnapshot.objects.select_related("portfolio__benchmark").get(pk=snapshot_id)
    try:
        result = snapshot_result_compute(portfolio=snapshot.portfolio, as_of=snapshot.as_of)
    except Exception as error:  # stored on the row for users and the nightly retry
        logger.exception("snapshot %s failed", snapshot_id)
        AnalyticsSnapshot.objects.filter(pk=snapshot_id).update(
            status=SnapshotStatus.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        snapshot.refresh_from_db()
        return snapshot
    current = Portfolio.objects.values_list("data_version", flat=True).get(pk=snapshot.portfolio_id)
    AnalyticsSnapshot.objects.filter(pk=snapshot_id).update(
        status=SnapshotStatus.DONE,
        result=result,
        finished_at=timezone.now(),
        error="",
        stale=current != snapshot.data_version,
    )
    snapshot.refresh_from_db()
    return snapshot


def _section(compute: Callable[[], dict]) -> dict:
    """Run a section; data it cannot support becomes a reason, not a failed snapshot."""
    try:
        return compute()
    except (ReturnsDataError, ValueError) as error:
        return {"available": False, "reason": str(error)}


def snapshot_result_compute(*, portfolio: Portfolio, as_of: dt.date) -> dict:
    """Every section of a snapshot of ``portfolio`` on data up to ``as_of``."""
    risk_free = settings.ANALYTICS_RISK_FREE_RATE
    frames = portfolio_frames_load(portfolio=portfolio, as_of=as_of)
    returns = portfolio_returns(frames)
    daily, benchmark = returns.portfolio, returns.benchmark
    values = frames.net_assets
    data = {
        "base_currency": frames.base_currency,
        "benchmark": frames.benchmark_code,
        "first_valuation": values.index[0] if len(values) else None,
        "last_valuation": values.index[-1] if len(values) else None,
        "valuations": int(values.notna().sum()),
        "unvalued_dates": int(values.isna().sum()),
        "returns": len(daily),
        "gaps": returns.gaps,
        "benchmark_uncovered": int(benchmark.isna().sum()) if benchmark is not None else None,
        "risk_free_rate": risk_free,
        "periods_per_year": performance.PERIODS_PER_YEAR,
        "flow_timing": "end of day",
    }
    result = {"data": clean(data), "series": _series(values, daily, benchmark)}
    if len(daily) < 2:
        reason = {"available": False, "reason": "Fewer than two measured daily returns."}
        for name in ("metrics", "period_returns", "calendar", "drawdowns", "rolling", "var"):
            result[name] = reason
    else:
        result["metrics"] = _section(
            lambda: performance.metrics_section(
                daily, benchmark, risk_free=risk_free, confidence=CONFIDENCE
            )
        )
        result["period_returns"] = _section(
            lambda: performance.period_returns_section(daily, benchmark)
        )
        result["calendar"] = _section(lambda: performance.calendar_section(daily, benchmark))
        result["drawdowns"] = _section(lambda: performance.drawdowns_section(daily))
        result["rolling"] = _section(
            lambda: performance.rolling_section(daily, benchmark, risk_free=risk_free)
        )
        result["var"] = _section(lambda: risk.var_section(daily))
    result["exposures"] = _section(lambda: risk.exposures_section(frames.holdings))
    result["attribution"] = _section(
        lambda: attribution.brinson_section(portfolio=portfolio, frames=frames, returns=daily)
    )
    result["factors"] = _section(lambda: attribution.factor_section(frames, daily))
    result["risk_values"] = clean(
        risk.risk_values(
            var_rows=result["var"].get("rows", []),
            metrics=result["metrics"] if "windows" in result["metrics"] else {"windows": {}},
            exposures=result["exposures"],
            relative=performance.relative_values(daily, benchmark) if len(daily) > 1 else {},
        )
    )
    return result


def _series(values, daily, benchmark) -> dict:
    growth = (1.0 + daily).cumprod() - 1.0
    payload = {
        "net_assets": series(values),
        "returns": series(daily),
        "cumulative": series(growth),
    }
    if benchmark is not None:
        covered = benchmark.fillna(0.0)
        cumulative = (1.0 + covered).cumprod() - 1.0
        payload["benchmark_cumulative"] = series(cumulative.where(benchmark.notna(), np.nan))
    return payload


def snapshots_on_data_changed(*, portfolio_ids: Iterable[int]) -> None:
    """Mark the portfolios' older snapshots stale and request their current keys."""
    ids = list(portfolio_ids)
    for portfolio in Portfolio.objects.filter(pk__in=ids):
        AnalyticsSnapshot.objects.filter(
            portfolio=portfolio, data_version__lt=portfolio.data_version, stale=False
        ).update(stale=True)
        snapshot_request(portfolio=portfolio)


def snapshots_refresh_all(*, chunk_size: int | None = None) -> int:
    """Fan the active portfolios out in chunks, one ``analytics.snapshots_request_chunk``
    task per chunk. Returns the number of chunks sent."""
    size = chunk_size or settings.SNAPSHOT_CHUNK_SIZE
    ids = list(Portfolio.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    for chunk in chunks:
        task_send("analytics.snapshots_request_chunk", chunk)
    return len(chunks)


def snapshots_compute_chunk(*, portfolio_ids: Iterable[int]) -> None:
    """Request each portfolio's current key and compute it in this worker (the chunk is
    the unit of parallelism); keys already done are skipped."""
    for portfolio in Portfolio.objects.filter(pk__in=list(portfolio_ids)).select_related(
        "benchmark"
    ):
        snapshot = snapshot_request(portfolio=portfolio, enqueue=False)
        if snapshot is not None and snapshot.status == SnapshotStatus.PENDING:
            snapshot_compute(snapshot_id=snapshot.pk)
