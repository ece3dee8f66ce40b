"""Report pages, under /reports/ (``portal/urls.py``): the library, the builder,
sharing, runs and their files; schedules and their deliveries
(``reports/schedule_views.py``)."""

from django.urls import path

from reports import delivery_views, schedule_views, views

app_name = "reports"

urlpatterns = [
    path("", views.library, name="index"),
    path("new/", views.template_new, name="template-new"),
    path("<int:template_id>/edit/", views.template_edit, name="template-edit"),
    path("<int:template_id>/run/", views.template_run, name="template-run"),
    path("<int:template_id>/share/", views.template_share, name="template-share"),
    path("<int:template_id>/delete/", views.template_delete, name="template-delete"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/<int:run_id>/", views.run_detail, name="run-detail"),
    path("runs/<int:run_id>/again/", views.run_again, name="run-again"),
    path("runs/<int:run_id>/files/<str:name>", views.run_file, name="run-file"),
    path("runs/<int:run_id>/files.zip", views.run_files_zip, name="run-files-zip"),
    path("d/<str:token>/", delivery_views.delivery_download, name="delivery-download"),
    path("schedules/", schedule_views.schedule_list, name="schedules"),
    path("schedules/new/", schedule_views.schedule_new, name="schedule-new"),
    path("schedules/<int:schedule_id>/", schedule_views.schedule_detail, name="schedule-detail"),
    path("schedules/<int:schedule_id>/edit/", schedule_views.schedule_edit, name="schedule-edit"),
    path(
        "schedules/<int:schedule_id>/pause/", schedule_views.schedule_pause, name="schedule-pause"
    ),
    path(
        "schedules/<int:schedule_id>/resume/",
        schedule_views.schedule_resume,
        name="schedule-resume",
    ),
    path(
        "schedules/<int:schedule_id>/run-now/",
        schedule_views.schedule_run_now,
        name="schedule-run-now",
    ),
    path(
        "schedules/<int:schedule_id>/delete/",
        schedule_views.schedule_delete,
        name="schedule-delete",
    ),
    path(
        "schedules/deliveries/<int:delivery_id>/retry/",
        schedule_views.delivery_retry,
        name="delivery-retry",
    ),
]
