"""Admin for inspecting report templates, shares, runs and files. Every change
goes through the services (pages and API), which version and audit it, so the
admin is read-only; it is where administrators read a failed run's traceback.

Schedules, their occurrences and deliveries are read-only here too (they are
changed on the schedule pages and the API, which validate and audit); the
allow-list of external recipients (:class:`ExternalRecipient`) is kept here by
administrators, each addition, change and removal audited. So is the export
policy (``portal.models.ExportRestriction``), registered here because its report
kinds are this app's block catalog."""

from django import forms
from django.contrib import admin
from django.db import transaction

from portal.export_policy import (
    EXPORT_FORMATS,
    export_restriction_delete,
    export_restriction_save,
    format_label,
)
from portal.models import AuditAction, ExportRestriction
from portal.origins import RequestOrigin
from portal.services import audit_record
from reports.blocks import CATALOG
from reports.models import (
    Delivery,
    ExternalRecipient,
    ReportFile,
    ReportRun,
    ReportShare,
    ReportTemplate,
    ReportTemplateVersion,
    Schedule,
    ScheduleOccurrence,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReportTemplate)
class ReportTemplateAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "owner", "is_builtin", "updated_at")
    list_filter = ("is_builtin",)
    search_fields = ("name", "slug")


@admin.register(ReportTemplateVersion)
class ReportTemplateVersionAdmin(ReadOnlyAdmin):
    list_display = ("template", "number", "created_by", "created_at")
    raw_id_fields = ("template",)


@admin.register(ReportShare)
class ReportShareAdmin(ReadOnlyAdmin):
    list_display = ("template", "user", "team", "level", "created_at")
    list_filter = ("level",)


class ReportFileInline(admin.TabularInline):
    model = ReportFile
    extra = 0
    can_delete = False
    fields = ("name", "format", "size", "sha256", "pages", "sheets")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReportRun)
class ReportRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "run_as", "status", "requested_at", "finished_at", "attempts")
    list_filter = ("status",)
    search_fields = ("title", "key", "run_as__username")
    raw_id_fields = ("template", "version", "run_as", "requested_by")
    inlines = [ReportFileInline]


class ScheduleOccurrenceInline(admin.TabularInline):
    model = ScheduleOccurrence
    extra = 0
    can_delete = False
    fields = ("slot_at", "manual", "period_label", "state", "ready_by", "finished_at")
    readonly_fields = fields
    ordering = ("-slot_at",)
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "owner",
        "template",
        "cron",
        "calendar_rule",
        "timezone",
        "enabled",
        "next_run_at",
        "last_outcome",
    )
    list_filter = ("enabled", "calendar_rule", "copies", "burst")
    search_fields = ("name", "owner__username", "template__name")
    raw_id_fields = ("owner", "template")
    exclude = ("webhook_secret",)
    inlines = [ScheduleOccurrenceInline]


@admin.register(ScheduleOccurrence)
class ScheduleOccurrenceAdmin(ReadOnlyAdmin):
    list_display = ("schedule", "slot_at", "manual", "state", "period_label", "finished_at")
    list_filter = ("state", "manual")
    search_fields = ("schedule__name",)
    raw_id_fields = ("schedule",)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "schedule",
        "channel",
        "recipient",
        "address",
        "state",
        "attempts",
        "sent_at",
        "confirmation",
    )
    list_filter = ("state", "channel")
    search_fields = ("key", "schedule__name", "recipient__username", "address")
    raw_id_fields = ("occurrence", "schedule", "recipient", "portfolio", "run", "inbox_message")


@admin.register(ExternalRecipient)
class ExternalRecipientAdmin(admin.ModelAdmin):
    """The allow-list of addresses, domains and webhook hosts outside the portal's
    users that schedules may send to. Values are stored in lower case."""

    list_display = ("kind", "value", "note", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("value", "note")
    fields = ("kind", "value", "note")

    def _audit(self, request, obj, change: str) -> None:
        audit_record(
            actor=request.user,
            action=AuditAction.SCHEDULE_CHANGED,
            target=obj,
            origin=RequestOrigin.of(request),
            details={"change": change, "kind": obj.kind, "value": obj.value},
        )

    def save_model(self, request, obj, form, change):
        obj.value = obj.value.strip().lower().removeprefix("@")
        if not change:
            obj.created_by = request.user
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            self._audit(request, obj, "allow_list_changed" if change else "allow_list_added")

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._audit(request, obj, "allow_list_removed")
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            self.delete_model(request, entry)


class ExportRestrictionForm(forms.ModelForm):
    """A rule of the export policy: the format is one of the export formats and
    the report kind one of the block catalog's kinds (both optional, not both)."""

    file_format = forms.ChoiceField(
        choices=[("", "Any format")] + [(key, format_label(key)) for key in EXPORT_FORMATS],
        required=False,
    )
    report_kind = forms.ChoiceField(required=False)

    class Meta:
        model = ExportRestriction
        fields = ("team", "role", "file_format", "report_kind", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report_kind"].choices = [("", "Any report and any other export")] + [
            (kind, f"{block.title} ({kind})") for kind, block in CATALOG.items()
        ]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file_format") and not cleaned.get("report_kind"):
            raise forms.ValidationError("Choose a format, a report kind, or both.")
        return cleaned


@admin.register(ExportRestriction)
class ExportRestrictionAdmin(admin.ModelAdmin):
    """The export policy (``portal.export_policy``): who may not export which
    formats or which reports. Every addition, change and removal is audited as
    ``export_policy.changed`` by the policy's own services."""

    form = ExportRestrictionForm
    list_display = ("__str__", "team", "role", "file_format", "report_kind", "note", "created_at")
    list_filter = ("role", "file_format", "team")
    search_fields = ("note", "report_kind", "team__name")

    def save_model(self, request, obj, form, change):
        export_restriction_save(
            actor=request.user, restriction=obj, origin=RequestOrigin.of(request)
        )

    def delete_model(self, request, obj):
        export_restriction_delete(
            actor=request.user, restriction=obj, origin=RequestOrigin.of(request)
        )

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            self.delete_model(request, rule)
