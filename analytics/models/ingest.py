"""How data gets in: import runs (files, uploads, pushes, pulls), their rejected
rows, HTTP pull sources and their fetch log, idempotency keys of the push API,
and corporate actions (splits).

* An ``ImportRun`` is created before any row is read and survives a rolled-back
  import, so every attempt (committed, rejected, failed, dry run) is visible with
  its counts and its first errors. The full list of rejected rows is written to
  ``report`` (a CSV under ``MEDIA_ROOT/imports/``).
* A ``DataSource`` is polled by celery-beat; each HTTP attempt writes one
  ``DataFetch`` row with its outcome, HTTP status and row counts. Secret header
  values are kept encrypted (Fernet, key derived from ``INGEST_CREDENTIALS_KEY``
  or ``SECRET_KEY``) and are never shown back; see ``analytics.ingest.secrets``.
* ``IdempotencyKey`` stores the first response to a push so a client that retries
  the same batch with the same ``Idempotency-Key`` gets the same answer and no
  duplicates.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from analytics.models.market import RATE, Instrument
from portal.leases import Leased


class DataKind(models.TextChoices):
    INSTRUMENTS = "instruments", "Instruments"
    TRADES = "trades", "Trades"
    POSITIONS = "positions", "Positions"
    PRICES = "prices", "Prices"
    FX = "fx", "FX rates"
    CASHFLOWS = "cashflows", "Cash flows"


class DataFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    JSON = "json", 'JSON (a list of objects, or {"rows": [...]})'


class ImportOrigin(models.TextChoices):
    CLI = "cli", "Command line"
    UPLOAD = "upload", "Upload API"
    PUSH = "push", "REST push"
    PULL = "pull", "HTTP pull"
    ADMIN = "admin", "Admin"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMMITTED = "committed", "Committed"
    PARTIAL = "partial", "Committed without rejected rows"
    REJECTED = "rejected", "Rejected (nothing committed)"
    DRY_RUN = "dry_run", "Dry run (nothing committed)"
    FAILED = "failed", "Failed (nothing committed)"


class ImportRun(Leased):
    """One import of one kind of data from one file or batch."""

    kind = models.CharField(max_length=16, choices=DataKind.choices)
    origin = models.CharField(max_length=8, choices=ImportOrigin.choices)
    source = models.CharField(
        max_length=64, help_text="Source name stored on trades, prices, FX and flows"
    )
    file_name = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=8, choices=DataFormat.choices, default="csv")
    file_size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    stored_file = models.CharField(
        max_length=500, blank=True, help_text="Uploaded file kept for a queued import"
    )
    dry_run = models.BooleanField(default=False)
    skip_invalid = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    data_source = models.ForeignKey(
        "analytics.DataSource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_runs",
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="The first errors: {row, field, value, message}"
    )
    error_count = models.PositiveIntegerField(default=0)
    report = models.CharField(
        max_length=500, blank=True, help_text="CSV of every rejected row, relative to MEDIA_ROOT"
    )
    portfolio_ids = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["-created_at"]), models.Index(fields=["actor", "-id"])]

    def __str__(self) -> str:
        return f"import #{self.pk} {self.kind} {self.file_name or self.origin} ({self.status})"

    @property
    def committed(self) -> bool:
        return self.status in (ImportStatus.COMMITTED, ImportStatus.PARTIAL)


class DataSource(models.Model):
    """An HTTP endpoint that celery-beat polls every ``interval_minutes``.

    ``column_mapping`` renames the provider's columns to the portal's
    (``{"Ticker": "instrument", "Close": "close"}``); ``headers`` are plain request
    headers; ``secret_headers_encrypted`` holds headers with credentials
    (``Authorization``, API keys) encrypted at rest, set through
    ``analytics.services.sources.data_source_secret_headers_set``.
    """

    name = models.CharField(max_length=64, unique=True, help_text="Also the source of the rows")
    kind = models.CharField(max_length=16, choices=DataKind.choices)
    url = models.URLField(max_length=1000)
    format = models.CharField(max_length=8, choices=DataFormat.choices, default=DataFormat.CSV)
    headers = models.JSONField(default=dict, blank=True, help_text="Non-secret request headers")
    secret_headers_encrypted = models.TextField(blank=True, editable=False)
    column_mapping = models.JSONField(default=dict, blank=True)
    skip_invalid = models.BooleanField(
        default=False, help_text="Commit the good rows of a file with bad rows"
    )
    interval_minutes = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    timeout_seconds = models.PositiveIntegerField(default=30, validators=[MinValueValidator(1)])
    max_attempts = models.PositiveSmallIntegerField(default=4, validators=[MinValueValidator(1)])
    is_active = models.BooleanField(default=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind} from {self.url})"

    @property
    def has_secret_headers(self) -> bool:
        return bool(self.secret_headers_encrypted)


class FetchOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    LOADED = "loaded", "Loaded"
    REJECTED = "rejected", "Rows rejected"
    RETRYING = "retrying", "Transient error, will retry"
    FAILED = "failed", "Failed"


class DataFetch(models.Model):
    """One HTTP attempt of a pull source: its outcome and what it loaded."""

    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="fetches")
    attempt = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(
        max_length=16, choices=FetchOutcome.choices, default=FetchOutcome.RUNNING
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    bytes_received = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows_loaded = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    import_run = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["data_source", "-started_at"])]
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.data_source_id} attempt {self.attempt}: {self.outcome}"


class IdempotencyKey(Leased):
    """The first answer to a push with this key, replayed to retries.

    ``request_sha256`` guards against a key reused for a different batch (refused
    with 422). A key whose first request is still running has no ``response_status``
    yet; a concurrent retry gets 409.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    import_run = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "endpoint", "key"], name="idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class CorporateActionKind(models.TextChoices):
    SPLIT = "split", "Split (or reverse split)"


class CorporateAction(models.Model):
    """A split of ``ratio`` new shares per old share effective at the open of
    ``ex_date`` (2 = two-for-one, 0.1 = one-for-ten reverse split).

    Prices are stored as the exchange printed them (unadjusted). A split
    multiplies the quantity held from ``ex_date`` on, so that quantity × price is
    continuous across it; the data-quality scan divides the pre-split closes by the
    ratio before looking for price spikes.
    """

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="corporate_actions"
    )
    kind = models.CharField(
        max_length=16, choices=CorporateActionKind.choices, default=CorporateActionKind.SPLIT
    )
    ex_date = models.DateField()
    ratio = models.DecimalField(**RATE)
    source = models.CharField(max_length=64, default="manual")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "kind", "ex_date", "source"],
                name="corporate_action_unique",
            ),
            models.CheckConstraint(condition=Q(ratio__gt=Decimal(0)), name="split_ratio_positive"),
        ]
        ordering = ["instrument", "ex_date"]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.kind} {self.ratio} on {self.ex_date}"
