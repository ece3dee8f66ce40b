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
        post_migrate.connect(_builtin_templates_sync, sender=self, dispatch_uid="reports-builtin")


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
