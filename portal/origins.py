"""Where an action came from, as the audit log records it.

Services never see an ``HttpRequest``: a view turns the request into a
``RequestOrigin`` and passes that down; tasks and commands pass none.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True)
class RequestOrigin:
    """The client's IP address and user agent for one HTTP request."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest | None) -> RequestOrigin | None:
        """The origin of ``request``, or None when there is no request.

        The first address of X-Forwarded-For is trusted only behind our own proxy;
        otherwise REMOTE_ADDR, the connection's peer, is the client.
        """
        if request is None:
            return None
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        ip_address = forwarded.split(",")[0].strip() if forwarded else ""
        return cls(
            ip_address=ip_address or request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH],
        )
