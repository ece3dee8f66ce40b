"""Top-level URLs: the HTML portal, the admin, and the REST API under /api/."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import audit_views, inbox_views, profile_views, views
from portal.api_docs import ApiDocsPermission

SWAGGER_UI_STYLE_HASH = "'sha256-wkY2X5hecQzbhnFCqvTpwrUJ1f4X8LH5WFjYUzv1wmU='"

urlpatterns = [
    # First: URLs are tried in order, and the API (every open dashboard's widgets and
    # poll) answers most requests.
    path("api/", include("portal.api.urls")),
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("portfolios/", include("analytics.urls")),
    path("compliance/", include("compliance.urls")),
    path("reports/", include("reports.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/read-all/", inbox_views.inbox_read_all, name="inbox-read-all"),
    path("inbox/<int:message_id>/open/", inbox_views.inbox_open, name="inbox-open"),
    path("profile/", profile_views.profile, name="profile"),
    path("profile/tokens/", profile_views.profile_token_create, name="profile-token-create"),
    path(
        "profile/tokens/<str:token_key>/revoke/",
        profile_views.profile_token_revoke,
        name="profile-token-revoke",
    ),
    path("audit/", audit_views.audit_page, name="audit"),
    path("audit/export.<str:file_format>", audit_views.audit_export, name="audit-export"),
    path("admin/", admin.site.urls),
    # A login is needed unless API_DOCS_PUBLIC (portal.api_docs). Swagger UI's start-up
    # script is served from its own URL (?script), not inline, for the CSP.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[ApiDocsPermission]),
        name="api-schema",
    ),
    # Swagger UI, while it renders, also applies one inline style attribute,
    # style="font-weight:bold" (the CSP browser test heard it on some runs): that
    # exact style, by its hash, on this page only ('unsafe-hashes' is in the policy).
    path(
        "api/docs/",
        csp_update({"style-src": [SWAGGER_UI_STYLE_HASH]})(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", permission_classes=[ApiDocsPermission]
            )
        ),
        name="api-docs",
    ),
    path("health/", views.health, name="health"),
]

# Error pages in the portal's look; under /api/ they become JSON (portal.api.errors).
handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
