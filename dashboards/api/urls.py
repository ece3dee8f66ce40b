"""Routes of the dashboards API, included under /api/dashboards/."""

from django.urls import path

from dashboards.api import views

urlpatterns = [
    path("", views.DashboardListView.as_view(), name="dashboard-api-list"),
    path("widget-kinds/", views.KindListView.as_view(), name="dashboard-api-kinds"),
    path("<int:dashboard_id>/", views.DashboardDetailView.as_view(), name="dashboard-api-detail"),
    path(
        "<int:dashboard_id>/clone/", views.DashboardCloneView.as_view(), name="dashboard-api-clone"
    ),
    path("<int:dashboard_id>/shares/", views.ShareListView.as_view(), name="dashboard-api-shares"),
    path(
        "<int:dashboard_id>/shares/<int:share_id>/",
        views.ShareDetailView.as_view(),
        name="dashboard-api-share",
    ),
    path("<int:dashboard_id>/layout/", views.LayoutView.as_view(), name="dashboard-api-layout"),
    path(
        "<int:dashboard_id>/versions/", views.VersionsView.as_view(), name="dashboard-api-versions"
    ),
    path(
        "<int:dashboard_id>/widgets/", views.WidgetListView.as_view(), name="dashboard-api-widgets"
    ),
    path(
        "<int:dashboard_id>/widgets/<int:widget_id>/",
        views.WidgetDetailView.as_view(),
        name="dashboard-api-widget",
    ),
    path(
        "<int:dashboard_id>/widgets/<int:widget_id>/data/",
        views.WidgetDataView.as_view(),
        name="dashboard-api-widget-data",
    ),
]
