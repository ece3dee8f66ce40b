from django.urls import path

from analytics import record_views, views

urlpatterns = [
    path("", views.portfolio_list, name="portfolio-list"),
    path("<int:portfolio_id>/", views.portfolio_detail, name="portfolio-detail"),
    path(
        "<int:portfolio_id>/performance/",
        views.portfolio_performance,
        name="portfolio-performance",
    ),
    path("<int:portfolio_id>/risk/", views.portfolio_risk, name="portfolio-risk"),
    path(
        "<int:portfolio_id>/attribution/",
        views.portfolio_attribution,
        name="portfolio-attribution",
    ),
    path("<int:portfolio_id>/trades/", record_views.portfolio_trades_page, name="portfolio-trades"),
    path(
        "<int:portfolio_id>/data-quality/",
        record_views.portfolio_findings_page,
        name="portfolio-findings",
    ),
]
