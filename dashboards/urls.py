"""Dashboard pages: the list (mine, shared with me, built-in), one dashboard, and
the landing address that ``LOGIN_REDIRECT_URL`` names (the user's role's dashboard)."""

from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard_index, name="index"),
    path("landing/", views.dashboard_landing, name="landing"),
    path("<int:dashboard_id>/", views.dashboard_detail, name="detail"),
]
