"""Stored analytics: one snapshot per portfolio, as-of date and data version, and
the risk limits whose utilisation each snapshot reports.

A snapshot is created (``pending``) before its Celery task is sent, so a task
that runs twice finds the row ``done`` and does nothing. When a portfolio's
``data_version`` moves on, its older snapshots are marked ``stale``: readers
still see their numbers (labelled stale) until the recompute finishes.
"""

from django.core.validators import MinValueValidator
from django.db import models

from analytics.models.market import Portfolio
from portal.leases import Leased


class SnapshotStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AnalyticsSnapshot(Leased):
    """The engine's results for ``portfolio`` on data up to ``as_of``, computed from
    the portfolio's data at ``data_version``. ``result`` holds the sections listed
    in ``analytics.services.snapshots`` (metrics, period returns, calendar,
    drawdowns, rolling series, VaR and backtest, exposures, attribution, limits)."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="snapshots")
    as_of = models.DateField()
    data_version = models.PositiveBigIntegerField()
    status = models.CharField(
        max_length=16, choices=SnapshotStatus.choices, default=SnapshotStatus.PENDING
    )
    stale = models.BooleanField(
        default=False, help_text="The portfolio's data changed after this snapshot was keyed."
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "as_of", "data_version"], name="snapshot_natural_key"
            )
        ]
        indexes = [models.Index(fields=["portfolio", "status", "-as_of"])]

    def __str__(self) -> str:
        return f"{self.portfolio_id} as of {self.as_of} v{self.data_version} ({self.status})"


class RiskLimitMetric(models.TextChoices):
    """What a risk limit caps. Fractions throughout (0.05 = 5%); VaR and drawdown
    as positive loss fractions of net assets."""

    VAR_95 = "var_95", "1-day historical VaR 95%"
    VAR_99 = "var_99", "1-day historical VaR 99%"
    CVAR_95 = "cvar_95", "1-day historical CVaR 95%"
    VOLATILITY = "annual_volatility", "Annualised volatility"
    TRACKING_ERROR = "tracking_error", "Tracking error (annualised)"
    BETA = "beta", "Beta to benchmark"
    MAX_DRAWDOWN = "max_drawdown", "Maximum drawdown"
    GROSS_EXPOSURE = "gross_exposure", "Gross exposure"
    NET_EXPOSURE = "net_exposure", "Net exposure"
    TOP10_WEIGHT = "top10_weight", "Top-10 holdings weight"
    LARGEST_POSITION = "largest_position", "Largest position weight"


class RiskLimit(models.Model):
    """A cap on one risk figure of one portfolio. Utilisation is |value| ÷ limit;
    at ``warning_level`` (a fraction of the limit) or above it is a warning, above
    1 a breach."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="risk_limits")
    metric = models.CharField(max_length=32, choices=RiskLimitMetric.choices)
    limit = models.FloatField(validators=[MinValueValidator(0.0)])
    warning_level = models.FloatField(
        default=0.9, validators=[MinValueValidator(0.0)], help_text="Fraction of the limit."
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["portfolio", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["portfolio", "metric"], name="one_limit_per_metric"),
            models.CheckConstraint(condition=models.Q(limit__gt=0), name="limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.portfolio_id} {self.metric} ≤ {self.limit}"
