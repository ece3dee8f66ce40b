"""Database sessions, with the session row read in one query written out.

Django's ``db`` session engine loads the session of every request with the ORM
(``Session.objects.get(session_key=…, expire_date__gt=now)``). Every open dashboard
asks for its widgets' data and polls its versions with its session, and building
that one unique-key query cost more than running it, so :class:`SessionStore`
reads the same row with a ``SELECT`` written once per process
(``portal.model_rows``). Everything else is Django's engine: the same table,
the same expiry rule (a session whose ``expire_date`` has passed is not found),
the same signing of the stored data, saving, cycling and deleting.
"""

from __future__ import annotations

import functools

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from portal.model_rows import model_columns, model_from_row


@functools.cache
def _session_by_key_sql(using: str) -> str:
    quote = connections[using].ops.quote_name
    meta = Session._meta
    column = {f.name: quote(str(f.column)) for f in meta.concrete_fields}
    key, expires = column["session_key"], column["expire_date"]
    # Identifiers from the model's meta only; the key and the time are parameters.
    return (
        f"SELECT {model_columns(Session, 's', using=using)}"  # noqa: S608
        f" FROM {quote(meta.db_table)} s WHERE s.{key} = %s AND s.{expires} > %s"
    )


class SessionStore(db.SessionStore):
    """Django's database session store whose load reads the row without the ORM's
    query building (see the module docstring)."""

    def _get_session_from_db(self) -> Session | None:
        using = router.db_for_read(Session)
        connection = connections[using]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_session_by_key_sql(using), [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            # As Django's engine: an unknown or expired key starts a new session.
            self._session_key = None
            return None
        return model_from_row(Session, row, using=using)
