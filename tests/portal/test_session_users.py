"""The session's user is read by ``portal.session_users.PortalModelBackend``;
sessions are read from a shared cache first, never from a per-process one."""

import pytest
from django.urls import reverse

from tests.portal.test_csp_header import load_production_settings

pytestmark = pytest.mark.django_db

BACKEND = "portal.session_users.PortalModelBackend"


def test_logging_in_through_the_page_keeps_the_user_on_later_requests(client, alice):
    alice.set_password("a long enough password")
    alice.save()
    response = client.post(
        reverse("login"), {"username": alice.username, "password": "a long enough password"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_backend"] == BACKEND
    me = client.get(reverse("api-inbox"))
    assert me.status_code == 200


def test_a_deactivated_users_session_stops_working_at_once(client, alice):
    client.force_login(alice, backend=BACKEND)
    assert client.get(reverse("api-inbox")).status_code == 200
    alice.is_active = False
    alice.save()
    assert client.get(reverse("api-inbox")).status_code in (401, 403)
    assert client.get(reverse("portfolio-list")).status_code == 302  # to the login page


def test_a_deleted_users_session_is_anonymous(client, alice):
    client.force_login(alice, backend=BACKEND)
    alice.delete()
    assert client.get(reverse("portfolio-list")).status_code == 302


def test_sessions_are_read_from_redis_first_but_never_from_local_memory(monkeypatch):
    shared = load_production_settings(monkeypatch, CACHE_URL="rediscache://127.0.0.1:6379/1")
    assert shared.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    local = load_production_settings(monkeypatch, CACHE_URL="locmemcache://portal")
    assert local.SESSION_ENGINE == "django.contrib.sessions.backends.db"
