"""API permissions shared by every view (``REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]``).

``TokenScopeAllows``: a request authenticated by a ``read``-scope personal token
may only read (GET, HEAD, OPTIONS); anything else is a 403 that names the scope.
A ``write`` token may do whatever its user may, and a logged-in browser session
(no token) is not affected. So a read token cannot make another token either.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from portal.models import ApiToken, ApiTokenScope

READ_SCOPE_REFUSED = (
    'This token has the "read" scope: it may only read (GET, HEAD, OPTIONS). '
    'Use a token with the "write" scope to change anything.'
)


class TokenScopeAllows(BasePermission):
    """Refuse unsafe methods to ``read``-scope tokens (see the module docstring)."""

    message = READ_SCOPE_REFUSED

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken) or token.scope != ApiTokenScope.READ:
            return True
        return request.method in SAFE_METHODS
