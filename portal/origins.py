"""Where an action came from, as the audit log records it.

Services never see an ``HttpRequest``: a view turns the request into a
``RequestOrigin`` and passes that down; tasks and commands pass none.

The client's address is the connection's peer (``REMOTE_ADDR``) unless that peer
is one of our own proxies (``settings.TRUSTED_PROXIES``: IP addresses or CIDR
networks, empty by default). Only then is ``X-Forwarded-For`` read, from the
right: each proxy appends the address it saw, so the right-most address that is
not itself a trusted proxy is the client. Whatever a client writes at the left of
that header is never believed, so a spoofed ``X-Forwarded-For: 6.6.6.6`` sent
straight to the portal (or through the proxy) records the real peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

USER_AGENT_MAX_LENGTH = 512

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RequestOrigin:
    """The client's IP address and user agent for one HTTP request."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest | None) -> RequestOrigin | None:
        """The origin of ``request``, or None when there is no request (see the
        module docstring for how the address is chosen)."""
        if request is None:
            return None
        return cls(
            ip_address=client_ip(request.META) or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH],
        )


def client_ip(meta: dict) -> str:
    """The client's address from a request's META ("" when there is none)."""
    peer = str(meta.get("REMOTE_ADDR") or "").strip()
    proxies = trusted_proxy_networks(tuple(settings.TRUSTED_PROXIES))
    if not proxies or not _is_in(peer, proxies):
        return peer
    hops = [hop.strip() for hop in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if _parse(hop) is None:
            break  # a malformed entry: nothing left of it can be believed
        if not _is_in(hop, proxies):
            return hop
    return peer


@lru_cache(maxsize=8)
def trusted_proxy_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES`` parsed: "10.0.0.5" is a /32 (or /128), "10.0.0.0/8" a
    network. An entry that is neither raises ValueError naming it."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES: {entry!r} is neither an IP address nor a CIDR network"
            ) from None
    return tuple(networks)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _is_in(address: str, networks: tuple[Network, ...]) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in network for network in networks)


def axes_client_ip(request: HttpRequest) -> str:
    """The address django-axes counts failed logins by (``AXES_CLIENT_IP_CALLABLE``):
    the same one the audit log records."""
    origin = RequestOrigin.of(request)
    return (origin.ip_address if origin else None) or ""
