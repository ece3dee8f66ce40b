"""``Cache-Control: no-store`` on everything the portal answers but static files
and the health probe: pages (portfolio data once logged in, the login form with
its CSRF token), every ``/api/`` response and every download. Neither a shared
proxy nor the browser's cache may keep them, so the back button or the next user
of a shared computer does not see another's data.

A response that already says ``no-store`` is left alone; any other
``Cache-Control`` a view set (``public``, ``max-age``) is replaced: a page that
should be cached belongs under ``STATIC_URL``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

EXEMPT_PATHS = ("/health/",)


class NoStoreMiddleware:
    """Marks every response but static files and /health/ as not to be stored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        path = request.path_info
        if path.startswith(self.static_prefix) or path in EXEMPT_PATHS:
            return response
        if "no-store" not in response.get("Cache-Control", ""):
            del response["Cache-Control"]
            # no-cache, no-store, must-revalidate, private, and an Expires in the past.
            add_never_cache_headers(response)
        return response
