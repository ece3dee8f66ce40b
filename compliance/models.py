"""Compliance rules, their evaluations, alerts and notifications.

* A :class:`Rule` is one limit of one kind (``compliance.engine.kinds.RuleKind``)
  with parameters, a scope (every portfolio, a team's portfolios, one portfolio),
  a warning level below the hard limit and a cure period.
* An :class:`Evaluation` is one run of the rules in scope for one portfolio on one
  date, keyed by the portfolio's ``data_version`` and a fingerprint of its rules,
  and created *before* its task is sent: a duplicated task finds it done.
* Each evaluation stores a :class:`RuleResult` per rule (value, limit,
  utilisation, status, active/passive), so officers can see how close each
  portfolio ran over time.
* An :class:`Alert` is one breach *episode* of one rule on one portfolio: every
  evaluated day the episode persists adds (or, for a re-run of the same day,
  replaces) one :class:`AlertObservation`; only one episode per rule and portfolio
  can be current (a partial unique constraint).
* :class:`Notification` rows are created (unique per alert, recipient, kind and
  key) before any mail is sent, so a notification is sent at most once; what the
  person reads in the portal (subject, body, read receipt) is its message in the
  core's inbox (``portal.InboxMessage``), where report deliveries land too.

Utilisations are floats and may be ``inf`` (a restricted name held against a
limit of 0), and so may values (the asset coverage of a fund without
borrowings); PostgreSQL and SQLite store that, and every output (API, chart,
page) renders it as unbounded.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from analytics.models import Portfolio
from compliance.engine.kinds import KINDS, KindInfo, RuleKind
from compliance.engine.remediation import RemediationTimeline
from compliance.engine.templates import TEMPLATES, remediation_for
from portal.leases import Leased
from portal.models import Team


class RuleScope(models.TextChoices):
    ALL = "all", "All portfolios"
    TEAM = "team", "A team's portfolios"
    PORTFOLIO = "portfolio", "One portfolio"


RULE_KIND_CHOICES = [(kind.value, info.label) for kind, info in KINDS.items()]


class Rule(models.Model):
    """One compliance limit. ``limit`` and ``params`` follow
    ``compliance.engine.kinds.KINDS[kind]``; ``warning_level`` is the fraction of the
    limit at which a warning is raised (0.9: warn at 90 % utilisation). A team scope
    covers the portfolios that team is entitled to."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, choices=RULE_KIND_CHOICES)
    params = models.JSONField(default=dict, blank=True)
    limit = models.FloatField(validators=[MinValueValidator(0.0)])
    warning_level = models.FloatField(
        default=0.9,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text="Fraction of the limit at which to warn (0.9 = at 90% utilisation).",
    )
    scope = models.CharField(max_length=16, choices=RuleScope.choices, default=RuleScope.ALL)
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="compliance_rules"
    )
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, null=True, blank=True, related_name="compliance_rules"
    )
    template = models.CharField(
        max_length=40, blank=True, help_text="The regulatory template that created the rule."
    )
    description = models.TextField(blank=True)
    cure_period_days = models.PositiveIntegerField(
        default=5, help_text="Days a breach may last before it is escalated."
    )
    reopen_margin = models.FloatField(
        default=0.05,
        validators=[MinValueValidator(0.0)],
        help_text="A decided alert reopens when utilisation rises this much above "
        "its level at the decision (0.05 = five points of utilisation).",
    )
    default_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Officer new alerts of this rule are assigned to.",
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="all", team__isnull=True, portfolio__isnull=True)
                    | Q(scope="team", team__isnull=False, portfolio__isnull=True)
                    | Q(scope="portfolio", team__isnull=True, portfolio__isnull=False)
                ),
                name="compliance_rule_scope_target",
            ),
            models.CheckConstraint(condition=Q(limit__gte=0), name="compliance_rule_limit"),
        ]
        indexes = [models.Index(fields=["is_active", "scope"])]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_info(self) -> KindInfo:
        return KINDS[RuleKind(self.kind)]

    @property
    def scope_label(self) -> str:
        if self.scope == RuleScope.TEAM:
            return f"Team {self.team}"
        if self.scope == RuleScope.PORTFOLIO and self.portfolio is not None:
            return self.portfolio.code
        return "All portfolios"

    @property
    def display_name(self) -> str:
        """The name as pages show it. A template's rule also names its scope: one
        template applied to five portfolios makes five rules of one name."""
        if self.template and self.scope != RuleScope.ALL:
            return f"{self.name} · {self.scope_label}"
        return self.name

    @property
    def template_label(self) -> str:
        """The regulatory template's name ("" for a rule made by hand)."""
        template = TEMPLATES.get(self.template)
        return template.name if template else ""

    @property
    def remediation(self) -> RemediationTimeline | None:
        """The remediation timeline the rule's template gives its kind (SEC Rule 18f-4's
        VaR test), or ``None``."""
        return remediation_for(self.template, self.kind)


class EvaluationTrigger(models.TextChoices):
    POST_TRADE = "post_trade", "Post-trade"
    DAILY = "daily", "Daily"
    MANUAL = "manual", "Manual"


class EvaluationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class EvaluationBatch(models.Model):
    """A fan-out of evaluations in chunks (the daily run of every portfolio);
    progress is the count of finished chunks."""

    as_of = models.DateField()
    trigger = models.CharField(max_length=16, choices=EvaluationTrigger.choices)
    status = models.CharField(
        max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.PENDING
    )
    portfolios_total = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-as_of", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["as_of", "trigger"],
                condition=Q(trigger="daily"),
                name="compliance_one_daily_batch_per_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.trigger} {self.as_of} ({self.chunks_done}/{self.chunks_total})"


class Evaluation(Leased):
    """The rules in scope for one portfolio evaluated on ``as_of`` from the
    portfolio's data at ``data_version`` and rules matching ``rules_fingerprint``."""

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="compliance_evaluations"
    )
    as_of = models.DateField()
    data_version = models.PositiveBigIntegerField()
    rules_fingerprint = models.CharField(max_length=32)
    trigger = models.CharField(max_length=16, choices=EvaluationTrigger.choices)
    batch = models.ForeignKey(
        EvaluationBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evaluations",
    )
    status = models.CharField(
        max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.PENDING
    )
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-as_of", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "as_of", "data_version", "rules_fingerprint"],
                name="compliance_evaluation_natural_key",
            )
        ]
        indexes = [models.Index(fields=["portfolio", "status", "-as_of"])]

    def __str__(self) -> str:
        return f"{self.portfolio_id} {self.as_of} v{self.data_version} ({self.status})"


class ResultStatus(models.TextChoices):
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    BREACH = "breach", "Breach"
    RESTRICTED = "restricted", "Acquisitions restricted"
    NO_VALUE = "no_value", "No value"


class RuleResult(models.Model):
    """One rule on one portfolio in one evaluation: its utilisation history."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="results")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="results")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    value = models.FloatField(null=True)
    limit = models.FloatField()
    utilisation = models.FloatField(null=True)
    status = models.CharField(max_length=16, choices=ResultStatus.choices)
    active = models.BooleanField(default=False, help_text="Caused by the portfolio's own trades.")
    group = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "rule"], name="compliance_result_unique")
        ]
        indexes = [models.Index(fields=["rule", "portfolio", "as_of"])]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.portfolio_id} {self.as_of} {self.status}"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"
    WAIVED = "waived", "Waived"


class Severity(models.TextChoices):
    WARNING = "warning", "Warning"
    BREACH = "breach", "Breach"


SEVERITY_RANK: dict[str, int] = {Severity.WARNING: 1, Severity.BREACH: 2}

RESULT_SEVERITY: dict[str, str] = {
    ResultStatus.WARNING: Severity.WARNING,
    ResultStatus.RESTRICTED: Severity.WARNING,
    ResultStatus.BREACH: Severity.BREACH,
}
"""The alert severity of each result status that opens or extends an episode. A
test at acquisition failed by market moves alone (``restricted``: the 1940 Act's
§5(c) keeps the fund diversified) is no breach; it is kept in view as a warning
until the fund is back within the limit, and a purchase that worsens it is a breach."""


class Alert(models.Model):
    """One breach (or warning) episode of a rule on a portfolio.

    ``is_current`` is true while the episode lasts (the rule keeps warning or
    breaching); the first evaluation that finds it back within limits sets
    ``cured_on`` and ends the episode. ``severity`` is the worst seen in the
    episode; ``active`` is true when any observation was caused by the
    portfolio's own trades."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="alerts")
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="compliance_alerts"
    )
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    active = models.BooleanField(default=False)
    is_current = models.BooleanField(default=True)
    opened_on = models.DateField()
    last_observed_on = models.DateField()
    cured_on = models.DateField(null=True, blank=True)
    first_utilisation = models.FloatField(null=True)
    last_utilisation = models.FloatField(null=True)
    peak_utilisation = models.FloatField(null=True)
    decision_utilisation = models.FloatField(
        null=True, blank=True, help_text="Utilisation when last acknowledged/waived/snoozed."
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_compliance_alerts",
    )
    snoozed_until = models.DateField(null=True, blank=True)
    waiver_reason = models.TextField(blank=True)
    remediation_escalated_on = models.DateField(
        null=True,
        blank=True,
        help_text="The business day on which the rule's remediation timeline escalated "
        "(SEC Rule 18f-4: more than five business days out of compliance).",
    )
    remediation_follow_up_on = models.DateField(
        null=True,
        blank=True,
        help_text="The day the fund was back in compliance after an escalated remediation: "
        "the follow-up steps are due.",
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "portfolio"],
                condition=Q(is_current=True),
                name="compliance_one_current_alert_per_rule_portfolio",
            )
        ]
        indexes = [
            models.Index(fields=["state", "severity"]),
            models.Index(fields=["portfolio", "state"]),
        ]

    def __str__(self) -> str:
        return f"Alert #{self.pk} {self.rule} on {self.portfolio.code}"

    @property
    def is_decided(self) -> bool:
        return self.state in (AlertState.ACKNOWLEDGED, AlertState.SNOOZED, AlertState.WAIVED)


class TradingPermission(models.Model):
    """What a portfolio may do beyond the default: ``short_selling`` lets the
    pre-trade check evaluate sales of more than the portfolio holds (without it,
    such a sale is refused). A portfolio without a row has no permissions."""

    portfolio = models.OneToOneField(
        Portfolio, on_delete=models.CASCADE, related_name="compliance_trading_permission"
    )
    short_selling = models.BooleanField(default=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        allowed = "allowed" if self.short_selling else "not allowed"
        return f"{self.portfolio_id} short selling {allowed}"


class AlertObservation(models.Model):
    """One evaluated day of an alert's episode (a re-run of the day replaces it)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="observations")
    result = models.ForeignKey(RuleResult, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    value = models.FloatField(null=True)
    utilisation = models.FloatField(null=True)
    status = models.CharField(max_length=16, choices=ResultStatus.choices)
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["as_of"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "as_of"], name="compliance_observation_unique")
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.as_of} {self.utilisation}"


class NotificationKind(models.TextChoices):
    OPENED = "opened", "New alert"
    REOPENED = "reopened", "Alert reopened"
    ESCALATED = "escalated", "Alert escalated"
    ASSIGNED = "assigned", "Alert assigned to you"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DIGEST = "digest", "In the daily digest"
    DIGESTED = "digested", "Sent in a digest"
    NOT_SENT = "not_sent", "No e-mail (preference or no address)"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One alert event told to one person: its in-app message (in the portal's
    inbox, which holds the subject, body and read receipt) and its e-mail. The
    unique (alert, recipient, kind, key) natural key is created before any mail is
    sent, so the same event never notifies the same person twice."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compliance_notifications"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    key = models.CharField(max_length=64, help_text="Which occurrence (e.g. the date).")
    # RESTRICT: the inbox message cannot go while its notification exists (that
    # would let the event notify again), but both go when the recipient does.
    message = models.OneToOneField(
        "portal.InboxMessage", on_delete=models.RESTRICT, related_name="compliance_notification"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    email_status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_message_id = models.CharField(max_length=255, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "recipient", "kind", "key"], name="compliance_notification_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.alert_id}"


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", "One e-mail per notification"
    DIGEST = "digest", "One daily digest"
    NONE = "none", "In-app only"


class NotificationPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compliance_preference"
    )
    email_mode = models.CharField(
        max_length=16, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )

    def __str__(self) -> str:
        return f"{self.user} {self.email_mode}"


class Digest(models.Model):
    """One daily digest e-mail per recipient and date (created before sending)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    date = models.DateField()
    notifications = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "date"], name="compliance_digest_once")
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.date} ({self.status})"
