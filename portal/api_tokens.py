"""Personal API tokens: the services that make and revoke them and the selector
of the tokens a user may see (``portal.models.ApiToken``, django-rest-knox).

A token is sent as ``Authorization: Token <secret>``. Only knox's SHA-512 digest
of the secret is stored; the secret is returned once, by
:func:`api_token_create`, and never written anywhere else (not in the audit log,
whose events carry the token's ``token_key``, its first 15 characters, and name).

Expiry: every user but an administrator must give one; it lies in the future and
at most ``settings.API_TOKEN_MAX_DAYS`` days ahead. Administrators (superusers and
``Role.ADMIN``) may make a token that never expires, see every user's tokens and
revoke any of them. Revoking deletes the row, so the token stops working at once;
the audit log keeps the story (``TOKEN_CREATED``, ``TOKEN_REVOKED``, whose target
is the token's owner).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from knox.models import get_digest_token
from knox.settings import CONSTANTS

from portal.models import ApiToken, ApiTokenScope, AuditAction, Role, User
from portal.origins import RequestOrigin
from portal.services import audit_record

NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length or 100


class ApiTokenInvalid(ValueError):
    """Input a user can correct (400): ``field`` names it (``"name"``, ``"scope"``,
    ``"expires_at"``), ``message`` is a sentence to show as it is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def api_token_admin(user: User) -> bool:
    """Whether ``user`` administers every user's tokens (superusers and ``Role.ADMIN``)."""
    return bool(user.is_superuser or user.role == Role.ADMIN)


def api_token_max_days() -> int:
    """How many days ahead a token's expiry may lie (``API_TOKEN_MAX_DAYS``)."""
    return int(settings.API_TOKEN_MAX_DAYS)


def api_tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, or every user's for an administrator; newest first."""
    tokens = ApiToken.objects.select_related("user").order_by("-created", "token_key")
    return tokens if api_token_admin(user) else tokens.filter(user=user)


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's own tokens (their profile page lists these), newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created", "token_key")


def api_token_get_for_user(*, user: User, token_key: str) -> ApiToken | None:
    """The token whose ``token_key`` is given among those ``user`` may see, or None
    (someone else's token and a missing one look the same)."""
    return api_tokens_visible_to(user).filter(token_key=token_key).first()


def _expiry_checked(*, user: User, expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        if api_token_admin(user):
            return None
        raise ApiTokenInvalid("expires_at", "A token needs an expiry date and time.")
    if timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at)
    now = timezone.now()
    if expires_at <= now:
        raise ApiTokenInvalid("expires_at", "The expiry must lie in the future.")
    max_days = api_token_max_days()
    if expires_at > now + timedelta(days=max_days):
        raise ApiTokenInvalid("expires_at", f"The expiry may lie at most {max_days} days ahead.")
    return expires_at


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    scope: ApiTokenScope | str,
    expires_at: datetime | None,
    origin: RequestOrigin | None = None,
) -> tuple[ApiToken, str]:
    """Make a token of ``user`` and return it with its secret, which exists
    nowhere else: show it once. ``expires_at`` is checked as the module docstring
    says (None: never expires, administrators only). Records ``TOKEN_CREATED``."""
    name = name.strip()
    if not name:
        raise ApiTokenInvalid("name", "A token needs a name.")
    if len(name) > NAME_MAX_LENGTH:
        raise ApiTokenInvalid("name", f"A name is at most {NAME_MAX_LENGTH} characters.")
    if scope not in ApiTokenScope.values:
        raise ApiTokenInvalid("scope", 'The scope is "read" or "write".')
    expiry = _expiry_checked(user=user, expires_at=expires_at)
    # knox's secret and digest; not its manager's create(), which takes the expiry
    # as a duration from its own "now" and so misses the moment asked for.
    digest, secret = get_digest_token()
    token = ApiToken(
        digest=digest,
        token_key=secret[: CONSTANTS.TOKEN_KEY_LENGTH],
        user=user,
        expiry=expiry,
        name=name,
        scope=scope,
    )
    token.save(force_insert=True)
    audit_record(
        actor=user,
        action=AuditAction.TOKEN_CREATED,
        target=user,
        origin=origin,
        details=_token_details(token),
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken, origin: RequestOrigin | None = None) -> None:
    """Delete ``token`` (its owner or an administrator only), so that it stops
    working at once. Records ``TOKEN_REVOKED``."""
    if token.user_id != actor.pk and not api_token_admin(actor):
        raise PermissionDenied("Only the token's owner or an administrator may revoke it.")
    details = _token_details(token)
    owner = token.user
    token.delete()
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN_REVOKED,
        target=owner,
        origin=origin,
        details=details,
    )


def _token_details(token: ApiToken) -> dict[str, str | None]:
    """What the audit log keeps of a token: never its secret or digest."""
    return {
        "token_key": token.token_key,
        "name": token.name,
        "scope": token.scope,
        "owner": token.user.get_username(),
        "expires_at": token.expiry.isoformat() if token.expiry else None,
    }
