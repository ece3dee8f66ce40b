"""REST API routes (token or session authentication; see /api/docs/).

Each app keeps its own routes (``analytics/api/urls.py``, ``compliance/api/urls.py``,
``reports/api/urls.py``, ``reports/api/schedule_urls.py`` for
``/api/schedules/`` and ``/api/deliveries/``);
they are included by dotted path, so this router imports no app module.
"""

from django.urls import include, path

from portal.api import (
    audit,
    inbox,
    schema_hooks,  # noqa: F401 (registers the token scheme for /api/schema/)
    tokens,
)

urlpatterns = [
    # First, as the busiest (every open dashboard's widget data and poll).
    path("dashboards/", include("dashboards.api.urls")),
    path("", include("analytics.api.urls")),
    path("compliance/", include("compliance.api.urls")),
    path("reports/", include("reports.api.urls")),
    path("", include("reports.api.schedule_urls")),
    path("audit-events/", audit.AuditEventListApi.as_view(), name="api-audit-event-list"),
    path("inbox/", inbox.InboxListApi.as_view(), name="api-inbox"),
    path("inbox/read/", inbox.InboxReadApi.as_view(), name="api-inbox-read"),
    path("token/", tokens.ApiTokenLoginApi.as_view(), name="api-token"),
    path("tokens/", tokens.ApiTokenListCreateApi.as_view(), name="api-token-list"),
    path("tokens/<str:token_key>/", tokens.ApiTokenDetailApi.as_view(), name="api-token-detail"),
]
