"""The portal's operations at a glance, for executives and administrators: each
data source's freshness (its last successful pull and whether that is overdue by
more than two polling intervals), failed imports and pulls of the last 24 hours,
the backlog of analytics snapshots and compliance evaluations (pending or
running), the number of messages waiting in each Celery queue (asked of the
broker with a passive declare, so nothing is created), and the report runs that
failed today (once the reports app stores runs; it is looked up by name, never
imported)."""

from __future__ import annotations

import datetime as dt
import logging

from celery import current_app
from django.apps import apps
from django.db import connection
from django.utils import timezone

from analytics.models import AnalyticsSnapshot, DataFetch, DataSource, ImportRun, SnapshotStatus
from analytics.models.ingest import FetchOutcome, ImportStatus
from compliance.models import Evaluation, EvaluationStatus
from dashboards.widgets.base import WidgetRequest, envelope

logger = logging.getLogger(__name__)

TITLE = "Operations"
BACKLOG = (SnapshotStatus.PENDING, SnapshotStatus.RUNNING)


def queue_lengths() -> dict[str, int | None]:
    """Messages waiting in each named queue; None for a queue the broker does not
    know yet or when the broker cannot be reached."""
    # The project's Celery app is the current one (the wiring sets it up); its
    # configured queues are the ones workers consume.
    names = [queue.name for queue in current_app.conf.task_queues or []]
    lengths: dict[str, int | None] = dict.fromkeys(names)
    try:
        with current_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1)
            for name in names:
                channel = conn.channel()
                try:
                    lengths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except Exception:  # an undeclared queue is "unknown", not an error
                    lengths[name] = None
                finally:
                    channel.close()
    except Exception:  # an unreachable broker is shown, not raised
        logger.warning("Celery broker unreachable for the operations widget", exc_info=True)
    return lengths


def failed_report_runs_today() -> int | None:
    """Report runs that failed today, or None while the reports app stores none."""
    try:
        model = apps.get_model("reports", "ReportRun")
    except LookupError:
        return None
    if model._meta.db_table not in connection.introspection.table_names():
        return None
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return model.objects.filter(status="failed", requested_at__gte=start).count()


def build(request: WidgetRequest) -> dict:
    now = timezone.now()
    since = now - dt.timedelta(hours=24)
    sources = []
    for source in DataSource.objects.order_by("name"):
        last = source.last_success_at
        overdue = last is None or now - last > dt.timedelta(minutes=2 * source.interval_minutes)
        sources.append(
            {
                "name": source.name,
                "kind": source.kind,
                "last_success": last.isoformat() if last else None,
                "overdue": overdue,
            }
        )
    return envelope(
        request,
        title=TITLE,
        as_of_time=now.isoformat(),
        operations={
            "sources": sources,
            "failed_imports": ImportRun.objects.filter(
                status=ImportStatus.FAILED, created_at__gte=since
            ).count(),
            "failed_pulls": DataFetch.objects.filter(
                outcome=FetchOutcome.FAILED, started_at__gte=since
            ).count(),
            "snapshot_backlog": AnalyticsSnapshot.objects.filter(status__in=BACKLOG).count(),
            "evaluation_backlog": Evaluation.objects.filter(
                status__in=(EvaluationStatus.PENDING, EvaluationStatus.RUNNING)
            ).count(),
            "queues": queue_lengths(),
            "failed_report_runs_today": failed_report_runs_today(),
        },
    )
