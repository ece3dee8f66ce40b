"""Data quality: findings about missing, late or inconsistent data, and per
portfolio and date how complete its data is and how current.

Findings are written by ``analytics.services.quality`` scans. Each has a
``fingerprint`` (kind + portfolio + instrument + date + detail key) so that a scan
run twice updates ``last_seen_at`` rather than adding a copy, and a finding the
next scan no longer sees is closed (``resolved_at``) rather than deleted.
Instrument-wide findings (a stale, gapped or spiking price series) have no
portfolio; they concern every portfolio that holds the instrument.
"""

from django.db import models


class FindingKind(models.TextChoices):
    POSITION_BREAK = "position_break", "Position does not reconcile with trades"
    SETTLEMENT_TIMING = "settlement_timing", "Position differs by settlement timing only"
    STALE_PRICE = "stale_price", "Stale price"
    PRICE_GAP = "price_gap", "Missing prices (gap)"
    PRICE_SPIKE = "price_spike", "Price spike"
    MISSING_PRICE = "missing_price", "Holding without a price"
    MISSING_FX = "missing_fx", "Missing FX rate"
    DUPLICATE_TRADE = "duplicate_trade", "Possible duplicate trade"
    NON_TRADING_DAY_TRADE = "non_trading_day_trade", "Trade on a non-trading day"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class DataQualityFinding(models.Model):
    kind = models.CharField(max_length=32, choices=FindingKind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    portfolio = models.ForeignKey(
        "analytics.Portfolio",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quality_findings",
    )
    instrument = models.ForeignKey(
        "analytics.Instrument",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quality_findings",
    )
    date = models.DateField(help_text="The day the finding is about")
    message = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=200, unique=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["portfolio", "resolved_at", "-date"]),
            models.Index(fields=["instrument", "resolved_at", "-date"]),
            models.Index(fields=["kind", "resolved_at"]),
        ]
        ordering = ["-date", "kind"]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.message}"


class PortfolioDataStatus(models.Model):
    """How complete and how current a portfolio's data is on ``date``.

    * ``holdings``: positions held at the close of ``date`` (cash included);
      ``priced``: of them, those with a close on that exact date; ``valued``: those
      also converted into the base currency (an FX rate was there).
    * ``completeness`` = ``valued`` ÷ ``holdings`` (1.0 when nothing is held). A
      day below 1 is a *gap*, not a flat day: analytics must not read a missing
      value as a zero return (``analytics.engine.quality.mask_incomplete``).
    * ``data_as_of``: the oldest "latest close on or before ``date``" among the
      held securities (cash excluded), i.e. the date up to which every holding has
      a price. Equal to ``date`` when nothing is late.
    * ``open_findings``: open findings about this portfolio dated ``date``.
    * ``computed_at``: when the scan computed the row; ``loaded_at``: the end of
      the latest import that changed the portfolio's data.
    """

    portfolio = models.ForeignKey(
        "analytics.Portfolio", on_delete=models.CASCADE, related_name="data_status"
    )
    date = models.DateField()
    holdings = models.PositiveIntegerField(default=0)
    priced = models.PositiveIntegerField(default=0)
    valued = models.PositiveIntegerField(default=0)
    completeness = models.FloatField()
    data_as_of = models.DateField(null=True, blank=True)
    open_findings = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()
    loaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "date"], name="portfolio_data_status_unique"
            )
        ]
        verbose_name_plural = "portfolio data status"

    def __str__(self) -> str:
        return f"{self.portfolio_id} {self.date} {self.completeness:.1%} as of {self.data_as_of}"
