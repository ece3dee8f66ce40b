"""Personal API tokens for tests: a real token of ``portal.ApiToken`` (hashed by
knox, as in production), sent as ``Authorization: Token <secret>``."""

from datetime import timedelta

from portal.models import ApiToken, ApiTokenScope, User


def token_for(user: User, *, scope: str = ApiTokenScope.WRITE, name: str = "tests") -> str:
    """The secret of a new token of ``user`` with ``scope``, good for a day."""
    _, secret = ApiToken.objects.create(user=user, expiry=timedelta(days=1), name=name, scope=scope)
    return secret


def token_header(user: User, *, scope: str = ApiTokenScope.WRITE) -> dict[str, str]:
    """``client.get(url, **token_header(user))`` for Django's test client, or
    ``client.credentials(**token_header(user))`` for DRF's."""
    return {"HTTP_AUTHORIZATION": f"Token {token_for(user, scope=scope)}"}
