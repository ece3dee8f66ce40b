"""Admin for inspecting report templates, shares, runs and files. Every change
goes through the services (pages and API), which version and audit it, so the
admin is read-only; it is where administrators read a failed run's traceback."""

from django.contrib import admin

from reports.models import ReportFile, ReportRun, ReportShare, ReportTemplate, ReportTemplateVersion


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
