"""On PostgreSQL nothing the app's connection can do changes or removes an audit
event: not ``session_replication_role = replica`` (which silences ordinary
triggers), not TRUNCATE (which row triggers never see), and not switching the
triggers off, which only the table's owner may do — and the app's role, set up as
the README's production section says, owns no table."""

import pytest
from django.db import DatabaseError, connection, transaction

from portal.models import AuditAction, AuditEvent
from portal.services import audit_record
from tests.database_roles import app_role_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"),
]

TRIGGERS = ("portal_auditevent_no_update_or_delete", "portal_auditevent_no_truncate")


@pytest.fixture
def event(alice, growth):
    return audit_record(actor=alice, action=AuditAction.EXPORT, target=growth)


def _refused(statement: str, params=(), *, role: str | None = None) -> str:
    """Run ``statement`` in a savepoint (as ``role``, if given), expect the
    database to refuse it, and return its message; the savepoint's rollback also
    undoes the ``SET LOCAL`` of the role."""
    with (
        pytest.raises(DatabaseError) as refusal,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        if role:
            cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(statement, params)
    return str(refusal.value)


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


@pytest.fixture
def as_replica():
    """This test's transaction with ``session_replication_role = replica``, set by
    the suite's own (superuser) role."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("needs a role that may set session_replication_role")
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        cursor.execute("SET LOCAL session_replication_role = origin")


def test_a_replica_session_cannot_update_delete_or_truncate_events(event, as_replica):
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "replica"
    assert "append-only" in _refused(
        "UPDATE portal_auditevent SET action = 'x' WHERE id = %s", [event.pk]
    )
    assert "append-only" in _refused("DELETE FROM portal_auditevent WHERE id = %s", [event.pk])
    assert "append-only" in _refused("TRUNCATE portal_auditevent")
    assert "append-only" in _refused("TRUNCATE portal_auditevent RESTART IDENTITY CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk, action=AuditAction.EXPORT).exists()


def test_truncate_is_refused_in_an_ordinary_session_too(event):
    assert "append-only" in _refused("TRUNCATE portal_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_both_triggers_fire_in_every_replication_role():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'portal_auditevent'::regclass AND NOT tgisinternal ORDER BY tgname"
        )
        assert dict(cursor.fetchall()) == dict.fromkeys(sorted(TRIGGERS), "A")  # A: always


@pytest.fixture
def app_role():
    """A throwaway role with the README's production grants (its ``portal_app``)."""
    return app_role_create()


def test_the_app_role_cannot_switch_the_triggers_off(event, app_role):
    for trigger in TRIGGERS:
        for statement in ("DISABLE TRIGGER", "ENABLE TRIGGER", "ENABLE REPLICA TRIGGER"):
            assert "must be owner" in _refused(
                f"ALTER TABLE portal_auditevent {statement} {trigger}", role=app_role
            )
        assert "must be owner" in _refused(
            f"DROP TRIGGER {trigger} ON portal_auditevent", role=app_role
        )
    assert "must be owner" in _refused(
        "ALTER TABLE portal_auditevent DISABLE TRIGGER ALL", role=app_role
    )
    assert "must be owner" in _refused("DROP TABLE portal_auditevent", role=app_role)
    assert _current_user() != app_role


def test_the_app_role_may_neither_replicate_nor_rewrite_events(event, app_role):
    assert "permission denied" in _refused(
        "SET LOCAL session_replication_role = replica", role=app_role
    )
    for statement in (
        "UPDATE portal_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM portal_auditevent WHERE id = %s",
    ):
        assert "permission denied" in _refused(statement, [event.pk], role=app_role)
    assert "permission denied" in _refused("TRUNCATE portal_auditevent", role=app_role)
    assert AuditEvent.objects.filter(pk=event.pk, action=AuditAction.EXPORT).exists()


def test_the_app_role_records_and_reads_events(alice, growth, app_role):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')
        recorded = audit_record(actor=alice, action=AuditAction.LOGIN, target=growth)
        assert AuditEvent.objects.filter(pk=recorded.pk, actor_username="alice").exists()
        cursor.execute("RESET ROLE")
    assert _current_user() != app_role


@pytest.mark.django_db(transaction=True)
def test_the_suite_still_empties_the_log_between_transactional_tests(alice, growth):
    """pytest-django's flush after this test truncates the audit log; the suite's
    fixture lets it (as the owner) and leaves both triggers ``ALWAYS`` on, which
    ``test_both_triggers_fire_in_every_replication_role`` checks whichever runs first."""
    recorded = audit_record(actor=alice, action=AuditAction.EXPORT, target=growth)
    assert AuditEvent.objects.filter(pk=recorded.pk).exists()
