from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from analytics.selectors.overview import overview_fact_register
        from analytics.signals import portfolio_data_changed
        from compliance import tasks  # noqa: F401  (registers the tasks services send by name)
        from compliance.models import Evaluation
        from compliance.overview import open_alert_counts
        from compliance.receivers import queue_post_trade_evaluation
        from compliance.services.evaluation.run import evaluations_recover
        from compliance.services.evaluation.store import LEASE_KIND
        from portal.leases import leased_work_register

        portfolio_data_changed.connect(
            queue_post_trade_evaluation, dispatch_uid="compliance.post_trade_evaluation"
        )
        # Evaluations whose worker died are re-sent by the lease sweeper.
        leased_work_register(kind=LEASE_KIND, model=Evaluation, recover=evaluations_recover)
        # The portfolio overview counts open alerts by severity.
        overview_fact_register("open_alerts", open_alert_counts)
