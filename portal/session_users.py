"""The password backend, with the logged-in user read in one query written out.

Django's ``ModelBackend`` loads the user of a session with the ORM on every
request. Every open dashboard asks for its widgets' data and polls its versions
with its session, and building that one primary-key query cost more than running
it, so :class:`PortalModelBackend` reads the same row with a ``SELECT`` written
once per process (``portal.model_rows``); it authenticates, checks permissions and
refuses inactive users exactly as ``ModelBackend`` does.
"""

from __future__ import annotations

import functools

from django.contrib.auth.backends import ModelBackend
from django.db import connections

from portal.model_rows import model_columns, model_from_row
from portal.models import User


@functools.cache
def _user_by_pk_sql(using: str) -> str:
    quote = connections[using].ops.quote_name
    meta = User._meta
    # Identifiers from the model's meta only; the id is a parameter.
    return (
        f"SELECT {model_columns(User, 'u', using=using)}"  # noqa: S608
        f" FROM {quote(meta.db_table)} u WHERE u.{quote(str(meta.pk.column))} = %s"
    )


class PortalModelBackend(ModelBackend):
    """``ModelBackend`` whose :meth:`get_user` reads the user without the ORM's
    query building (see the module docstring)."""

    def get_user(self, user_id: int) -> User | None:
        using = User.objects.db
        with connections[using].cursor() as cursor:
            cursor.execute(_user_by_pk_sql(using), [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = model_from_row(User, row, using=using)
        return user if self.user_can_authenticate(user) else None
