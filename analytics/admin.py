"""Admin for the reference and market data: instruments, portfolios, benchmarks and
the time series behind them. Bulk series (prices, positions) are read-only lists
here; they arrive through imports and services, which keep them consistent.

Instruments, trades, positions, prices, FX rates and cash flows can be imported
and exported through django-import-export (``analytics.resources``: the same
validation as every other import path, with its dry-run preview); every export
is audited. The import page is open only to those who may import something of
its kind (``import_permitted``): anyone else gets 403 and sees no import button.
Pull sources, their fetch log, import runs and data-quality findings are here
too."""

import json

from django import forms
from django.contrib import admin
from import_export.admin import ImportExportMixin
from import_export.signals import post_export

from analytics import resources
from analytics.ingest.kinds import SPECS
from analytics.ingest.uploads import ADMIN_IMPORT_FORMATS, UploadRefused
from analytics.ingest.xlsx import WorkbookError
from analytics.models import (
    AnalyticsSnapshot,
    Benchmark,
    CashFlow,
    CorporateAction,
    DataFetch,
    DataQualityFinding,
    DataSource,
    FactorReturn,
    FxRate,
    ImportRun,
    Instrument,
    Portfolio,
    PositionSnapshot,
    PositionSource,
    Price,
    RiskLimit,
    Trade,
)
from analytics.services.imports.authorisation import import_permitted
from portal.admin import AuditedEntitlementsMixin
from portal.exports import download_response_audited
from portal.models import Entitlement
from portal.origins import RequestOrigin


class AuditedImportExportMixin(ImportExportMixin):
    """django-import-export with every export sent through the portal's audited
    download (one audit event with format, size and SHA-256; checksum headers),
    and its import page (preview and confirm) refused with 403 to a user who may
    import nothing of the resource's kind (a viewer of portfolios, say). Files are
    read as CSV, XLSX or JSON only, size-capped, workbooks by the bounded reader
    (``analytics.ingest.uploads.ADMIN_IMPORT_FORMATS``)."""

    import_formats = ADMIN_IMPORT_FORMATS

    def add_data_read_fail_error_to_form(self, form, e):
        # Our readers' refusals are written for the user; show them as they are.
        if isinstance(e, (UploadRefused, WorkbookError)):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def has_import_permission(self, request):
        kind = self.get_resource_classes(request)[0].kind
        return import_permitted(spec=SPECS[kind], actor=request.user)

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # import-export's own hook for the export response (4.x), kept in step
        # with it: the data, the attachment, then the ``post_export`` signal.
        data = self.get_export_data(
            file_format, request, queryset, encoding=self.to_encoding, export_form=export_form
        )
        response = download_response_audited(
            content=data.encode() if isinstance(data, str) else data,
            file_name=self.get_export_filename(request, queryset, file_format),
            content_type=file_format.get_content_type(),
            file_format=file_format.get_title(),
            actor=request.user,
            origin=RequestOrigin.of(request),
            details={"model": self.model._meta.label, "rows": queryset.count()},
        )
        post_export.send(sender=None, model=self.model)
        return response


@admin.register(Instrument)
class InstrumentAdmin(AuditedImportExportMixin, admin.ModelAdmin):
    resource_classes = [resources.InstrumentResource]
    list_display = (
        "identifier",
        "name",
        "issuer",
        "sector",
        "country",
        "asset_class",
        "currency",
        "exchange",
    )
    list_filter = ("asset_class", "sector", "country", "currency")
    search_fields = ("identifier", "isin", "name", "issuer")


class GranteeEntitlementInline(admin.TabularInline):
    """Who may see this portfolio: one row per user or team."""

    model = Entitlement
    extra = 0
    fields = ("user", "team", "level", "granted_at")
    readonly_fields = ("granted_at",)
    autocomplete_fields = ("user", "team")


class RiskLimitInline(admin.TabularInline):
    model = RiskLimit
    extra = 0
    fields = ("metric", "window", "limit", "warning_level", "note")


@admin.register(Portfolio)
class PortfolioAdmin(AuditedEntitlementsMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "base_currency",
        "benchmark",
        "owner",
        "inception_date",
        "is_active",
    )
    list_filter = ("base_currency", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("data_version",)
    autocomplete_fields = ("owner", "benchmark")
    inlines = [GranteeEntitlementInline, RiskLimitInline]


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "currency")
    search_fields = ("code", "name")


@admin.register(Trade)
class TradeAdmin(AuditedImportExportMixin, admin.ModelAdmin):
    resource_classes = [resources.TradeResource]
    list_display = (
        "trade_date",
        "portfolio",
        "instrument",
        "side",
        "quantity",
        "price",
        "currency",
        "source",
        "external_id",
    )
    list_filter = ("side", "source", "portfolio")
    search_fields = ("external_id", "instrument__identifier", "portfolio__code")
    date_hierarchy = "trade_date"
    list_select_related = ("portfolio", "instrument")
    raw_id_fields = ("instrument",)


@admin.register(PositionSnapshot)
class PositionSnapshotAdmin(AuditedImportExportMixin, admin.ModelAdmin):
    resource_classes = [resources.PositionSnapshotResource]
    list_display = (
        "date",
        "portfolio",
        "instrument",
        "quantity",
        "price",
        "market_value_local",
        "market_value_base",
        "source",
    )
    list_filter = ("portfolio", "source")
    search_fields = ("=instrument__identifier",)
    list_select_related = ("portfolio", "instrument")
    # Hundreds of thousands of rows: newest first by primary key (snapshots are
    # written in date order), no date hierarchy, which would scan them all.
    ordering = ("-id",)
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PositionSource)
class PositionSourceAdmin(admin.ModelAdmin):
    """The basis (trade or settle date) each reported position source counts trades on."""

    list_display = ("name", "basis", "description")
    list_filter = ("basis",)
    search_fields = ("name",)


@admin.register(Price)
class PriceAdmin(AuditedImportExportMixin, admin.ModelAdmin):
    resource_classes = [resources.PriceResource]
    list_display = ("date", "instrument", "close", "currency", "source")
    list_filter = ("source", "currency")
    search_fields = ("=instrument__identifier",)
    list_select_related = ("instrument",)
    raw_id_fields = ("instrument",)
    ordering = ("-date",)  # served by the date index; no date hierarchy over every row
    show_full_result_count = False


@admin.register(FxRate)
class FxRateAdmin(AuditedImportExportMixin, admin.ModelAdmin):
    resource_classes = [resources.FxRateResource]
    list_display = ("date", "base_currency", "quote_currency", "rate", "source")
    list_filter = ("base_currency", "quote_currency")
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(CashFlow)
class CashFlowAdmin(AuditedImportExportMixin, admin.ModelAdmin):
    resource_classes = [resources.CashFlowResource]
    list_display = ("date", "portfolio", "kind", "amount", "currency", "source", "external_id")
    list_filter = ("kind", "portfolio")
    date_hierarchy = "date"


@admin.register(FactorReturn)
class FactorReturnAdmin(admin.ModelAdmin):
    list_display = ("date", "factor", "value", "frequency", "source")
    list_filter = ("factor", "frequency")
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(AnalyticsSnapshot)
class AnalyticsSnapshotAdmin(admin.ModelAdmin):
    """Read-only: snapshots are written by the analytics tasks only."""

    list_display = ("portfolio", "as_of", "data_version", "status", "stale", "finished_at")
    list_filter = ("status", "stale", "portfolio")
    date_hierarchy = "as_of"
    exclude = ("result",)
    readonly_fields = (
        "portfolio",
        "as_of",
        "data_version",
        "status",
        "stale",
        "requested_at",
        "started_at",
        "finished_at",
        "error",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DataSourceForm(forms.ModelForm):
    """``secret_headers`` is write-only: what is typed is encrypted and never shown
    again; leave it empty to keep the stored credentials."""

    secret_headers = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text='JSON, e.g. {"Authorization": "Bearer …"}; stored encrypted, never shown. '
        "Empty keeps the current ones; {} removes them.",
    )

    class Meta:
        model = DataSource
        fields = (
            "name",
            "kind",
            "url",
            "format",
            "headers",
            "column_mapping",
            "skip_invalid",
            "interval_minutes",
            "timeout_seconds",
            "max_attempts",
            "is_active",
            "next_poll_at",
        )

    def clean_secret_headers(self):
        text = self.cleaned_data["secret_headers"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"not JSON: {error}") from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise forms.ValidationError("a JSON object of header names to strings")
        return value


class DataFetchInline(admin.TabularInline):
    model = DataFetch
    extra = 0
    can_delete = False
    fields = (
        "started_at",
        "attempt",
        "outcome",
        "http_status",
        "rows_total",
        "rows_loaded",
        "rows_rejected",
        "error",
    )
    readonly_fields = fields
    ordering = ("-started_at",)
    max_num = 0


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    form = DataSourceForm
    list_display = (
        "name",
        "kind",
        "format",
        "url",
        "interval_minutes",
        "is_active",
        "next_poll_at",
        "last_success_at",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("name", "url")
    readonly_fields = ("last_success_at", "created_at", "has_secret_headers")
    inlines = [DataFetchInline]

    def save_model(self, request, obj, form, change):
        from analytics.services.sources import data_source_secret_headers_set

        super().save_model(request, obj, form, change)
        secret = form.cleaned_data.get("secret_headers")
        if secret is not None:
            data_source_secret_headers_set(source=obj, headers=secret)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "kind",
        "origin",
        "source",
        "file_name",
        "status",
        "rows_total",
        "rows_created",
        "rows_updated",
        "rows_rejected",
        "actor",
    )
    list_filter = ("status", "kind", "origin")
    search_fields = ("file_name", "source", "sha256")
    ordering = ("-id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DataQualityFinding)
class DataQualityFindingAdmin(admin.ModelAdmin):
    list_display = ("date", "severity", "kind", "portfolio", "instrument", "message", "resolved_at")
    list_filter = ("severity", "kind", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("message", "instrument__identifier", "portfolio__code")
    list_select_related = ("portfolio", "instrument")
    ordering = ("-date",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CorporateAction)
class CorporateActionAdmin(admin.ModelAdmin):
    list_display = ("ex_date", "instrument", "kind", "ratio", "source")
    list_filter = ("kind",)
    search_fields = ("=instrument__identifier",)
    raw_id_fields = ("instrument",)

    def save_model(self, request, obj, form, change):
        """Through the service, so holders' positions are re-derived and audited."""
        from analytics.services.corporate_actions import split_record

        saved = split_record(
            instrument=obj.instrument,
            ex_date=obj.ex_date,
            ratio=obj.ratio,
            source=obj.source,
            actor=request.user,
            origin=RequestOrigin.of(request),
        )
        obj.pk = saved.pk
