"""Sharing report templates with users and teams, each change audited.

A share gives a level (``view``, ``run`` or ``edit``; see ``reports.models``);
sharing never widens data access: a recipient who runs a shared template sees
only the portfolios they are entitled to (``reports.services.compose``). Only the
template's owner (or a superuser) shares, and built-in templates, visible to
everyone already, are never shared.
"""

from __future__ import annotations

from django.db import transaction

from portal.models import AuditAction, Team, User
from portal.origins import RequestOrigin
from portal.services import audit_record
from reports.errors import ReportInvalid, ReportPermissionDenied
from reports.models import ReportShare, ReportTemplate, ShareLevel
from reports.selectors import OWNER, report_template_allows, report_template_level


def _require_owner(*, actor: User, template: ReportTemplate) -> None:
    if template.is_builtin:
        raise ReportInvalid("Built-in templates are visible to everyone; they are not shared.")
    if not report_template_allows(report_template_level(user=actor, template=template), OWNER):
        raise ReportPermissionDenied("Only the template's owner may share it.")


def _details(share: ReportShare, **more: str) -> dict[str, str | None]:
    return {
        "user": share.user.username if share.user else None,
        "team": share.team.name if share.team else None,
        "level": share.level,
        **more,
    }


@transaction.atomic
def report_template_share(
    *,
    actor: User,
    template: ReportTemplate,
    user: User | None = None,
    team: Team | None = None,
    level: str = ShareLevel.VIEW,
    origin: RequestOrigin | None = None,
) -> ReportShare:
    """Share ``template`` with exactly one of ``user`` or ``team`` at ``level``, or
    change the level of an existing share. Audited ``SHARE`` (new) or
    ``SHARE_CHANGED`` (level changed); sharing again at the same level changes and
    records nothing."""
    _require_owner(actor=actor, template=template)
    if (user is None) == (team is None):
        raise ReportInvalid("Share with one user or one team.", field="recipient")
    if level not in ShareLevel.values:
        raise ReportInvalid(
            f"The level must be one of: {', '.join(ShareLevel.values)}.", field="level"
        )
    if user is not None and user.pk == template.owner_id:
        raise ReportInvalid("The owner already has every right on the template.", field="user")
    share = (
        ReportShare.objects.select_for_update()
        .filter(template=template, user=user, team=team)
        .first()
    )
    if share is None:
        share = ReportShare.objects.create(
            template=template, user=user, team=team, level=level, created_by=actor
        )
        audit_record(
            actor=actor,
            action=AuditAction.SHARE,
            target=template,
            origin=origin,
            details=_details(share),
        )
        return share
    if share.level != level:
        previous = share.level
        share.level = level
        share.save(update_fields=["level"])
        audit_record(
            actor=actor,
            action=AuditAction.SHARE_CHANGED,
            target=template,
            origin=origin,
            details=_details(share, previous_level=previous),
        )
    return share


@transaction.atomic
def report_template_unshare(
    *, actor: User, share: ReportShare, origin: RequestOrigin | None = None
) -> None:
    """Remove a share (audited ``SHARE_REVOKED``)."""
    _require_owner(actor=actor, template=share.template)
    audit_record(
        actor=actor,
        action=AuditAction.SHARE_REVOKED,
        target=share.template,
        origin=origin,
        details=_details(share),
    )
    share.delete()
