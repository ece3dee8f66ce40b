"""The profile page: the user's details and their own API tokens, a new token's
secret shown once, revoking one's own token only; administrators revoke anyone's
in the Django admin, audited."""

import datetime as dt
import zoneinfo
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from portal.api_tokens import api_token_create
from portal.models import ApiToken, AuditAction, AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def token_of(user, name="nightly"):
    token, _ = api_token_create(
        user=user, name=name, scope="read", expires_at=timezone.now() + timedelta(days=5)
    )
    return token


def in_days(days):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_the_profile_needs_a_login(client):
    response = client.get(reverse("profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_shows_my_details_and_only_my_tokens(client, alice, desk, mallory):
    desk.members.add(alice)
    mine, theirs = token_of(alice, "alice's nightly"), token_of(mallory, "mallory's")
    client.force_login(alice)

    page = client.get(reverse("profile")).content.decode()

    assert "alice@example.com" in page and "Equity desk" in page
    assert f'data-token="{mine.token_key}"' in page
    assert "alice&#x27;s nightly" in page
    assert theirs.token_key not in page and "mallory" not in page
    assert f'href="{reverse("profile")}"' in page  # the navigation's link


def test_a_new_tokens_secret_is_shown_once(client, alice):
    client.force_login(alice)

    response = client.post(
        reverse("profile-token-create"),
        {"name": "Risk export", "scope": "write", "expires_on": in_days(30)},
    )

    token = ApiToken.objects.get(user=alice)
    secret = response.context["new_secret"]
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert secret.startswith(token.token_key)
    assert f'value="{secret}"' in response.content.decode()
    assert (token.name, token.scope) == ("Risk export", "write")
    # 00:00 of the chosen day in the portal's time zone.
    day = timezone.localdate() + timedelta(days=30)
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    assert token.expiry == dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    assert secret not in client.get(reverse("profile")).content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_CREATED).count() == 1


@pytest.mark.parametrize(
    ("expires_on", "message"),
    [(0, "The expiry must lie in the future."), (91, "at most 90 days ahead")],
)
def test_an_expiry_out_of_range_is_explained_and_nothing_is_made(
    client, alice, expires_on, message
):
    client.force_login(alice)

    response = client.post(
        reverse("profile-token-create"),
        {"name": "x", "scope": "read", "expires_on": in_days(expires_on)},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors["expires_on"]
    assert not ApiToken.objects.exists()


def test_the_latest_allowed_day_is_90_days_ahead(client, alice):
    client.force_login(alice)
    page = client.get(reverse("profile")).content.decode()

    assert f'max="{in_days(90)}"' in page and f'min="{in_days(1)}"' in page
    created = client.post(
        reverse("profile-token-create"),
        {"name": "longest", "scope": "read", "expires_on": in_days(90)},
    )
    assert created.context.get("new_secret")


def test_i_revoke_my_token(client, alice):
    token = token_of(alice)
    client.force_login(alice)

    response = client.post(reverse("profile-token-revoke", args=[token.token_key]), follow=True)

    assert "was revoked" in response.content.decode()
    assert not ApiToken.objects.exists()
    event = AuditEvent.objects.get(action=AuditAction.TOKEN_REVOKED)
    assert event.details["token_key"] == token.token_key


def test_i_cannot_revoke_someone_elses_token_here(client, alice, mallory):
    token = token_of(alice)
    client.force_login(mallory)

    response = client.post(reverse("profile-token-revoke", args=[token.token_key]))

    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_an_administrator_revokes_anyones_tokens_in_the_admin(client, alice, mallory):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    token_of(alice, "kept")
    gone = token_of(mallory, "gone")
    client.force_login(admin)

    listing = client.get(reverse("admin:portal_apitoken_changelist")).content.decode()
    assert "kept" in listing and "gone" in listing and "mallory" in listing
    client.post(
        reverse("admin:portal_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [gone.pk]},
    )

    assert list(ApiToken.objects.values_list("name", flat=True)) == ["kept"]
    event = AuditEvent.objects.get(action=AuditAction.TOKEN_REVOKED)
    assert (event.actor_username, event.details["owner"]) == ("root", "mallory")
