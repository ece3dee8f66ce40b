"""The app's PostgreSQL role of the README's production section, for tests."""

import uuid

from django.db import connection

# The README's grants to ``portal_app`` after each ``migrate``, with its name left open.
APP_ROLE_GRANTS = (
    'GRANT USAGE ON SCHEMA public TO "{role}"',
    'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
    'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
    'REVOKE UPDATE, DELETE, TRUNCATE ON portal_auditevent FROM "{role}"',
)


def app_role_create() -> str:
    """Create a throwaway role that owns nothing and holds the README's grants, in
    the current transaction (a test's, so the role vanishes with its rollback), and
    return its name; ``SET LOCAL ROLE`` to it acts as the production app would."""
    role = f"portal_app_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        for grant in APP_ROLE_GRANTS:
            cursor.execute(grant.format(role=role))
    return role
