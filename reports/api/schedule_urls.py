"""Schedule and delivery REST routes, included at the top of /api/ by the API
router (``portal/api/urls.py``): ``/api/schedules/`` and ``/api/deliveries/``."""

from django.urls import path

from reports.api import schedules as views

urlpatterns = [
    path("schedules/", views.ScheduleListApi.as_view(), name="api-schedules"),
    path("schedules/preview/", views.RulePreviewApi.as_view(), name="api-schedule-rule-preview"),
    path("schedules/<int:schedule_id>/", views.ScheduleDetailApi.as_view(), name="api-schedule"),
    path(
        "schedules/<int:schedule_id>/preview/",
        views.SchedulePreviewApi.as_view(),
        name="api-schedule-preview",
    ),
    path(
        "schedules/<int:schedule_id>/run-now/",
        views.ScheduleRunNowApi.as_view(),
        name="api-schedule-run-now",
    ),
    path(
        "schedules/<int:schedule_id>/pause/",
        views.SchedulePauseApi.as_view(),
        name="api-schedule-pause",
    ),
    path(
        "schedules/<int:schedule_id>/resume/",
        views.ScheduleResumeApi.as_view(),
        name="api-schedule-resume",
    ),
    path(
        "schedules/<int:schedule_id>/occurrences/",
        views.ScheduleOccurrencesApi.as_view(),
        name="api-schedule-occurrences",
    ),
    path("deliveries/", views.DeliveryListApi.as_view(), name="api-deliveries"),
    path("deliveries/<int:delivery_id>/", views.DeliveryDetailApi.as_view(), name="api-delivery"),
    path(
        "deliveries/<int:delivery_id>/retry/",
        views.DeliveryRetryApi.as_view(),
        name="api-delivery-retry",
    ),
]
