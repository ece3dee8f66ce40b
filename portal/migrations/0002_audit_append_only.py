"""On PostgreSQL, refuse UPDATE and DELETE of audit rows in the database itself,
below the ORM's own refusal. (TRUNCATE, used by test flushes and deliberate
archival by a DBA, is not affected.) SQLite relies on the ORM guard."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION portal_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_auditevent_no_update_or_delete
    BEFORE UPDATE OR DELETE ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS portal_auditevent_no_update_or_delete ON portal_auditevent;
DROP FUNCTION IF EXISTS portal_auditevent_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
