"""Report templates and their versions, shares, runs and the files runs made.

A **template** is a named, owned definition; every edit appends a
**version** (its blocks, parameters and layout at that time), so a run can name
exactly what it rendered. Built-in templates have no owner (``is_builtin``) and
are kept in step with ``reports.builtin`` after every migrate.

A **version**'s JSON fields:

* ``blocks``: ``[{"kind": "<catalog kind>", "options": {...}}, ...]`` in report
  order (options as given by the user; merged over the block's defaults when run).
* ``parameters``: ``scope`` (``"portfolios"``: the codes in ``portfolios``;
  ``"entitled"``: every active portfolio the running user may see; ``"team"``:
  the portfolios entitled to team ``team`` (an id) that the user may also see),
  ``period`` (a key of ``reports.periods``, with ``start``/``end`` ISO dates for
  ``custom``), ``benchmark`` (a benchmark code overriding each portfolio's own, or
  null) and ``reporting_currency`` (an ISO code, or null for each portfolio's base).
* ``layout``: the fields of ``reports.document.Layout``.

A **share** gives one user or one team a level on a template: ``view`` (see and
clone it), ``run`` (also run it) or ``edit`` (also change it). Only the owner
shares and deletes.

A **run** is created before its task is sent, under a unique natural ``key``,
and is claimed with a lease (``portal.leases``) so a task delivered twice renders
once and a run whose worker died is taken over. It records what it rendered:
the version (or, for an ad hoc run, the definition), the parameters, the
portfolios' data (``data``: ``{code: {"data_version", "snapshot_id", "as_of",
"stale", "period_start", "period_end"}}``), the data-quality summary
(``quality``) and the warnings; files are stored through Django's storage API
(``settings.STORAGES["reports"]``) and described by :class:`ReportFile`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.leases import Leased


class ReportTemplate(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="report_templates",
        help_text="Empty for built-in templates.",
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_builtin = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "name"], name="reports_template_owner")]

    def __str__(self) -> str:
        return self.name

    def version_latest(self) -> ReportTemplateVersion | None:
        """The newest version (what a run uses), or None before the first."""
        return self.versions.order_by("-number").first()


class ReportTemplateVersion(models.Model):
    """One saved state of a template (see the module for the JSON fields)."""

    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    blocks = models.JSONField(default=list)
    parameters = models.JSONField(default=dict)
    layout = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="reports_template_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number}"


class ShareLevel(models.TextChoices):
    """What a share allows, each level including the ones before it."""

    VIEW = "view", "View"
    RUN = "run", "Run"
    EDIT = "edit", "Edit"


SHARE_LEVEL_RANK = {ShareLevel.VIEW: 1, ShareLevel.RUN: 2, ShareLevel.EDIT: 3}
"""Levels in order: a share at a higher rank allows everything a lower one does."""


class ReportShare(models.Model):
    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="report_shares",
    )
    team = models.ForeignKey(
        "portal.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="report_shares",
    )
    level = models.CharField(max_length=8, choices=ShareLevel.choices, default=ShareLevel.VIEW)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True))
                | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="reports_share_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["template", "user"],
                condition=Q(user__isnull=False),
                name="reports_share_unique_user",
            ),
            models.UniqueConstraint(
                fields=["template", "team"],
                condition=Q(team__isnull=False),
                name="reports_share_unique_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.user or self.team} ({self.level})"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ReportRun(Leased):
    """One rendering of a template version (or an ad hoc definition) as a user.

    ``key`` is the natural key the run was requested under (unique): a request
    repeated with the same key finds this row instead of creating another.
    ``definition`` holds what was rendered when there is no version (an ad hoc
    run): ``{"name", "description", "blocks", "layout"}``. ``progress_done`` of
    ``progress_total`` steps (one per block, then one per format) are finished;
    ``progress_label`` says what is being done. ``error`` is a sentence for the
    user; ``traceback`` is for administrators only."""

    key = models.CharField(max_length=200, unique=True)
    template = models.ForeignKey(
        ReportTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    version = models.ForeignKey(
        ReportTemplateVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    title = models.CharField(max_length=200)
    definition = models.JSONField(default=dict, blank=True)
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_runs_requested",
    )
    parameters = models.JSONField(default=dict)
    formats = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_label = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    data_as_of = models.DateField(null=True, blank=True)
    quality = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    incomplete = models.JSONField(
        default=list, blank=True, help_text="The data gaps the report's banner named."
    )
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["run_as", "-requested_at"], name="reports_run_run_as"),
            models.Index(fields=["requested_by", "-requested_at"], name="reports_run_requested_by"),
            models.Index(fields=["template", "-requested_at"], name="reports_run_template"),
            models.Index(fields=["status", "-requested_at"], name="reports_run_status"),
        ]

    def __str__(self) -> str:
        return f"{self.title} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from the start of the (last) attempt to the end, or None."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ReportFile(models.Model):
    """A file a run made. ``storage_name`` is its name in
    ``storages["reports"]``; ``size`` is in bytes; ``sha256`` is the hex digest
    of its bytes; ``pages`` (PDF) and ``sheets`` (XLSX) are None for other
    formats. ``name`` is unique within the run (the download URL's last part)."""

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    format = models.CharField(max_length=8)
    storage_name = models.CharField(max_length=500)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveIntegerField(null=True, blank=True)
    sheets = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="reports_file_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.name}"


# --- Schedules and deliveries ---------------------------------------------------
#
# A **schedule** ties a template to a time rule (a cron expression in an IANA time
# zone, or a market-calendar rule on an exchange's calendar at a local time), a
# relative period, formats, channels and recipients. It carries its own
# ``next_run_at``; the dispatcher (beat, every minute) claims a due schedule with
# a conditional UPDATE on ``next_run_at``, so one slot starts once.
#
# An **occurrence** is one slot of a schedule (unique per schedule and slot): the
# period it covers, whether its data is ready, and its fan-out into deliveries.
#
# A **delivery** is one recipient's copy on one channel (unique natural ``key``:
# schedule, slot, recipient, channel and, when bursting, portfolio), created
# before its task is sent, claimed with a lease, tracked from ``queued`` to
# ``confirmed`` (or ``failed`` / ``refused``), with its attempts and errors. The
# run it sends (``run``) archives what was sent: template version, parameters,
# data as-of and each file's SHA-256.


class ScheduleCalendarRule(models.TextChoices):
    EVERY_BUSINESS_DAY = "every_business_day", "Every business day"
    NTH_BUSINESS_DAY = "nth_business_day", "Nth business day of the month"
    LAST_BUSINESS_DAY_OF_MONTH = "last_business_day_of_month", "Last business day of the month"
    LAST_BUSINESS_DAY_OF_QUARTER = (
        "last_business_day_of_quarter",
        "Last business day of the quarter",
    )


class ScheduleCopies(models.TextChoices):
    PER_RECIPIENT = "per_recipient", "Each recipient's own entitlements"
    IDENTICAL = "identical", "One identical copy for everyone"


class ScheduleIncompleteAction(models.TextChoices):
    SEND_WITH_BANNER = "send", "Send with an “incomplete data” banner"
    HOLD = "hold", "Hold and tell the owner"


class ScheduleMissedAction(models.TextChoices):
    RUN_ONCE = "run_once", "Run once when back"
    SKIP = "skip", "Skip"


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"
    INBOX = "inbox", "In-app inbox"


class Schedule(models.Model):
    """A template delivered on a time rule (see the section comment above).

    Exactly one of ``cron`` (five fields, read in ``timezone``) and
    ``calendar_rule`` (with ``calendar_n`` for the Nth business day, at local
    ``time`` on ``exchange``'s calendar in ``timezone``) is set. ``period`` is a
    relative period key resolved on each slot's local date
    (``reports.schedule_times``). ``parameters`` override the template's
    (``portfolios``, ``scope``, ``benchmark``, ``reporting_currency``).
    ``recipient_emails`` are external addresses, each allowed by an
    :class:`ExternalRecipient` rule. ``ready_wait_minutes`` is how long a slot
    waits for complete data before ``incomplete_action``. ``next_run_at`` is
    the next slot in UTC (None while paused or when no slot remains).
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_schedules"
    )
    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=200)
    cron = models.CharField(max_length=100, blank=True)
    calendar_rule = models.CharField(
        max_length=40, choices=ScheduleCalendarRule.choices, blank=True
    )
    calendar_n = models.PositiveSmallIntegerField(null=True, blank=True)
    exchange = models.CharField(max_length=10, default="XNYS")
    time = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    period = models.CharField(max_length=40, default="previous_month")
    parameters = models.JSONField(default=dict, blank=True)
    formats = models.JSONField(default=list)
    channels = models.JSONField(default=list)
    recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="report_schedules_received"
    )
    recipient_teams = models.ManyToManyField(
        "portal.Team", blank=True, related_name="report_schedules_received"
    )
    recipient_emails = models.JSONField(default=list, blank=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=100, blank=True)
    burst = models.BooleanField(default=False)
    copies = models.CharField(
        max_length=16, choices=ScheduleCopies.choices, default=ScheduleCopies.PER_RECIPIENT
    )
    ready_wait_minutes = models.PositiveIntegerField(default=120)
    incomplete_action = models.CharField(
        max_length=8,
        choices=ScheduleIncompleteAction.choices,
        default=ScheduleIncompleteAction.SEND_WITH_BANNER,
    )
    missed_action = models.CharField(
        max_length=10,
        choices=ScheduleMissedAction.choices,
        default=ScheduleMissedAction.RUN_ONCE,
    )
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["enabled", "next_run_at"], name="reports_schedule_due"),
            models.Index(fields=["owner", "name"], name="reports_schedule_owner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(cron="") & ~Q(calendar_rule="")) | (~Q(cron="") & Q(calendar_rule="")),
                name="reports_schedule_cron_xor_calendar",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OccurrenceState(models.TextChoices):
    WAITING = "waiting", "Waiting for data"
    DELIVERING = "delivering", "Delivering"
    DONE = "done", "Done"
    HELD = "held", "Held: data incomplete"
    SKIPPED = "skipped", "Skipped"


class ScheduleOccurrence(Leased):
    """One slot of a schedule: ``slot_at`` (UTC) is when it was due, ``period_start``
    to ``period_end`` (inclusive dates; ``period_start`` None for since inception)
    what it covers, ``ready_by`` until when it waits for complete data.
    ``manual`` marks a "run now" (its ``slot_at`` is the moment it was asked)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="occurrences")
    slot_at = models.DateTimeField()
    manual = models.BooleanField(default=False)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField()
    period_label = models.CharField(max_length=100, blank=True)
    state = models.CharField(
        max_length=12, choices=OccurrenceState.choices, default=OccurrenceState.WAITING
    )
    ready_by = models.DateTimeField()
    incomplete = models.JSONField(
        default=list, blank=True, help_text="What was missing when the wait ended."
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-slot_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "slot_at"], name="reports_occurrence_once_per_slot"
            )
        ]
        indexes = [models.Index(fields=["state", "ready_by"], name="reports_occurrence_state")]

    def __str__(self) -> str:
        return f"{self.schedule_id} @ {self.slot_at:%Y-%m-%d %H:%M}Z ({self.state})"


class DeliveryState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    CONFIRMED = "confirmed", "Confirmed"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"


class Delivery(Leased):
    """One recipient's copy of one occurrence on one channel.

    The recipient is a user (``recipient``) or, for e-mail to an external address
    or the schedule's webhook, ``address`` (the e-mail address or webhook URL).
    ``portfolio`` is set when the schedule bursts (one file per portfolio).
    ``run`` is the rendering this delivery sends (shared by one recipient's
    channels); ``message_id`` the e-mail's Message-ID, ``response_status`` the
    webhook's HTTP status, ``inbox_message`` the inbox item. ``attempts`` counts
    sending attempts; ``next_attempt_at`` is when a transient failure is retried.
    """

    key = models.CharField(max_length=300, unique=True)
    occurrence = models.ForeignKey(
        ScheduleOccurrence, on_delete=models.CASCADE, related_name="deliveries"
    )
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=DeliveryChannel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="report_deliveries",
    )
    address = models.CharField(max_length=500, blank=True)
    portfolio = models.ForeignKey(
        "analytics.Portfolio",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="report_deliveries",
    )
    run = models.ForeignKey(
        ReportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    inbox_message = models.ForeignKey(
        "portal.InboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation = models.CharField(
        max_length=100, blank=True, help_text="What confirmed it: a link opened, a 2xx, a read."
    )
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["schedule", "-created_at"], name="reports_delivery_schedule"),
            models.Index(fields=["recipient", "-created_at"], name="reports_delivery_recipient"),
            models.Index(fields=["state", "next_attempt_at"], name="reports_delivery_state"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class ExternalRecipientKind(models.TextChoices):
    EMAIL = "email", "One e-mail address"
    EMAIL_DOMAIN = "email_domain", "Every address at a domain"
    WEBHOOK_HOST = "webhook_host", "Webhooks to a host"


class ExternalRecipient(models.Model):
    """An admin's allow-list entry: schedules may send outside the portal's users
    only to an address, domain or webhook host listed here (lower case; a domain
    without the ``@``)."""

    kind = models.CharField(max_length=14, choices=ExternalRecipientKind.choices)
    value = models.CharField(max_length=255)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value"], name="reports_external_recipient_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"
