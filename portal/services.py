"""Writes owned by the portal app: the audit log and entitlement changes."""

from typing import Any

from django.db import models, transaction

from portal.models import AccessLevel, AuditAction, AuditEvent, Entitlement, Team, User
from portal.origins import RequestOrigin


def audit_record(
    *,
    actor: User | None,
    action: AuditAction | str,
    target: models.Model | None = None,
    origin: RequestOrigin | None = None,
    details: dict[str, Any] | None = None,
    portfolio: models.Model | int | None = None,
) -> AuditEvent:
    """Append one audit event. Call it inside the transaction of the change it
    records, so that a change without its audit row cannot exist.

    ``origin`` gives the IP address and user agent when the action came over
    HTTP (``RequestOrigin.of(request)`` in the view); tasks pass none. For files
    leaving the system put ``format``, ``size`` (bytes) and ``sha256`` in ``details``.

    ``portfolio`` (an ``analytics.Portfolio`` or its id) is the portfolio the event
    concerns, which the audit page filters on; it defaults to ``target`` when the
    target is a portfolio.
    """
    if actor is not None and not actor.is_authenticated:
        actor = None
    if portfolio is None and target is not None and target._meta.label == "analytics.Portfolio":
        portfolio = target
    portfolio_id = portfolio.pk if isinstance(portfolio, models.Model) else portfolio
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=actor.get_username() if actor else "",
        action=action,
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        portfolio_id=portfolio_id,
        ip_address=origin.ip_address if origin else None,
        user_agent=origin.user_agent if origin else "",
        details=details or {},
    )


@transaction.atomic
def entitlement_grant(
    *,
    actor: User | None,
    portfolio: models.Model,
    user: User | None = None,
    team: Team | None = None,
    level: AccessLevel | str = AccessLevel.VIEW,
    origin: RequestOrigin | None = None,
) -> Entitlement:
    """Give a user or a team access to a portfolio (an ``analytics.Portfolio``),
    or change its level."""
    if (user is None) == (team is None):
        raise ValueError("grant to exactly one of user or team")
    entitlement, created = Entitlement.objects.update_or_create(
        portfolio_id=portfolio.pk, user=user, team=team, defaults={"level": level}
    )
    audit_record(
        actor=actor,
        action=AuditAction.ENTITLEMENT_GRANTED if created else AuditAction.ENTITLEMENT_CHANGED,
        target=portfolio,
        origin=origin,
        details={
            "user": user.username if user else None,
            "team": team.name if team else None,
            "level": level,
        },
    )
    return entitlement


@transaction.atomic
def entitlement_revoke(
    *, actor: User | None, entitlement: Entitlement, origin: RequestOrigin | None = None
) -> None:
    """Remove an entitlement and record who removed it."""
    audit_record(
        actor=actor,
        action=AuditAction.ENTITLEMENT_REVOKED,
        target=entitlement.portfolio,
        origin=origin,
        details={
            "user": entitlement.user.username if entitlement.user else None,
            "team": entitlement.team.name if entitlement.team else None,
            "level": entitlement.level,
        },
    )
    entitlement.delete()


def api_read_record(
    *,
    actor: User,
    portfolio: models.Model | int | None,
    data: str,
    origin: RequestOrigin | None = None,
    details: dict[str, Any] | None = None,
    target: models.Model | None = None,
) -> AuditEvent:
    """Record one API data pull: ``actor`` read ``data`` (what was read, e.g.
    ``"holdings"`` or ``"analytics.metrics"``) of ``portfolio`` (an
    ``analytics.Portfolio`` or its id; None for a list across the portfolios the
    actor may see). ``target`` is the object read when it is not the portfolio (a
    widget). ``details`` adds the parameters that shaped the answer (an ``as_of``
    date, a window, filters, a row count); ``data`` is always among them."""
    if target is None and isinstance(portfolio, models.Model):
        target = portfolio
    return audit_record(
        actor=actor,
        action=AuditAction.API_READ,
        target=target,
        origin=origin,
        details={**(details or {}), "data": data},
        portfolio=portfolio,
    )
