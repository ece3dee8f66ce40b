"""Dashboard pages: the list (mine, shared with me, built-in) and one dashboard."""

from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard_index, name="index"),
    path("<int:dashboard_id>/", views.dashboard_detail, name="detail"),
]
