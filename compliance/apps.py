from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from analytics.signals import portfolio_data_changed
        from compliance import tasks  # noqa: F401  (registers the tasks services send by name)
        from compliance.receivers import queue_post_trade_evaluation

        portfolio_data_changed.connect(
            queue_post_trade_evaluation, dispatch_uid="compliance.post_trade_evaluation"
        )
