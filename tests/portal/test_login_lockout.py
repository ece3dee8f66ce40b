"""Login lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
username from one address, even the right password is refused until the cool-off
ends or an admin lifts the lockout; both the lockout and its lifting are audited."""

import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from portal.lockouts import lockout_response
from portal.models import AuditAction, AuditEvent
from tests.factories import PASSWORD, UserFactory

ATTACKER = "203.0.113.66"


@pytest.fixture(autouse=True)
def lockout_settings(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = 1.0
    settings.TRUSTED_PROXIES = []


def log_in(client, password, *, remote_addr=ATTACKER, **extra):
    return client.post(
        reverse("login"),
        {"username": "alice", "password": password},
        REMOTE_ADDR=remote_addr,
        **extra,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_lock_the_account_after_five(alice, client):
    statuses = [log_in(client, f"guess-{n}").status_code for n in range(30)]

    # Four ordinary refusals (the form again), then the lockout page every time.
    assert statuses == [200] * 4 + [429] * 26
    refused = log_in(client, PASSWORD)
    assert refused.status_code == 429
    assert not logged_in(client)
    assert "Too many failed logins" in refused.content.decode()
    assert refused["Retry-After"] == "3600"
    # Failures while locked do not extend the lockout: the count stays at the limit.
    attempt = AccessAttempt.objects.get(username="alice", ip_address=ATTACKER)
    assert attempt.failures_since_start == 5
    # The 5th failure, the 25 after it and the right password: 27 lockout events.
    lockouts = AuditEvent.objects.filter(action=AuditAction.LOGIN_LOCKED_OUT)
    assert lockouts.count() == 27
    assert {(e.details["username"], e.ip_address) for e in lockouts} == {("alice", ATTACKER)}


def test_an_admin_lifting_the_lockout_lets_the_right_password_in(alice, client):
    for n in range(6):
        log_in(client, f"guess-{n}")
    assert log_in(client, PASSWORD).status_code == 429

    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    admin_client = Client()
    admin_client.force_login(admin)
    attempt = AccessAttempt.objects.get(username="alice")
    response = admin_client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "lift_lockouts", "_selected_action": [attempt.pk]},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    lifted = AuditEvent.objects.get(action=AuditAction.LOCKOUT_LIFTED)
    assert (lifted.actor, lifted.details) == (
        admin,
        {"username": "alice", "ip_address": ATTACKER, "failures": 5},
    )

    assert log_in(client, PASSWORD).status_code == 302
    assert logged_in(client)


def test_deleting_the_attempt_in_the_admin_is_an_audited_lift(alice, client):
    for n in range(5):
        log_in(client, f"guess-{n}")
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    admin_client = Client()
    admin_client.force_login(admin)
    attempt = AccessAttempt.objects.get(username="alice")

    response = admin_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.LOCKOUT_LIFTED, actor=admin).count() == 1
    assert log_in(client, PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(alice, client):
    for n in range(5):
        log_in(client, f"guess-{n}")
    assert log_in(client, PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get(username="alice")
    attempt.attempt_time -= timedelta(hours=1, minutes=1)
    attempt.save(update_fields=["attempt_time"])

    assert log_in(client, PASSWORD).status_code == 302


def test_the_lockout_is_per_username_and_address(alice, client):
    for n in range(5):
        log_in(client, f"guess-{n}")
    assert log_in(client, PASSWORD).status_code == 429
    # alice from her own desk is not locked out by an attacker guessing elsewhere.
    assert log_in(client, PASSWORD, remote_addr="198.51.100.10").status_code == 302


def test_rotating_a_spoofed_forwarded_for_does_not_escape_the_lockout(alice, client):
    statuses = [
        log_in(client, f"guess-{n}", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}").status_code
        for n in range(5)
    ]
    assert statuses[-1] == 429
    assert log_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="7.7.7.7").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_a_success_before_the_limit_resets_the_count(alice, client):
    for n in range(4):
        log_in(client, f"guess-{n}")
    assert log_in(client, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for n in range(4):
        assert log_in(client, f"again-{n}").status_code == 200


def test_an_api_path_gets_the_lockout_as_json():
    request = RequestFactory().post("/api/token/")
    response = lockout_response(request, None, {"username": "alice"})
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "3600"
    assert "locked for 60 minutes" in json.loads(response.content)["detail"]


def test_the_token_endpoint_is_locked_after_five_failures_too(alice):
    cache.clear()  # the endpoint's own throttle counts per address in the cache
    client = APIClient(REMOTE_ADDR=ATTACKER)

    def token(password):
        return client.post(
            reverse("api-token"), {"username": "alice", "password": password}, format="json"
        )

    statuses = [token(f"guess-{n}").status_code for n in range(6)]

    assert statuses == [400] * 4 + [429] * 2
    refused = token(PASSWORD)
    assert refused.status_code == 429
    assert "token" not in refused.json()
    assert "Too many failed logins" in refused.json()["detail"]
    assert refused["Retry-After"] == "3600"
    assert AccessAttempt.objects.get(username="alice").path_info == reverse("api-token")
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_LOCKED_OUT).count() == 3
