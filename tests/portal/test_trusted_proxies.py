"""X-Forwarded-For is believed only from the proxies named in TRUSTED_PROXIES, and
then read from the right: a client cannot choose the address the audit log (or
the login lockout) records for it."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from portal.models import AuditAction, AuditEvent
from portal.origins import RequestOrigin, axes_client_ip, trusted_proxy_networks
from tests.factories import PASSWORD

PROXY = "10.0.0.5"


def origin_ip(remote_addr: str, forwarded: str | None = None) -> str | None:
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    origin = RequestOrigin.of(RequestFactory().get("/", **extra))
    assert origin is not None
    return origin.ip_address


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert origin_ip("203.0.113.7", "6.6.6.6") == "203.0.113.7"


def test_a_client_that_is_not_a_trusted_proxy_cannot_spoof(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert origin_ip("203.0.113.7", "6.6.6.6") == "203.0.113.7"


def test_behind_a_trusted_proxy_the_address_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert origin_ip(PROXY, "198.51.100.20") == "198.51.100.20"


def test_a_spoofed_entry_left_of_the_proxys_own_is_not_believed(settings):
    # The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the real peer.
    settings.TRUSTED_PROXIES = [PROXY]
    assert origin_ip(PROXY, "6.6.6.6, 198.51.100.20") == "198.51.100.20"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert origin_ip("10.0.0.5", "6.6.6.6, 198.51.100.20, 10.1.2.3") == "198.51.100.20"


def test_when_every_hop_is_a_proxy_the_peer_is_recorded(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert origin_ip("10.0.0.5", "10.9.9.9") == "10.0.0.5"


def test_a_malformed_hop_stops_the_walk_at_the_peer(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert origin_ip(PROXY, "6.6.6.6, not-an-address") == PROXY


def test_ipv6_proxies_and_clients(settings):
    settings.TRUSTED_PROXIES = ["2001:db8::/32"]
    assert origin_ip("2001:db8::1", "2001:db8:ffff::9, 2a00:1450::7") == "2a00:1450::7"
    assert origin_ip("2a00:1450::7", "6.6.6.6") == "2a00:1450::7"


def test_a_bad_trusted_proxies_entry_names_itself():
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        trusted_proxy_networks(("10.0.0.300",))


def test_axes_counts_failures_by_the_same_address(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    spoofed = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="6.6.6.6")
    proxied = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert (axes_client_ip(spoofed), axes_client_ip(proxied)) == ("203.0.113.7", "198.51.100.20")


def test_a_spoofed_header_on_login_records_the_real_peer(alice, client, settings):
    settings.TRUSTED_PROXIES = []
    client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    login = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert login.ip_address == "203.0.113.7"
