from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Users, teams and access"

    def ready(self) -> None:
        from portal import signals  # noqa: F401  (connects the audit receivers)
        from portal import tasks  # noqa: F401  (registers the lease sweeper)
