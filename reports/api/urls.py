"""Reports REST routes, included under /api/reports/ by the API router
(``portal/api/urls.py``). A template is named by its id or its slug."""

from django.urls import path

from reports.api import views

urlpatterns = [
    path("templates/", views.TemplateListApi.as_view(), name="api-report-templates"),
    path(
        "templates/<str:template>/",
        views.TemplateDetailApi.as_view(),
        name="api-report-template",
    ),
    path(
        "templates/<str:template>/versions/",
        views.TemplateVersionsApi.as_view(),
        name="api-report-template-versions",
    ),
    path(
        "templates/<str:template>/clone/",
        views.TemplateCloneApi.as_view(),
        name="api-report-template-clone",
    ),
    path(
        "templates/<str:template>/share/",
        views.TemplateShareApi.as_view(),
        name="api-report-template-share",
    ),
    path(
        "templates/<str:template>/unshare/",
        views.TemplateUnshareApi.as_view(),
        name="api-report-template-unshare",
    ),
    path("blocks/", views.BlockCatalogApi.as_view(), name="api-report-blocks"),
    path("preview/", views.PreviewApi.as_view(), name="api-report-preview"),
    path("runs/", views.RunListApi.as_view(), name="api-report-runs"),
    path("runs/<int:run_id>/", views.RunDetailApi.as_view(), name="api-report-run"),
    path(
        "runs/<int:run_id>/files.zip",
        views.RunFilesZipApi.as_view(),
        name="api-report-run-files-zip",
    ),
    path(
        "runs/<int:run_id>/files/<str:name>",
        views.RunFileApi.as_view(),
        name="api-report-run-file",
    ),
]
