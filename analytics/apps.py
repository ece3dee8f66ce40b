from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self) -> None:
        from analytics import tasks  # noqa: F401  (registers the tasks services send by name)
        from analytics.models import Portfolio
        from analytics.signals import portfolio_data_changed

        portfolio_data_changed.connect(
            _recompute_snapshots, sender=Portfolio, dispatch_uid="analytics-snapshots"
        )


def _recompute_snapshots(sender, *, portfolio_ids, **kwargs) -> None:
    """New data for these portfolios: their snapshots are stale; queue the recompute."""
    from analytics.services.snapshots import snapshots_on_data_changed

    snapshots_on_data_changed(portfolio_ids=portfolio_ids)
