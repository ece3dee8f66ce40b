"""The database URL of the running test, for the worker and server processes a test starts."""

from django.db import connection


def tests_database_url() -> str:
    """The ``DATABASE_URL`` of the database this test runs against."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
