"""Audit events are append-only: they cannot be changed or deleted through the
ORM, the admin, or (on PostgreSQL) plain SQL."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError, InternalError
from django.urls import reverse

from portal.models import AuditAction, AuditEvent, AuditLogIsAppendOnly
from portal.services import audit_record
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(alice, growth):
    return audit_record(
        actor=alice,
        action=AuditAction.EXPORT,
        target=growth,
        details={"format": "csv", "size": 120, "sha256": "ab" * 32},
    )


def test_an_event_records_who_what_and_which_object(event, alice, growth):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == alice
    assert stored.actor_username == "alice"
    assert stored.action == "export.downloaded"
    assert (stored.target_type, stored.target_id) == ("analytics.Portfolio", str(growth.pk))
    assert stored.details["sha256"] == "ab" * 32


def test_saving_a_changed_event_is_refused(event):
    event.action = AuditAction.LOGIN
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.EXPORT


def test_deleting_an_event_is_refused(event):
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().update(action=AuditAction.LOGIN)
    assert AuditEvent.objects.filter(pk=event.pk, action=AuditAction.EXPORT).exists()


def test_bulk_writes_over_existing_events_are_refused(event):
    event.action = AuditAction.LOGIN
    for attempt in (
        lambda: AuditEvent.objects.bulk_update([event], ["action"]),
        lambda: AuditEvent.objects.update_or_create(
            pk=event.pk, defaults={"action": AuditAction.LOGIN}
        ),
    ):
        with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
            attempt()
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.EXPORT


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger is PostgreSQL's")
def test_postgresql_refuses_raw_updates_and_deletes(event):
    for sql in (
        "UPDATE portal_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM portal_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises((InternalError, DatabaseError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action=AuditAction.EXPORT).exists()


def test_admin_shows_the_log_but_cannot_change_or_delete_it(event, client):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get(reverse("admin:portal_auditevent_changelist"))
    assert listing.status_code == 200
    assert "alice" in listing.content.decode()

    view = client.get(reverse("admin:portal_auditevent_change", args=[event.pk]))
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()  # read-only: no save button

    change = client.post(
        reverse("admin:portal_auditevent_change", args=[event.pk]), {"action": "auth.login"}
    )
    assert change.status_code == 403
    delete = client.post(
        reverse("admin:portal_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    bulk = client.post(
        reverse("admin:portal_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert AuditEvent.objects.filter(pk=event.pk, action=AuditAction.EXPORT).exists()
    assert client.get(reverse("admin:portal_auditevent_add")).status_code == 403


def test_logins_and_failed_logins_are_audited_without_passwords(alice, client):
    client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.details == {"username": "alice"}
    assert "wrong" not in str(failed.details)
    login = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert login.actor == alice
    assert login.ip_address == "127.0.0.1"


def test_entitlement_changes_in_the_admin_are_audited(alice, bob, growth, client):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:portal_entitlement_add"),
        {"portfolio": growth.pk, "user": bob.pk, "team": "", "level": "manage"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.filter(action=AuditAction.ENTITLEMENT_GRANTED, actor=admin).get()
    assert event.details == {"user": "bob", "team": None, "level": "manage"}


def test_team_and_portfolio_admin_inlines_grant_and_revoke_with_audit(
    alice, bob, desk, growth, client
):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    entitlement = desk.entitlements.get(portfolio=growth)
    prefix = "entitlements"
    form = {
        "name": desk.name,
        "description": "",
        "members": [bob.pk],
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-0-id": entitlement.pk,
        f"{prefix}-0-team": desk.pk,
        f"{prefix}-0-portfolio": growth.pk,
        f"{prefix}-0-level": "view",
        f"{prefix}-0-DELETE": "on",
    }
    response = client.post(reverse("admin:portal_team_change", args=[desk.pk]), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not desk.entitlements.exists()
    revoked = AuditEvent.objects.get(action=AuditAction.ENTITLEMENT_REVOKED, actor=admin)
    assert revoked.details == {"user": None, "team": "Equity desk", "level": "view"}

    form = {
        "code": growth.code,
        "name": growth.name,
        "base_currency": "USD",
        "inception_date": "2015-01-02",
        "owner": alice.pk,
        "strategy": "",
        "is_active": "on",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-user": bob.pk,
        f"{prefix}-0-team": "",
        f"{prefix}-0-level": "manage",
        "risk_limits-TOTAL_FORMS": "0",
        "risk_limits-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:analytics_portfolio_change", args=[growth.pk]), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert bob.entitlements.get(portfolio=growth).level == "manage"
    granted = AuditEvent.objects.get(action=AuditAction.ENTITLEMENT_GRANTED, actor=admin)
    assert granted.details == {"user": "bob", "team": None, "level": "manage"}


def test_role_and_permission_changes_in_the_admin_are_audited(bob, client):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(reverse("admin:portal_user_change", args=[bob.pk]))
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "username": "bob",
            "role": "risk_manager",
            "is_staff": "on",
            "date_joined_0": bob.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": bob.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
            "entitlements-TOTAL_FORMS": "0",
            "entitlements-INITIAL_FORMS": "0",
        }
    )
    data.pop("last_login", None)
    data.pop("password", None)
    response = client.post(reverse("admin:portal_user_change", args=[bob.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action=AuditAction.USER_CHANGED, actor=admin)
    assert {"role", "is_staff"} <= set(event.details["fields"])


def test_repointing_an_entitlement_in_the_admin_revokes_the_old_grant(
    alice, bob, carol, income, client
):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    entitlement = carol.entitlements.get(portfolio=income)
    response = client.post(
        reverse("admin:portal_entitlement_change", args=[entitlement.pk]),
        {"portfolio": income.pk, "user": bob.pk, "team": "", "level": "view"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not carol.entitlements.exists()
    assert bob.entitlements.get(portfolio=income).level == "view"
    actions = list(
        AuditEvent.objects.filter(actor=admin, action__startswith="entitlement.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [AuditAction.ENTITLEMENT_REVOKED, AuditAction.ENTITLEMENT_GRANTED]
