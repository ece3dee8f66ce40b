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
