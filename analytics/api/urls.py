"""Analytics REST routes (portfolios and who may see them, snapshots, imports,
pushes, data quality), included under /api/ by the API router
(``portal/api/urls.py``)."""

from django.urls import path

from analytics.api import entitlements as entitlement_views
from analytics.api import ingest as ingest_views
from analytics.api import snapshots as snapshot_views
from analytics.api import trades as trade_views
from analytics.api import views as analytics_views

urlpatterns = [
    path(
        "entitlements/",
        entitlement_views.EntitlementListCreateApi.as_view(),
        name="api-entitlement-list",
    ),
    path(
        "entitlements/<int:entitlement_id>/",
        entitlement_views.EntitlementDetailApi.as_view(),
        name="api-entitlement-detail",
    ),
    path("portfolios/", analytics_views.PortfolioListApi.as_view(), name="api-portfolio-list"),
    path(
        "portfolios/<int:portfolio_id>/",
        analytics_views.PortfolioDetailApi.as_view(),
        name="api-portfolio-detail",
    ),
    path(
        "portfolios/<int:portfolio_id>/holdings/",
        analytics_views.PortfolioHoldingsApi.as_view(),
        name="api-portfolio-holdings",
    ),
    path(
        "portfolios/<int:portfolio_id>/values/",
        analytics_views.PortfolioValuesApi.as_view(),
        name="api-portfolio-values",
    ),
    path(
        "portfolios/<int:portfolio_id>/trades/",
        trade_views.PortfolioTradesApi.as_view(),
        name="api-portfolio-trades",
    ),
    path(
        "portfolios/<int:portfolio_id>/analytics/",
        snapshot_views.PortfolioAnalyticsApi.as_view(),
        name="api-portfolio-analytics",
    ),
    path(
        "portfolios/<int:portfolio_id>/analytics/refresh/",
        snapshot_views.PortfolioAnalyticsRefreshApi.as_view(),
        name="api-portfolio-analytics-refresh",
    ),
    path(
        "portfolios/<int:portfolio_id>/analytics/<str:section>/",
        snapshot_views.PortfolioAnalyticsSectionApi.as_view(),
        name="api-portfolio-analytics-section",
    ),
    path(
        "portfolios/<int:portfolio_id>/risk-limits/",
        snapshot_views.PortfolioRiskLimitsApi.as_view(),
        name="api-portfolio-risk-limits",
    ),
    path("imports/", ingest_views.ImportListCreateApi.as_view(), name="api-import-list"),
    path("imports/<int:run_id>/", ingest_views.ImportDetailApi.as_view(), name="api-import-detail"),
    path(
        "imports/<int:run_id>/report/",
        ingest_views.ImportReportApi.as_view(),
        name="api-import-report",
    ),
    path("push/trades/", ingest_views.PushTradesApi.as_view(), name="api-push-trades"),
    path("push/prices/", ingest_views.PushPricesApi.as_view(), name="api-push-prices"),
    path(
        "portfolios/<int:portfolio_id>/data-quality/",
        ingest_views.PortfolioDataQualityApi.as_view(),
        name="api-portfolio-data-quality",
    ),
    path(
        "data-quality/findings/",
        ingest_views.FindingListApi.as_view(),
        name="api-data-quality-findings",
    ),
]
