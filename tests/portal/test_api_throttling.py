"""API throttling: per token, per user and per address on the token login, each
answering 429 with Retry-After. The throttles' clock is set by hand so the waits
are exact; each test's users, tokens and addresses are its own, so no other
test's counts interfere."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portal.api.throttles import _SettingsRateThrottle
from portal.api_tokens import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The throttles' time in seconds; move it with ``clock[0] = ...``."""
    now = [1_000_000.0]
    monkeypatch.setattr(_SettingsRateThrottle, "timer", staticmethod(lambda: now[0]))
    return now


@pytest.fixture
def rates(settings):
    def set_rates(**scopes):
        base = {"user": "", "token": "", "token_login": ""}
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**base, **scopes},
        }

    return set_rates


def bearer(user, name="script"):
    _, secret = api_token_create(
        user=user, name=name, scope="read", expires_at=timezone.now() + timedelta(days=1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_a_token_over_its_rate_gets_429_with_retry_after(alice, bob, clock, rates):
    rates(token="2/minute")
    alices, bobs = bearer(alice), bearer(bob)

    assert alices.get("/api/tokens/").status_code == 200
    assert alices.get("/api/tokens/").status_code == 200
    clock[0] += 10
    refused = alices.get("/api/tokens/")

    assert refused.status_code == 429
    # The oldest of the two counted requests leaves the 60 s window 50 s from now.
    assert refused["Retry-After"] == "50"
    assert "throttled" in refused.json()["detail"]
    # Another user's token has its own count.
    assert bobs.get("/api/tokens/").status_code == 200
    clock[0] += 50.001
    assert alices.get("/api/tokens/").status_code == 200


def test_each_token_of_one_user_has_its_own_count(alice, clock, rates):
    rates(token="1/minute")
    nightly, hourly = bearer(alice, "nightly"), bearer(alice, "hourly")

    assert nightly.get("/api/tokens/").status_code == 200
    assert nightly.get("/api/tokens/").status_code == 429
    assert hourly.get("/api/tokens/").status_code == 200


def test_a_user_is_counted_over_the_session_and_every_token(alice, mallory, clock, rates):
    rates(user="3/hour")
    browser = APIClient()
    browser.force_login(alice)
    first, second = bearer(alice, "first"), bearer(alice, "second")

    assert browser.get("/api/tokens/").status_code == 200
    assert first.get("/api/tokens/").status_code == 200
    clock[0] += 600
    assert second.get("/api/tokens/").status_code == 200
    refused = browser.get("/api/tokens/")

    assert refused.status_code == 429
    assert refused["Retry-After"] == str(3600 - 600)
    assert bearer(mallory).get("/api/tokens/").status_code == 200


def test_the_token_login_is_throttled_per_address(client, alice, clock, rates):
    rates(token_login="2/minute")
    attempt = {"username": "alice", "password": "guess"}

    for _ in range(2):
        assert client.post("/api/token/", attempt, REMOTE_ADDR="203.0.113.7").status_code == 400
    refused = client.post("/api/token/", attempt, REMOTE_ADDR="203.0.113.7")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert client.post("/api/token/", attempt, REMOTE_ADDR="203.0.113.8").status_code == 400


def test_an_empty_rate_means_no_limit(alice, clock, rates):
    rates()
    client = bearer(alice)

    assert {client.get("/api/tokens/").status_code for _ in range(30)} == {200}


def test_the_default_rates():
    from portal import settings as portal_settings

    assert portal_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "user": "2000/hour",
        "token": "1000/hour",
        "token_login": "20/minute",
    }
