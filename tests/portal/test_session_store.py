"""Sessions are read by ``portal.session_store.SessionStore``, which keeps Django's
database engine's rules: a live session loads its data, an expired, deleted or
unknown key starts an empty session under a new key."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from portal.session_store import SessionStore

pytestmark = pytest.mark.django_db


def test_the_portal_uses_this_store():
    assert settings.SESSION_ENGINE == "portal.session_store"


def test_a_saved_session_loads_its_data_with_its_types():
    saved = SessionStore()
    saved["desk"] = "Equities"
    saved["last_seen"] = 1764700000.5
    saved.save()
    loaded = SessionStore(session_key=saved.session_key)
    assert loaded["desk"] == "Equities"
    assert loaded["last_seen"] == 1764700000.5
    assert loaded.session_key == saved.session_key
    # The row as the ORM reads it, converters included (SQLite keeps datetimes as text).
    row = loaded._get_session_from_db()
    stored = Session.objects.get(pk=saved.session_key)
    assert (row.session_key, row.session_data, row.expire_date) == (
        stored.session_key,
        stored.session_data,
        stored.expire_date,
    )


def test_an_expired_session_is_not_loaded_and_gets_a_new_key():
    saved = SessionStore()
    saved["desk"] = "Equities"
    saved.save()
    Session.objects.filter(pk=saved.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    loaded = SessionStore(session_key=saved.session_key)
    assert loaded.get("desk") is None
    assert loaded.session_key is None
    loaded["desk"] = "Rates"
    loaded.save()
    assert loaded.session_key != saved.session_key


def test_a_session_that_expires_later_today_still_loads():
    saved = SessionStore()
    saved["desk"] = "Equities"
    saved.set_expiry(60)
    saved.save()
    assert SessionStore(session_key=saved.session_key)["desk"] == "Equities"


def test_a_deleted_or_unknown_key_loads_nothing():
    saved = SessionStore()
    saved["desk"] = "Equities"
    saved.save()
    saved.delete()
    assert SessionStore(session_key=saved.session_key).get("desk") is None
    assert SessionStore(session_key="n" * 32).get("desk") is None


def test_a_logout_ends_the_session_at_once(client, alice):
    client.force_login(alice)
    assert client.get(reverse("api-inbox")).status_code == 200
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(pk=key).exists()
    assert client.get(reverse("api-inbox")).status_code in (401, 403)
