"""Who may read the OpenAPI schema (``/api/schema/``) and its Swagger UI
(``/api/docs/``): any logged-in user (session or API token), or anyone when
``settings.API_DOCS_PUBLIC`` is true (off by default: the schema maps every
route an attacker could try). Read at each request, so the setting can be
changed in tests."""

from __future__ import annotations

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class ApiDocsPermission(BasePermission):
    """Allows a logged-in user, or everyone when ``API_DOCS_PUBLIC`` is true."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(settings.API_DOCS_PUBLIC or request.user.is_authenticated)
