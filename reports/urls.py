"""Report pages, under /reports/ (``portal/urls.py``): the library, the builder,
sharing, runs and their files."""

from django.urls import path

from reports import views

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
]
