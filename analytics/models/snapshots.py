"""Stored analytics: one snapshot per portfolio, as-of date and data version, and
the risk limits whose utilisation each snapshot reports.

A snapshot is created (``pending``) before its Celery task is sent, so a task
that runs twice finds the row ``done`` and does nothing. When a portfolio's
``data_version`` moves on, its older snapshots are marked ``stale``: readers
still see their numbers (labelled stale) until the recompute finishes.
"""

from django.core.exceptions import ValidationError
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
    CURRENT_DRAWDOWN = "current_drawdown", "Current drawdown"
    GROSS_EXPOSURE = "gross_exposure", "Gross exposure"
    NET_EXPOSURE = "net_exposure", "Net exposure"
    TOP10_WEIGHT = "top10_weight", "Top-10 holdings weight"
    LARGEST_POSITION = "largest_position", "Largest position weight"


class RiskWindow(models.TextChoices):
    """The returns a risk figure is measured on, ending on the snapshot's as-of date.

    ``500D`` is the last 500 daily returns (all of them if fewer); ``1Y``, ``3Y`` and
    ``5Y`` the returns dated after the as-of date minus that many calendar years
    (only when the history reaches back that far); ``SI`` every return since
    inception; ``as_of`` the holdings on the as-of date (exposures, no returns).
    """

    LAST_500_DAYS = "500D", "last 500 daily returns"
    ONE_YEAR = "1Y", "last 1 year"
    THREE_YEARS = "3Y", "last 3 years"
    FIVE_YEARS = "5Y", "last 5 years"
    SINCE_INCEPTION = "SI", "since inception"
    AS_OF = "as_of", "holdings on the as-of date"


RETURN_WINDOWS = (
    RiskWindow.ONE_YEAR,
    RiskWindow.THREE_YEARS,
    RiskWindow.FIVE_YEARS,
    RiskWindow.SINCE_INCEPTION,
)
_VAR_WINDOWS = (RiskWindow.LAST_500_DAYS, *RETURN_WINDOWS)
_POINT_IN_TIME = (RiskWindow.AS_OF,)

RISK_LIMIT_WINDOWS: dict[str, tuple[str, ...]] = {
    RiskLimitMetric.VAR_95: _VAR_WINDOWS,
    RiskLimitMetric.VAR_99: _VAR_WINDOWS,
    RiskLimitMetric.CVAR_95: _VAR_WINDOWS,
    RiskLimitMetric.VOLATILITY: RETURN_WINDOWS,
    RiskLimitMetric.TRACKING_ERROR: RETURN_WINDOWS,
    RiskLimitMetric.BETA: RETURN_WINDOWS,
    RiskLimitMetric.MAX_DRAWDOWN: RETURN_WINDOWS,
    RiskLimitMetric.CURRENT_DRAWDOWN: RETURN_WINDOWS,
    RiskLimitMetric.GROSS_EXPOSURE: _POINT_IN_TIME,
    RiskLimitMetric.NET_EXPOSURE: _POINT_IN_TIME,
    RiskLimitMetric.TOP10_WEIGHT: _POINT_IN_TIME,
    RiskLimitMetric.LARGEST_POSITION: _POINT_IN_TIME,
}
"""The windows a limit on each metric may apply to; the first is the metric's default."""

DEFAULT_RISK_WINDOWS: dict[str, str] = {
    **{metric: windows[0] for metric, windows in RISK_LIMIT_WINDOWS.items()},
    # The windows the Risk tab and the limits used before windows were configurable:
    # VaR on the last 500 returns, volatility, tracking error and beta on one year,
    # drawdowns since inception.
    RiskLimitMetric.VOLATILITY: RiskWindow.ONE_YEAR,
    RiskLimitMetric.TRACKING_ERROR: RiskWindow.ONE_YEAR,
    RiskLimitMetric.BETA: RiskWindow.ONE_YEAR,
    RiskLimitMetric.MAX_DRAWDOWN: RiskWindow.SINCE_INCEPTION,
    RiskLimitMetric.CURRENT_DRAWDOWN: RiskWindow.SINCE_INCEPTION,
}
"""The window a limit applies to when none is given."""


def risk_value_key(metric: str, window: str) -> str:
    """The key of a metric's value on a window in a snapshot's ``risk_values``."""
    return f"{metric}@{window}"


class RiskLimit(models.Model):
    """A cap on one risk figure of one portfolio, measured on ``window`` (see
    :class:`RiskWindow`; blank means the metric's default in
    :data:`DEFAULT_RISK_WINDOWS`, which pages state explicitly). Utilisation is
    |value| ÷ limit; at ``warning_level`` (a fraction of the limit) or above it is a
    warning, above 1 a breach."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="risk_limits")
    metric = models.CharField(max_length=32, choices=RiskLimitMetric.choices)
    limit = models.FloatField(validators=[MinValueValidator(0.0)])
    warning_level = models.FloatField(
        default=0.9, validators=[MinValueValidator(0.0)], help_text="Fraction of the limit."
    )
    window = models.CharField(
        max_length=8,
        choices=RiskWindow.choices,
        blank=True,
        help_text="The returns the figure is measured on; blank: the metric's default window.",
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["portfolio", "metric", "window"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "metric", "window"], name="one_limit_per_metric_window"
            ),
            models.CheckConstraint(condition=models.Q(limit__gt=0), name="limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.portfolio_id} {self.metric} ({self.applied_window}) ≤ {self.limit}"

    @property
    def applied_window(self) -> str:
        """The window the limit is checked on: its own, or the metric's default."""
        return self.window or DEFAULT_RISK_WINDOWS.get(self.metric, "")

    def clean(self) -> None:
        """A window must be one the metric can be measured on."""
        allowed = RISK_LIMIT_WINDOWS.get(self.metric, ())
        if self.window and self.window not in allowed:
            raise ValidationError(
                {
                    "window": f"{self.get_metric_display()} is measured on "
                    + ", ".join(RiskWindow(w).label for w in allowed)
                    + "."
                }
            )
