"""API throttles (DRF's, in the default cache): each answers 429 with
``Retry-After`` (whole seconds until the oldest counted request leaves the window).

* ``PerUserThrottle`` (scope ``user``, ``API_THROTTLE_USER``): every request of one
  user, by session or by any of their tokens.
* ``PerTokenThrottle`` (scope ``token``, ``API_THROTTLE_TOKEN``): every request made
  with one token, so one busy script does not use up its owner's other tokens.
* ``TokenLoginThrottle`` (scope ``token_login``, ``API_THROTTLE_TOKEN_LOGIN``):
  ``POST /api/token/`` per client address, before django-axes' per-username lockout.

The first two are ``REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]``. Rates are
``"<count>/<second|minute|hour|day>"`` from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``,
read when a request is throttled (so a changed setting applies at once); an empty
rate means no limit. The client address is the one the audit log records
(``portal.origins``: ``X-Forwarded-For`` only from ``TRUSTED_PROXIES``), never DRF's
own reading of that header.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from portal.models import ApiToken
from portal.origins import client_ip


class _SettingsRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is read from the settings now, not at import."""

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(str(self.scope))
        return str(rate) if rate else None

    def get_ident(self, request) -> str:
        return client_ip(request.META)


class PerUserThrottle(_SettingsRateThrottle):
    """Requests of one signed-in user (anonymous requests are not counted here)."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class PerTokenThrottle(_SettingsRateThrottle):
    """Requests made with one personal token (none for a browser session)."""

    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        # The digest, not the secret: the cache never holds anything that logs in.
        return self.cache_format % {"scope": self.scope, "ident": request.auth.digest}


class TokenLoginThrottle(_SettingsRateThrottle):
    """Attempts at ``POST /api/token/`` from one client address."""

    scope = "token_login"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
