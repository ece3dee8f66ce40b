"""Portal-wide pages: the home redirect, a health check for load balancers, and the
error pages (400, 403, the CSRF refusal, 404, 500).

The error pages keep the portal's look and navigation and always offer a way on:
back to the page the user came from (when it is one of ours), home, or the login
page. Under ``/api/`` the same responses are turned into JSON by
``portal.api.errors.ApiErrorsJsonMiddleware``, so these views only speak HTML.
The 500 page is rendered without a request context: no context processor runs, so
it reads neither the session nor the user and still renders when the database is
down.
"""

import base64
import hashlib
import re
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import BadRequest, DisallowedHost
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from portal.context_processors import portal_areas


def home(request: HttpRequest) -> HttpResponse:
    """The landing page that logging in leads to (``LOGIN_REDIRECT_URL``), or the login."""
    return redirect(settings.LOGIN_REDIRECT_URL if request.user.is_authenticated else "login")


def health(request: HttpRequest) -> JsonResponse:
    """200 when the database answers; used by the quickstart runner and probes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _back_url(request: HttpRequest) -> str:
    """The page the user came from when it is on this host, else home. For a refused
    form post that is the form's own page, to reload; a page that links back to
    itself (a reloaded 404) would go nowhere, so it goes home."""
    referer = request.headers.get("referer", "")
    try:
        host = request.get_host()
    except DisallowedHost:
        return reverse("home")
    same_site = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    )
    goes_nowhere = request.method == "GET" and referer == request.build_absolute_uri()
    if referer and same_site and not goes_nowhere:
        return referer
    return reverse("home")


def _error_page(
    request: HttpRequest, template: str, status: HTTPStatus, **context: object
) -> HttpResponse:
    context = {"back_url": _back_url(request), "request_path": request.path, **context}
    return render(request, template, context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: a request the portal could not make sense of. A view that
    raises ``BadRequest`` with a message (written for users, e.g. "The as-of date
    must be a date such as 2024-03-28.") has it shown; other causes stay generic."""
    reason = str(exception) if isinstance(exception, BadRequest) else ""
    return _error_page(request, "400.html", HTTPStatus.BAD_REQUEST, reason=reason)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``: the view raised ``PermissionDenied``; its message (written for
    users, e.g. "Only administrators and compliance officers configure rules.") says
    why."""
    reason = str(exception) if exception is not None else ""
    return _error_page(request, "403.html", HTTPStatus.FORBIDDEN, reason=reason)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form post refused because its security token was
    missing or stale (typically a page left open across a log-in or log-out)."""
    return _error_page(request, "403_csrf.html", HTTPStatus.FORBIDDEN, reason=reason)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: no such page, or an object the user may not see (selectors
    answer both with the same 404, so ids leak nothing)."""
    return _error_page(request, "404.html", HTTPStatus.NOT_FOUND)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: rendered without the request so that nothing here touches the
    database, the session or the user; the areas come from URL names alone. The
    page's own ``<style>`` (it needs no static file) is allowed by the
    Content-Security-Policy through its SHA-256, added to ``style-src`` for this
    response alone (the attribute django-csp's ``csp_update`` decorator sets)."""
    html = loader.render_to_string(
        "500.html", {"areas": [area for area in portal_areas() if area["url"]]}
    )
    response = HttpResponseServerError(html)
    response._csp_update = {"style-src": _inline_style_hashes(html)}  # type: ignore[attr-defined]
    return response


_STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _inline_style_hashes(html: str) -> list[str]:
    """CSP sources (``'sha256-<base64>'``) allowing exactly the ``<style>`` elements of ``html``."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
        for css in _STYLE_ELEMENT.findall(html)
    ]
