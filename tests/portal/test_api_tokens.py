"""Personal API tokens from creation to revocation: the secret is shown once and
stored hashed; a read token only reads; an expired or revoked token is refused;
someone else's token is out of reach except for an administrator; every creation
and revocation is in the audit log without the secret."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from portal.api_tokens import api_token_create
from portal.models import ApiToken, AuditAction, AuditEvent, Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(db):
    return UserFactory(username="olga", role=Role.ADMIN)


def session(user):
    client = APIClient()
    client.force_login(user)
    return client


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def in_days(days):
    return (timezone.now() + timedelta(days=days)).isoformat()


def create(client, **body):
    return client.post("/api/tokens/", {"name": "nightly", "scope": "read", **body}, format="json")


def test_the_secret_is_shown_once_and_only_its_digest_is_stored(alice):
    response = create(session(alice), expires_at=in_days(30))

    assert response.status_code == 201
    body = response.json()
    secret = body["token"]
    token = ApiToken.objects.get()
    assert body["id"] == token.token_key == secret[:15]
    assert (body["name"], body["scope"], body["user"]) == ("nightly", "read", "alice")
    assert body["last_used_at"] is None and body["expired"] is False
    assert token.digest != secret and len(token.digest) == 128  # SHA-512, hex
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_apitoken")
        assert secret not in repr(cursor.fetchall())
    listed = session(alice).get("/api/tokens/").json()["results"]
    assert [row["id"] for row in listed] == [token.token_key]
    assert "token" not in listed[0]
    assert secret not in repr(AuditEvent.objects.values_list("details", flat=True))


def test_a_token_reads_and_its_use_is_noted_once_a_minute(alice, growth):
    _, secret = api_token_create(
        user=alice, name="n", scope="read", expires_at=timezone.now() + timedelta(days=1)
    )

    response = bearer(secret).get("/api/portfolios/")

    assert response.status_code == 200
    assert [p["code"] for p in response.json()["results"]] == ["GROWTH"]
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None
    bearer(secret).get("/api/portfolios/")
    assert ApiToken.objects.get().last_used_at == first_use  # within the minute
    ApiToken.objects.update(last_used_at=first_use - timedelta(minutes=2))
    bearer(secret).get("/api/portfolios/")
    assert ApiToken.objects.get().last_used_at > first_use


def test_a_read_token_may_not_write_and_is_told_its_scope(alice):
    _, secret = api_token_create(
        user=alice, name="n", scope="read", expires_at=timezone.now() + timedelta(days=1)
    )

    response = create(bearer(secret), expires_at=in_days(1))

    assert response.status_code == 403
    assert '"read" scope' in response.json()["detail"]
    assert ApiToken.objects.count() == 1


def test_a_write_token_may_make_another_token(alice):
    _, secret = api_token_create(
        user=alice, name="n", scope="write", expires_at=timezone.now() + timedelta(days=1)
    )

    assert create(bearer(secret), expires_at=in_days(1)).status_code == 201
    assert ApiToken.objects.filter(user=alice).count() == 2


def test_an_expired_token_is_refused_with_401(alice):
    token, secret = api_token_create(
        user=alice, name="n", scope="write", expires_at=timezone.now() + timedelta(days=1)
    )
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    response = bearer(secret).get("/api/tokens/")

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"
    # Kept, marked expired, so that its owner sees what happened.
    assert session(alice).get("/api/tokens/").json()["results"][0]["expired"] is True


def test_a_wrong_secret_is_refused(alice):
    _, secret = api_token_create(
        user=alice, name="n", scope="write", expires_at=timezone.now() + timedelta(days=1)
    )
    wrong = secret[:15] + ("0" if secret[15] != "0" else "1") + secret[16:]

    assert bearer(wrong).get("/api/tokens/").status_code == 401
    assert bearer("not-hex!").get("/api/tokens/").status_code == 401


@pytest.mark.parametrize(
    ("expires_at", "message"),
    [
        (None, "A token needs an expiry date and time."),
        (-1, "The expiry must lie in the future."),
        (91, "The expiry may lie at most 90 days ahead."),
    ],
)
def test_the_expiry_is_required_in_the_future_and_at_most_90_days_ahead(alice, expires_at, message):
    body = {} if expires_at is None else {"expires_at": in_days(expires_at)}

    response = create(session(alice), **body)

    assert response.status_code == 400
    assert response.json() == {"expires_at": [message]}
    assert not ApiToken.objects.exists()


def test_bad_name_and_scope_name_the_field(alice):
    assert "scope" in create(session(alice), scope="admin", expires_at=in_days(1)).json()
    assert create(session(alice), name="  ", expires_at=in_days(1)).json() == {
        "name": ["This field may not be blank."]
    }


def test_an_administrator_may_make_a_token_that_never_expires(olga):
    response = create(session(olga), expires_at=None)

    assert response.status_code == 201
    assert response.json()["expires_at"] is None


def test_the_owner_revokes_and_the_token_stops_working(alice):
    token, secret = api_token_create(
        user=alice, name="nightly", scope="write", expires_at=timezone.now() + timedelta(days=1)
    )

    response = session(alice).delete(f"/api/tokens/{token.token_key}/")

    assert response.status_code == 204
    assert bearer(secret).get("/api/tokens/").status_code == 401
    assert not ApiToken.objects.exists()


def test_someone_elses_token_is_404_and_stays(alice, mallory):
    token, secret = api_token_create(
        user=alice, name="n", scope="write", expires_at=timezone.now() + timedelta(days=1)
    )

    assert session(mallory).delete(f"/api/tokens/{token.token_key}/").status_code == 404
    assert session(mallory).get("/api/tokens/").json()["results"] == []
    assert bearer(secret).get("/api/tokens/").status_code == 200


def test_an_administrator_sees_and_revokes_anyones_token(alice, mallory, olga):
    token, _ = api_token_create(
        user=alice, name="a", scope="read", expires_at=timezone.now() + timedelta(days=1)
    )
    api_token_create(
        user=mallory, name="m", scope="read", expires_at=timezone.now() + timedelta(days=1)
    )

    listed = session(olga).get("/api/tokens/").json()["results"]
    assert sorted((row["user"], row["name"]) for row in listed) == [
        ("alice", "a"),
        ("mallory", "m"),
    ]
    assert session(olga).delete(f"/api/tokens/{token.token_key}/").status_code == 204
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["m"]


def test_creation_and_revocation_are_audited_without_the_secret(alice, olga):
    response = create(session(alice), expires_at=in_days(7))
    key, secret = response.json()["id"], response.json()["token"]
    session(olga).delete(f"/api/tokens/{key}/")

    created, revoked = AuditEvent.objects.filter(
        action__in=[AuditAction.TOKEN_CREATED, AuditAction.TOKEN_REVOKED]
    ).order_by("id")
    assert (created.action, created.actor_username) == (AuditAction.TOKEN_CREATED, "alice")
    assert (revoked.action, revoked.actor_username) == (AuditAction.TOKEN_REVOKED, "olga")
    for event in (created, revoked):
        assert (event.target_type, event.target_id) == ("portal.User", str(alice.pk))
        assert event.details["token_key"] == key
        assert event.details["name"] == "nightly"
        assert event.details["owner"] == "alice"
        assert secret not in repr(event.details)
        assert event.ip_address == "127.0.0.1"


def test_login_with_a_password_gives_an_expiring_write_token(client, alice, growth):
    before = timezone.now()
    response = client.post("/api/token/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    token = ApiToken.objects.get()
    assert (token.name, token.scope) == ("Login token", "write")
    lifetime = token.expiry - before
    assert timedelta(hours=10) - timedelta(minutes=1) < lifetime <= timedelta(hours=10, minutes=1)
    assert body["expires_at"] == token.expiry.isoformat().replace("+00:00", "Z")
    listed = bearer(body["token"]).get("/api/portfolios/")
    assert [p["code"] for p in listed.json()["results"]] == ["GROWTH"]
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_CREATED).count() == 1


def test_login_with_a_wrong_password_is_a_clear_400(client, alice):
    response = client.post("/api/token/", {"username": "alice", "password": "guess"})

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Unable to log in with the username and password given."]
    }
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 1
