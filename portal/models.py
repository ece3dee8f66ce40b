"""Users, teams, entitlements to portfolios, the append-only audit log, and the
in-app inbox that every app delivers to."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from knox.models import AbstractAuthToken


class Role(models.TextChoices):
    PORTFOLIO_MANAGER = "portfolio_manager", "Portfolio manager"
    TRADER = "trader", "Trader"
    RISK_MANAGER = "risk_manager", "Risk manager"
    COMPLIANCE_OFFICER = "compliance_officer", "Compliance officer"
    EXECUTIVE = "executive", "Executive"
    ADMIN = "admin", "Administrator"


class User(AbstractUser):  # type: ignore[django-manager-missing]  # knox: auth_token_set
    """A person who logs in. The role shapes navigation and defaults, never access:
    which portfolios a user sees is decided by entitlements alone (superusers see all)."""

    role = models.CharField(max_length=32, choices=Role.choices, default=Role.PORTFOLIO_MANAGER)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccessLevel(models.TextChoices):
    VIEW = "view", "View"
    MANAGE = "manage", "Manage"


class Entitlement(models.Model):
    """A user or a team may see (``view``) or also change (``manage``) one portfolio."""

    portfolio = models.ForeignKey(
        "analytics.Portfolio", on_delete=models.CASCADE, related_name="entitlements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="entitlements",
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="entitlements"
    )
    level = models.CharField(max_length=10, choices=AccessLevel.choices, default=AccessLevel.VIEW)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True))
                | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="entitlement_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["portfolio", "user"],
                condition=Q(user__isnull=False),
                name="entitlement_unique_user",
            ),
            models.UniqueConstraint(
                fields=["portfolio", "team"],
                condition=Q(team__isnull=False),
                name="entitlement_unique_team",
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.team
        return f"{who} → {self.portfolio} ({self.level})"


class AuditAction(models.TextChoices):
    LOGIN = "auth.login", "Logged in"
    LOGOUT = "auth.logout", "Logged out"
    LOGIN_FAILED = "auth.login_failed", "Login failed"
    ENTITLEMENT_GRANTED = "entitlement.granted", "Entitlement granted"
    ENTITLEMENT_CHANGED = "entitlement.changed", "Entitlement changed"
    ENTITLEMENT_REVOKED = "entitlement.revoked", "Entitlement revoked"
    TEAM_MEMBERSHIP_CHANGED = "team.membership_changed", "Team membership changed"
    USER_CHANGED = "user.changed", "User changed"
    DATA_LOADED = "data.loaded", "Data loaded"
    DATA_IMPORTED = "data.imported", "Data imported"
    EXPORT = "export.downloaded", "Export downloaded"
    API_READ = "api.read", "API data read"
    SHARE = "share.created", "Shared"
    SHARE_CHANGED = "share.changed", "Share level changed"
    SHARE_REVOKED = "share.revoked", "Share revoked"
    REPORT_TEMPLATE_CHANGED = "report.template_changed", "Report template changed"
    REPORT_RUN_REQUESTED = "report.run_requested", "Report run requested"
    DASHBOARD_CHANGED = "dashboard.changed", "Dashboard changed"
    SCHEDULE_CHANGED = "schedule.changed", "Schedule changed"
    DELIVERY = "delivery.sent", "Delivered"
    DELIVERY_REFUSED = "delivery.refused", "Delivery refused"
    DELIVERY_FAILED = "delivery.failed", "Delivery failed"
    SCHEDULE_RUN_REQUESTED = "schedule.run_requested", "Scheduled run requested"
    ALERT_DECISION = "alert.decision", "Alert decision"
    RULE_CREATED = "compliance.rule.created", "Compliance rule created"
    RULE_CHANGED = "compliance.rule.changed", "Compliance rule changed"
    RULE_DEACTIVATED = "compliance.rule.deactivated", "Compliance rule deactivated"
    RISK_LIMITS_CHANGED = "risk_limits.changed", "Risk limits changed"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    LOGIN_LOCKED_OUT = "auth.locked_out", "Login locked out"
    LOCKOUT_LIFTED = "auth.lockout_lifted", "Login lockout lifted"
    DOWNLOAD_REFUSED = "export.refused", "Download refused"
    EXPORT_POLICY_CHANGED = "export_policy.changed", "Export policy changed"
    AUDIT_EXPORTED = "audit.exported", "Audit events exported"


class AuditEventQuerySet(models.QuerySet):
    """Audit rows are append-only: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be changed")

    def delete(self):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEvent(models.Model):
    """Who did what to which object, when and from where. Written by
    ``portal.services.audit_record`` only, in the same transaction as the change.

    The actor is kept both as a loose reference (no database constraint, so that a
    user can be removed without rewriting history) and as the username at the time.
    For files leaving the system, ``details`` carries format, size and SHA-256.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    # The portfolio the event concerns, when there is one (a loose reference, like
    # the actor): the audit page and API filter on it.
    portfolio_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AuditLogIsAppendOnly("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")


class InboxMessage(models.Model):
    """One item in a user's in-app inbox: an alert notification today, a delivered
    report later. Written by :func:`portal.channels.inbox.inbox_send` only.

    ``dedupe_key`` names the event for the app that sent it (e.g.
    ``compliance.notification:<alert>:<kind>:<occurrence>``); being unique per
    recipient, one event lands in one inbox once however often it is sent.
    ``link`` is a path inside the portal (the alert, the report run), empty when
    there is nothing to open. ``read_at`` is set once, when the recipient first
    marks it read: the read receipt.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_messages"
    )
    subject = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="portal_inbox_message_once"
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="portal_inbox_unread")]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.subject}"


class ApiTokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(AbstractAuthToken):
    """A personal API token (django-rest-knox's token model, ``KNOX_TOKEN_MODEL``).

    Only the SHA-512 ``digest`` of the secret is stored, with its first 15
    characters (``token_key``) to find it and to show the user which token is
    which; the secret itself is shown once, when the token is made. ``expiry`` is
    when it stops working (None: never, which only an admin may choose). A
    ``read`` token may only read (GET, HEAD, OPTIONS); a ``write`` token may do
    whatever its user may. Revoking deletes the row; the audit log keeps the story.
    """

    name = models.CharField(max_length=100)
    scope = models.CharField(
        max_length=5, choices=ApiTokenScope.choices, default=ApiTokenScope.READ
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"


class ExportRestriction(models.Model):
    """One rule of the export policy: users it applies to may not export files of
    ``file_format`` (``pdf``, ``xlsx``, ``csv``, ``parquet``, ``json``; blank: any
    format) of reports containing a block of ``report_kind`` (a report block kind
    such as ``holdings``; blank: any report, and any other tabular export).

    It applies to members of ``team`` (null: everyone) whose role is ``role``
    (blank: any role). Admins and superusers are never restricted. At least one of
    ``file_format`` and ``report_kind`` is set.
    """

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="export_restrictions"
    )
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    file_format = models.CharField(max_length=10, blank=True)
    report_kind = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "role", "file_format", "report_kind"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(file_format="", report_kind=""),
                name="portal_export_restriction_says_what",
            )
        ]

    def __str__(self) -> str:
        who = self.team.name if self.team else "everyone"
        if self.role:
            who += f" ({self.get_role_display()})"
        what = " ".join(part for part in (self.file_format, self.report_kind) if part)
        return f"{who}: no {what}"
