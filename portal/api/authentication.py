"""Token authentication for the API: ``Authorization: Token <secret>`` with a
personal token (``portal.models.ApiToken``, django-rest-knox).

knox finds the token by its ``token_key`` (the secret's first 15 characters) and
compares the SHA-512 digest in constant time. On top of knox:

* An expired token is refused with 401 "This token expired …". It is not deleted
  (knox would delete it, and scan the user's other tokens, on every request): its
  owner still sees it, marked expired, until they revoke it, and a request costs
  no more than the one lookup.
* ``last_used_at`` is written at most once a minute per token (one UPDATE of
  that row), so a busy token adds no write to most requests.
* The token and its user are read in one query written out once per process
  (:func:`_token_with_user_sql`): the ORM's building of that join on every
  request cost more than the rest of a cached API answer.

The scope (read or write) is enforced by ``portal.api.permissions.TokenScopeAllows``.
"""

from __future__ import annotations

import binascii
import functools
from datetime import timedelta
from hmac import compare_digest

from django.db import connections
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import exceptions

from portal.model_rows import model_columns, model_from_row, model_width
from portal.models import ApiToken, User

LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID = "Invalid token."


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token authentication, expiry checked without deleting, and
    ``last_used_at`` kept (see the module docstring)."""

    def authenticate_credentials(self, token: bytes) -> tuple[User, ApiToken]:
        secret = token.decode("utf-8", errors="replace")
        try:
            digest = hash_token(secret)
        except (TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed(INVALID) from None
        for api_token in _tokens_with_user(secret[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if compare_digest(digest, api_token.digest):
                now = timezone.now()
                if api_token.expiry is not None and api_token.expiry <= now:
                    raise exceptions.AuthenticationFailed(
                        f"This token expired at {api_token.expiry.isoformat()}; "
                        "make a new one on your profile page."
                    )
                user, _ = self.validate_user(api_token)
                _note_use(api_token, now)
                return user, api_token
        raise exceptions.AuthenticationFailed(INVALID)


@functools.cache
def _token_with_user_sql(using: str) -> str:
    """``SELECT`` every column of a token and of its user, by ``token_key``."""
    token, user = ApiToken._meta, User._meta
    quote = connections[using].ops.quote_name
    columns = (
        f"{model_columns(ApiToken, 't', using=using)}, {model_columns(User, 'u', using=using)}"
    )
    # Identifiers from the models' meta only; the key is a parameter.
    return (
        f"SELECT {columns} FROM {quote(token.db_table)} t"  # noqa: S608
        f" JOIN {quote(user.db_table)} u ON u.{quote(str(user.pk.column))}"
        f" = t.{quote(str(token.get_field('user').column))} WHERE t.token_key = %s"
    )


def _tokens_with_user(token_key: str) -> list[ApiToken]:
    """The tokens whose ``token_key`` is ``token_key`` (one, unless two secrets
    share their first characters), each with its ``user`` loaded."""
    using = ApiToken.objects.db
    with connections[using].cursor() as cursor:
        cursor.execute(_token_with_user_sql(using), [token_key])
        rows = cursor.fetchall()
    split = model_width(ApiToken)
    tokens = []
    for row in rows:
        api_token = model_from_row(ApiToken, row[:split], using=using)
        api_token.user = model_from_row(User, row[split:], using=using)
        tokens.append(api_token)
    return tokens


def _note_use(api_token: ApiToken, now) -> None:
    """Set ``last_used_at`` unless it was set less than a minute ago."""
    last = api_token.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    api_token.last_used_at = now


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema: ``Authorization: Token <secret>``."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A personal API token (your profile page, or POST /api/tokens/), "
                'sent as "Token <secret>".'
            ),
        }
