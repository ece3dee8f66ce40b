"""HTML pages of the compliance area (namespace ``compliance``)."""

from django.urls import path

from compliance import views

app_name = "compliance"

urlpatterns = [
    path("", views.alert_queue, name="index"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert-detail"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/<int:rule_id>/", views.rule_detail, name="rule-detail"),
    path("pre-trade/", views.pretrade, name="pretrade"),
    path("headroom/", views.headroom, name="headroom"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-read"),
]
