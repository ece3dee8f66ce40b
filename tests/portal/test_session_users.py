"""The session's user is read by ``portal.session_users.PortalModelBackend``, which
keeps ``ModelBackend``'s rules: an inactive or deleted user's session stops working."""

import pytest
from django.urls import reverse

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
