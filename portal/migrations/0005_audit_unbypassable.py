"""On PostgreSQL, make the audit log's refusal hold in every session, not only in
the ones that leave the triggers alone.

* The UPDATE/DELETE row trigger of 0002 fires in every ``session_replication_role``
  (``ENABLE ALWAYS``): a session that sets the role to ``replica`` — which silences
  ordinary triggers, foreign-key checks included — still cannot change or remove
  an audit event.
* A ``BEFORE TRUNCATE`` statement trigger, also ``ENABLE ALWAYS``, refuses
  truncation, which row triggers never see. It refuses everyone: there is no
  setting or role that lets a TRUNCATE through, because any such switch would be
  one the app could flip too.

What remains is the table owner (and a superuser), who may ``ALTER TABLE ...
DISABLE TRIGGER`` or drop the triggers; PostgreSQL lets no other role do that. The
README's production section therefore runs the app as a role that owns no table
and holds only ``SELECT, INSERT`` on the audit table, while migrations run as the
owner. Deliberate archival by a DBA is the owner's job: disable the TRUNCATE
trigger, truncate, ``ENABLE ALWAYS`` it again, in one transaction.

Tests: pytest-django empties the database after each ``transaction=True`` test with
Django's flush, a single ``TRUNCATE`` of every table on PostgreSQL. The test suite
runs as the owner and does the DBA's three steps around that statement, inside the
flush's own transaction (``tests/conftest.py``), so the database keeps no hatch for
tests and the triggers are back ``ALWAYS`` whether the flush commits or not.

SQLite keeps the ORM guard of ``portal.models.AuditEvent`` only.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE portal_auditevent ENABLE ALWAYS TRIGGER portal_auditevent_no_update_or_delete;
CREATE TRIGGER portal_auditevent_no_truncate
    BEFORE TRUNCATE ON portal_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION portal_auditevent_append_only();
ALTER TABLE portal_auditevent ENABLE ALWAYS TRIGGER portal_auditevent_no_truncate;
"""
BACKWARD = """
DROP TRIGGER IF EXISTS portal_auditevent_no_truncate ON portal_auditevent;
ALTER TABLE portal_auditevent ENABLE TRIGGER portal_auditevent_no_update_or_delete;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("portal", "0004_inbox_message")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
