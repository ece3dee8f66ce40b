"""Idle timeout and maximum age of logged-in sessions.

A session ends ``SESSION_COOKIE_AGE`` seconds after login
(``SESSION_MAX_AGE_SECONDS``, 8 h by default), however busy it is, and earlier
once it saw no request for ``SESSION_IDLE_TIMEOUT_SECONDS`` (30 min by default;
0 turns the idle timeout off). Django alone would count the age from the
session's last save, so this middleware keeps both times in the session (epoch
seconds) and checks them on each request. When one is exceeded the user is
logged out (audited as any logout), and a page request is sent to the login page
with a message and ``next=`` back to the page; an API request made with that
session gets 401 JSON, as DRF answers one without credentials. Token-authenticated
API calls carry no session and are not affected.

The time of the last request is written at most once a minute, so that most
requests do not save the session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase, JsonResponse

STARTED_KEY = "portal_session_started"
LAST_SEEN_KEY = "portal_last_seen"
# Seconds between two writes of LAST_SEEN_KEY: the idle time is known to this much.
WRITE_EVERY_SECONDS = 60
API_PREFIX = "/api/"


class SessionIdleTimeoutMiddleware:
    """Logs out a session idle or old beyond the settings (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        session = request.session
        started = session.get(STARTED_KEY)
        if not isinstance(started, (int, float)):
            session[STARTED_KEY] = started = now
        if now - started > settings.SESSION_COOKIE_AGE:
            hours = settings.SESSION_COOKIE_AGE / 3600
            return self._expired(
                request, f"Your session ended {hours:g} hours after you logged in."
            )
        idle = settings.SESSION_IDLE_TIMEOUT_SECONDS
        last_seen = session.get(LAST_SEEN_KEY)
        if idle > 0 and isinstance(last_seen, (int, float)) and now - last_seen > idle:
            minutes = max(1, idle // 60)
            return self._expired(
                request, f"You were logged out after {minutes} minutes without activity."
            )
        if not isinstance(last_seen, (int, float)) or now - last_seen >= WRITE_EVERY_SECONDS:
            session[LAST_SEEN_KEY] = now
        return self.get_response(request)

    def _expired(self, request: HttpRequest, message: str) -> HttpResponseBase:
        logout(request)
        if request.path_info.startswith(API_PREFIX):
            return JsonResponse(
                {"detail": f"{message} Log in again."}, status=HTTPStatus.UNAUTHORIZED
            )
        messages.info(request, f"{message} Log in to carry on.")
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
