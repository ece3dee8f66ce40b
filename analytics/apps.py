from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self) -> None:
        from analytics import tasks  # noqa: F401  (registers the tasks services send by name)
        from analytics.models import AnalyticsSnapshot, ImportRun, Portfolio
        from analytics.services.imports.recovery import import_runs_recover
        from analytics.services.imports.runs import IMPORT_LEASE
        from analytics.services.snapshots import LEASE_KIND, snapshots_recover
        from analytics.signals import portfolio_data_changed
        from portal.leases import leased_work_register

        portfolio_data_changed.connect(
            _recompute_snapshots, sender=Portfolio, dispatch_uid="analytics-snapshots"
        )
        # Snapshots whose worker died are re-sent by the lease sweeper.
        leased_work_register(kind=LEASE_KIND, model=AnalyticsSnapshot, recover=snapshots_recover)
        # Imports whose process died: queued uploads are re-sent, the others failed.
        leased_work_register(kind=IMPORT_LEASE, model=ImportRun, recover=import_runs_recover)


def _recompute_snapshots(sender, *, portfolio_ids, **kwargs) -> None:
    """New data for these portfolios: their snapshots are stale; queue the recompute."""
    from analytics.services.snapshots import snapshots_on_data_changed

    snapshots_on_data_changed(portfolio_ids=portfolio_ids)
