"""Login lockouts (django-axes): the answer a locked-out client gets, and an
admin lifting a lockout.

django-axes counts failed logins per username and client address (settings
``AXES_*``; the address comes from ``portal.origins``) on every path that calls
``django.contrib.auth.authenticate`` with the request: the login page and the
API's token endpoint. A lockout is recorded in the audit log by
``portal.signals.record_lockout``; lifting one goes through ``lockout_lift``,
which deletes the attempts and records ``LOCKOUT_LIFTED`` in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from portal.models import AuditAction, User
from portal.origins import RequestOrigin
from portal.services import audit_record

API_PREFIX = "/api/"


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' backend (first in ``AUTHENTICATION_BACKENDS``: it refuses a
    locked-out username and address before the password is checked), except that
    an authentication with no HTTP request (a shell, a management command, the test
    client's ``login``) is not its business: there is no address to lock out, and
    axes' own backend would raise instead of letting ModelBackend answer."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 with ``Retry-After`` (seconds of the cool-off),
    as JSON ``{"detail": ...}`` under /api/ and as the portal's page elsewhere."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    detail = (
        f"Too many failed logins: this account is locked for {minutes} minutes "
        "from this address, or until an administrator lifts the lockout."
        if minutes
        else "Too many failed logins: this account is locked until an administrator "
        "lifts the lockout."
    )
    response: HttpResponse
    if request.path_info.startswith(API_PREFIX):
        response = JsonResponse({"detail": detail}, status=HTTPStatus.TOO_MANY_REQUESTS)
    else:
        response = TemplateResponse(
            request,
            "portal/locked_out.html",
            {
                "detail": detail,
                "failure_limit": get_failure_limit(request, credentials),
                "cool_off_minutes": minutes,
                "back_url": reverse("login"),
            },
            status=HTTPStatus.TOO_MANY_REQUESTS,
        )
        response.render()
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


@transaction.atomic
def lockout_lift(
    *, actor: User, attempts: Iterable[AccessAttempt], origin: RequestOrigin | None = None
) -> int:
    """Delete the given failed-login records (so the username may log in again from
    those addresses) and record one ``LOCKOUT_LIFTED`` event per record. Returns
    how many were lifted."""
    lifted = 0
    for attempt in attempts:
        audit_record(
            actor=actor,
            action=AuditAction.LOCKOUT_LIFTED,
            origin=origin,
            details={
                "username": attempt.username or "",
                "ip_address": attempt.ip_address or "",
                "failures": attempt.failures_since_start,
            },
        )
        attempt.delete()
        lifted += 1
    return lifted
