"""Admin for the reference and market data: instruments, portfolios, benchmarks and
the time series behind them. Bulk series (prices, positions) are read-only lists
here; they arrive through imports and services, which keep them consistent."""

from django.contrib import admin

from analytics.models import (
    AnalyticsSnapshot,
    Benchmark,
    CashFlow,
    FactorReturn,
    FxRate,
    Instrument,
    Portfolio,
    PositionSnapshot,
    Price,
    RiskLimit,
    Trade,
)
from portal.admin import AuditedEntitlementsMixin
from portal.models import Entitlement


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
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
    fields = ("metric", "limit", "warning_level", "note")


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
class TradeAdmin(admin.ModelAdmin):
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
class PositionSnapshotAdmin(admin.ModelAdmin):
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


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ("date", "instrument", "close", "currency", "source")
    list_filter = ("source", "currency")
    search_fields = ("=instrument__identifier",)
    list_select_related = ("instrument",)
    raw_id_fields = ("instrument",)
    ordering = ("-date",)  # served by the date index; no date hierarchy over every row
    show_full_result_count = False


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    list_display = ("date", "base_currency", "quote_currency", "rate", "source")
    list_filter = ("base_currency", "quote_currency")
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(CashFlow)
class CashFlowAdmin(admin.ModelAdmin):
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
