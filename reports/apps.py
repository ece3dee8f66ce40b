from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from portal.leases import leased_work_register
        from reports import tasks  # noqa: F401  (registers the tasks services send by name)
        from reports.models import ReportRun
        from reports.services.runs import LEASE_KIND, report_runs_recover

        # Runs whose worker died, or whose task never started, are re-sent.
        leased_work_register(kind=LEASE_KIND, model=ReportRun, recover=report_runs_recover)
        # Schedule slots whose task was lost or whose worker died are re-sent.
        from reports.models import ScheduleOccurrence
        from reports.services.dispatch import occurrences_recover
        from reports.services.schedules import OCCURRENCE_LEASE_KIND

        leased_work_register(
            kind=OCCURRENCE_LEASE_KIND, model=ScheduleOccurrence, recover=occurrences_recover
        )
        # Deliveries whose worker died mid-send, or whose task was lost, are re-sent;
        # a delivered report's inbox item read confirms its delivery.
        from portal.channels.inbox import inbox_read
        from reports.models import Delivery
        from reports.services import deliveries

        leased_work_register(
            kind=deliveries.LEASE_KIND, model=Delivery, recover=deliveries.deliveries_recover
        )
        inbox_read.connect(deliveries.inbox_read_received, dispatch_uid="reports-deliveries-read")
        post_migrate.connect(_builtin_templates_sync, sender=self, dispatch_uid="reports-builtin")
        # A worker process that renders reports starts Chromium as it starts
        # (only Celery's worker signals trigger it: never the web process).
        from reports.warmup import signals_connect

        signals_connect()


def _builtin_templates_sync(sender, *, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """After migrate (and after a test database flush): the built-in templates
    exist and match ``reports.builtin``. Skipped while the reports tables are not
    there yet (a migrate to an earlier state)."""
    from reports.builtin import BUILTIN_TEMPLATES
    from reports.models import ReportTemplate, ReportTemplateVersion
    from reports.services.templates import report_template_builtin_sync

    tables = connections[using].introspection.table_names()
    if not {ReportTemplate._meta.db_table, ReportTemplateVersion._meta.db_table} <= set(tables):
        return
    report_template_builtin_sync(definitions=BUILTIN_TEMPLATES)
