from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DashboardsConfig(AppConfig):
    name = "dashboards"

    def ready(self) -> None:
        from dashboards.builtins import builtin_dashboards_on_migrate

        # The built-in dashboards are data that must exist after every migrate;
        # connected with this app as sender so it runs once per migrate.
        post_migrate.connect(
            builtin_dashboards_on_migrate, sender=self, dispatch_uid="dashboards.builtins"
        )
