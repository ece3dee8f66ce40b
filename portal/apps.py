from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Users, teams and access"

    def ready(self) -> None:
        # Connects the audit receivers; registers the lease sweeper.
        from portal import signals, tasks  # noqa: F401
