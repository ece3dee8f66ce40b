"""Admin for compliance configuration and inspection. Rule and alert changes that
matter go through the services (pages and API), which audit them; the admin is
read-only for alerts, results and notifications."""

from django.contrib import admin

from compliance.models import (
    Alert,
    Evaluation,
    EvaluationBatch,
    Notification,
    NotificationPreference,
    Rule,
    RuleResult,
    TradingPermission,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rule)
class RuleAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "limit", "warning_level", "scope", "template", "is_active")
    list_filter = ("kind", "scope", "template", "is_active")
    search_fields = ("name",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("id", "rule", "portfolio", "severity", "state", "opened_on", "is_current")
    list_filter = ("state", "severity", "is_current")
    raw_id_fields = ("rule", "portfolio", "assignee")


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ("id", "portfolio", "as_of", "trigger", "status", "finished_at")
    list_filter = ("status", "trigger")


@admin.register(EvaluationBatch)
class EvaluationBatchAdmin(ReadOnlyAdmin):
    list_display = ("as_of", "trigger", "status", "chunks_done", "chunks_total")


@admin.register(RuleResult)
class RuleResultAdmin(ReadOnlyAdmin):
    list_display = ("rule", "portfolio", "as_of", "value", "utilisation", "status", "active")
    list_filter = ("status", "active")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "kind", "alert", "email_status", "created_at", "message__read_at")
    list_filter = ("kind", "email_status")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email_mode")


@admin.register(TradingPermission)
class TradingPermissionAdmin(ReadOnlyAdmin):
    """Read-only: permissions change through ``rules.trading_permission_set`` (audited)."""

    list_display = ("portfolio", "short_selling", "granted_by", "updated_at")
