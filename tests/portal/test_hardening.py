"""Production hardening: ``check --deploy`` is clean with the variables the README
names, passwords are hashed with Argon2, pages and API answers are never stored
by a cache, the API's schema and docs need a login, and sessions end after 8 h or
30 idle minutes."""

import importlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.http import HttpResponse
from django.templatetags.static import static
from django.test import Client, RequestFactory
from django.urls import reverse

from portal.models import AuditAction, AuditEvent
from portal.no_store import NoStoreMiddleware
from portal.session_idle import LAST_SEEN_KEY, STARTED_KEY
from tests.api_tokens import token_header

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "portal.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    "PORTAL_HTTPS": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "TRUSTED_PROXIES": "10.0.0.5",
}


def check_deploy(**variables: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_* too: the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process.
        if not key.startswith(("SECURE_", "SESSION_", "CSRF_", "PORTAL_HTTPS", "DJANGO_"))
    }
    env.update(SECRET_KEY=secrets.token_urlsafe(50), **variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_the_production_variables():
    result = check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_https_check_deploy_names_what_is_missing():
    result = check_deploy(**{**PRODUCTION, "PORTAL_HTTPS": "false"})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_argon2_hashes_new_passwords_in_production():
    production = importlib.import_module("portal.settings")
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    # The suite hashes with MD5 (tests/conftest.py): the hasher itself is used here.
    hasher = Argon2PasswordHasher()
    hashed = hasher.encode("a long enough passphrase", hasher.salt())
    assert hashed.startswith("argon2$argon2id$")
    assert hasher.verify("a long enough passphrase", hashed)
    minimum = next(v for v in production.AUTH_PASSWORD_VALIDATORS if "MinimumLength" in v["NAME"])
    assert minimum["OPTIONS"] == {"min_length": 12}


def test_the_embedded_default_serves_plain_http():
    production = importlib.import_module("portal.settings")
    assert (production.SECURE_SSL_REDIRECT, production.SESSION_COOKIE_SECURE) == (False, False)
    assert production.SECURE_HSTS_SECONDS == 0


# --- Cache-Control ---------------------------------------------------------------


def test_a_logged_in_page_and_the_api_are_no_store(alice, growth):
    client = Client()
    client.force_login(alice)
    for url in (reverse("portfolio-list"), reverse("api-portfolio-list")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_an_api_error_and_a_token_call_are_no_store(alice):
    client = Client()
    assert "no-store" in client.get("/api/no-such-thing/")["Cache-Control"]
    response = client.get(reverse("api-portfolio-list"), **token_header(alice))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_login_page_is_no_store(db):
    assert "no-store" in Client().get(reverse("login"))["Cache-Control"]


def test_static_files_and_the_health_probe_keep_their_caching(db):
    stylesheet = Client().get(static("css/portal.css"))
    assert stylesheet.status_code == 200
    assert "immutable" in stylesheet["Cache-Control"]
    assert "no-store" not in stylesheet["Cache-Control"]
    assert "Cache-Control" not in Client().get(reverse("health"))


def test_a_download_that_asked_to_be_cached_is_made_no_store():
    def public_download(request):
        response = HttpResponse(b"a,b\n", content_type="text/csv")
        response["Cache-Control"] = "public, max-age=3600"
        response["Content-Disposition"] = 'attachment; filename="x.csv"'
        return response

    response = NoStoreMiddleware(public_download)(RequestFactory().get("/reports/runs/1/file/"))
    assert "public" not in response["Cache-Control"]
    assert "max-age=3600" not in response["Cache-Control"]
    assert {"no-store", "private", "no-cache"} <= {
        part.strip() for part in response["Cache-Control"].split(",")
    }


# --- API docs ------------------------------------------------------------------------


def test_the_docs_need_a_login_by_default(db):
    client = Client()
    for name in ("api-docs", "api-schema"):
        assert client.get(reverse(name)).status_code in (401, 403), name


def test_the_docs_answer_a_session_or_a_token(alice):
    client = Client()
    client.force_login(alice)
    assert client.get(reverse("api-docs")).status_code == 200
    by_token = Client().get(reverse("api-schema"), **token_header(alice))
    assert by_token.status_code == 200
    assert b"openapi" in by_token.content


def test_api_docs_public_opens_them(db, settings):
    settings.API_DOCS_PUBLIC = True
    assert Client().get(reverse("api-docs")).status_code == 200


# --- Sessions -----------------------------------------------------------------------


def test_sessions_last_eight_hours_and_idle_thirty_minutes_by_default():
    production = importlib.import_module("portal.settings")
    assert production.SESSION_COOKIE_AGE == 8 * 3600
    assert production.SESSION_IDLE_TIMEOUT_SECONDS == 30 * 60


def age_session(client, key: str, seconds: float) -> None:
    session = client.session
    session[key] -= seconds
    session.save()


@pytest.fixture
def active(alice):
    client = Client()
    client.force_login(alice)
    assert client.get(reverse("portfolio-list")).status_code == 200  # starts the clocks
    return client


def test_an_active_session_goes_on(active):
    age_session(active, LAST_SEEN_KEY, 29 * 60)
    assert active.get(reverse("portfolio-list")).status_code == 200


def test_an_idle_session_is_logged_out_with_a_message(active):
    age_session(active, LAST_SEEN_KEY, 31 * 60)
    page = reverse("portfolio-list")

    response = active.get(page)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={page}"
    login_page = active.get(response["Location"])
    assert "logged out after 30 minutes without activity" in login_page.content.decode()
    assert active.get(page).status_code == 302  # still logged out
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT).count() == 1


def test_an_idle_session_calling_the_api_gets_401_json(active):
    age_session(active, LAST_SEEN_KEY, 31 * 60)
    response = active.get(reverse("api-portfolio-list"))
    assert response.status_code == 401
    assert "without activity" in response.json()["detail"]


def test_a_busy_session_still_ends_eight_hours_after_login(active):
    age_session(active, STARTED_KEY, 8 * 3600 + 1)
    response = active.get(reverse("portfolio-list"))
    assert response.status_code == 302
    assert "_auth_user_id" not in active.session


def test_the_idle_timeout_can_be_turned_off(active, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 0
    age_session(active, LAST_SEEN_KEY, 10 * 3600)
    assert active.get(reverse("portfolio-list")).status_code == 200
