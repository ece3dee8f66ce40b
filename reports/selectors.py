"""Reads of report templates, runs and files, always for a user.

Access to a template: its owner may do anything (edit, share, delete); a share to
the user or to one of their teams gives its level (``view`` < ``run`` < ``edit``;
the highest applies); built-in templates may be viewed and run by every active
user and changed by nobody (clone one to change it); superusers may do anything
to any template but a built-in. Inactive and anonymous users see nothing.

``report_template_get_for_user`` and the run/file getters fetch *and* authorise:
missing and forbidden both raise :class:`~reports.errors.ReportNotFound` (404),
and a level the user lacks on a template they may see raises
:class:`~reports.errors.ReportPermissionDenied` (403).

Runs: a user sees the runs they requested or that ran as them; superusers see all.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from reports.errors import ReportNotFound, ReportPermissionDenied
from reports.models import (
    SHARE_LEVEL_RANK,
    ReportFile,
    ReportRun,
    ReportShare,
    ReportTemplate,
    ReportTemplateVersion,
    ShareLevel,
)

LEVELS = ("view", "run", "edit")
OWNER = "owner"
"""The level of a template's owner (and of superusers): everything, sharing included."""


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _shared_with(user: Any) -> Q:
    return Q(shares__user=user) | Q(shares__team__members=user)


def report_templates_visible_to(*, user: Any) -> QuerySet[ReportTemplate]:
    """Templates the user may see: their own, those shared with them directly or
    through a team, and the built-in ones (superusers: all)."""
    if not _active(user):
        return ReportTemplate.objects.none()
    if user.is_superuser:
        return ReportTemplate.objects.all()
    ids = ReportTemplate.objects.filter(
        Q(owner=user) | Q(is_builtin=True) | _shared_with(user)
    ).values("id")
    return ReportTemplate.objects.filter(id__in=ids)


def report_template_level(*, user: Any, template: ReportTemplate) -> str | None:
    """The user's level on ``template``: ``"owner"``, ``"edit"``, ``"run"``,
    ``"view"`` or None (no access)."""
    if not _active(user):
        return None
    if template.is_builtin:
        return ShareLevel.RUN
    if user.is_superuser or template.owner_id == user.pk:
        return OWNER
    levels = ReportShare.objects.filter(
        Q(user=user) | Q(team__members=user), template=template
    ).values_list("level", flat=True)
    ranked = sorted(levels, key=lambda level: SHARE_LEVEL_RANK[ShareLevel(level)])
    return ranked[-1] if ranked else None


def report_template_allows(level_held: str | None, level: str) -> bool:
    """Whether holding ``level_held`` allows ``level`` (``"owner"`` allows all)."""
    if level_held is None:
        return False
    if level_held == OWNER:
        return True
    if level == OWNER:
        return False
    return SHARE_LEVEL_RANK[ShareLevel(level_held)] >= SHARE_LEVEL_RANK[ShareLevel(level)]


def report_template_get_for_user(
    *, user: Any, template: int | str, level: str = "view"
) -> ReportTemplate:
    """The template with id ``template`` (an int or a string of digits: slugs are
    never all digits) or slug ``template``, if the user may see it, checked for
    ``level`` (``"view"``, ``"run"``, ``"edit"`` or ``"owner"``: sharing and deleting)."""
    if level not in (*LEVELS, OWNER):
        raise ValueError(f"unknown level {level!r}")
    visible = report_templates_visible_to(user=user).select_related("owner")
    if isinstance(template, int) or (isinstance(template, str) and template.isdigit()):
        found = visible.filter(id=int(template)).first()
    else:
        found = visible.filter(slug=template).first()
    if found is None:
        raise ReportNotFound("No such report template.")
    held = report_template_level(user=user, template=found)
    if not report_template_allows(held, level):
        if found.is_builtin and level in ("edit", OWNER):
            raise ReportPermissionDenied(
                "Built-in templates cannot be changed; clone it to make your own."
            )
        raise ReportPermissionDenied(
            {
                "run": "This template is shared with you to view only; you may not run it.",
                "edit": "This template is not shared with you for editing.",
                OWNER: "Only the template's owner may do this.",
            }[level]
        )
    return found


def report_template_version_latest(*, template: ReportTemplate) -> ReportTemplateVersion:
    """An authorised template's newest version (what a run uses). Every template
    is created with its version 1; one without (a half-restored backup) is not
    found."""
    version = template.version_latest()
    if version is None:
        raise ReportNotFound("This report template has no saved version.")
    return version


def report_template_versions(*, template: ReportTemplate) -> QuerySet[ReportTemplateVersion]:
    """An authorised template's versions, newest first."""
    return template.versions.select_related("created_by").order_by("-number")


def report_template_shares(*, template: ReportTemplate) -> QuerySet[ReportShare]:
    """The shares of an authorised template (for its owner's page)."""
    return template.shares.select_related("user", "team").order_by("id")


def report_runs_visible_to(*, user: Any) -> QuerySet[ReportRun]:
    """Runs the user requested or that ran as them (superusers: all), newest first."""
    if not _active(user):
        return ReportRun.objects.none()
    runs = ReportRun.objects.select_related("template", "version", "run_as", "requested_by")
    if user.is_superuser:
        return runs.all()
    return runs.filter(Q(run_as=user) | Q(requested_by=user))


def report_run_get_for_user(*, user: Any, run_id: int) -> ReportRun:
    """One run the user may see; ``ReportNotFound`` otherwise."""
    run = report_runs_visible_to(user=user).filter(id=run_id).first()
    if run is None:
        raise ReportNotFound("No such report run.")
    return run


def report_file_get_for_user(*, user: Any, run_id: int, name: str) -> ReportFile:
    """The file ``name`` of a run the user may see; ``ReportNotFound`` otherwise."""
    file = (
        ReportFile.objects.select_related("run")
        .filter(run__in=report_runs_visible_to(user=user).filter(id=run_id), name=name)
        .first()
    )
    if file is None:
        raise ReportNotFound("No such report file.")
    return file
