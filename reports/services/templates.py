"""Writes of report templates: create, update (a new version every time), clone,
delete. Each checks the user's level on the template through
``reports.selectors`` and records ``REPORT_TEMPLATE_CHANGED`` in the same
transaction; built-in templates are written by :func:`report_template_builtin_sync`
only."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from portal.models import AuditAction, User
from portal.origins import RequestOrigin
from portal.services import audit_record
from reports.definition import ReportDefinition, definition_clean
from reports.errors import ReportInvalid, ReportPermissionDenied
from reports.models import ReportTemplate, ReportTemplateVersion
from reports.selectors import (
    OWNER,
    report_template_allows,
    report_template_level,
    report_template_version_latest,
)

logger = logging.getLogger(__name__)

_UNSET: Any = object()


def _slug_free(base: str) -> str:
    """``base`` (slugified; never all digits, so ids and slugs cannot be confused),
    or ``base-2``, ``base-3``... when taken."""
    base = (slugify(base)[:90] or "report").strip("-") or "report"
    if base.isdigit():
        base = f"report-{base}"
    slug, number = base, 1
    while ReportTemplate.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def _require(*, user: User, template: ReportTemplate, level: str) -> None:
    if template.is_builtin:
        raise ReportPermissionDenied(
            "Built-in templates cannot be changed; clone it to make your own."
        )
    if not report_template_allows(report_template_level(user=user, template=template), level):
        raise ReportPermissionDenied(
            "Only the template's owner may do this."
            if level == OWNER
            else "This template is not shared with you for editing."
        )


def _version_add(
    *, template: ReportTemplate, definition: ReportDefinition, user: User | None
) -> ReportTemplateVersion:
    # The template row is locked by the caller, so two edits never take one number.
    latest = template.versions.aggregate(latest=Max("number"))["latest"] or 0
    return ReportTemplateVersion.objects.create(
        template=template,
        number=latest + 1,
        name=definition.name,
        description=definition.description,
        blocks=definition.blocks,
        parameters=definition.parameters,
        layout=definition.layout,
        created_by=user,
    )


def _stored(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as a template keeps them (requests, not templates, name portfolios
    explicitly)."""
    return {k: v for k, v in parameters.items() if k != "portfolios_requested"}


@transaction.atomic
def report_template_create(
    *,
    user: User,
    name: str,
    blocks: Any,
    parameters: Mapping[str, Any] | None = None,
    layout: Mapping[str, Any] | None = None,
    description: str = "",
    slug: str | None = None,
    origin: RequestOrigin | None = None,
) -> ReportTemplate:
    """A new template owned by ``user`` with its version 1; ``slug`` defaults to
    the name's (made unique). Raises ``ReportInvalid`` for a bad definition or a
    slug already taken."""
    definition = definition_clean(
        name=name, blocks=blocks, parameters=parameters, layout=layout, description=description
    )
    return _template_create(
        user=user, definition=definition, slug=slug, origin=origin, details={"change": "created"}
    )


def _template_create(
    *,
    user: User,
    definition: ReportDefinition,
    slug: str | None,
    origin: RequestOrigin | None,
    details: dict[str, Any],
) -> ReportTemplate:
    if slug:
        if slugify(slug) != slug or slug.isdigit():
            raise ReportInvalid(
                "A slug is lower-case letters, digits and hyphens (not only digits).",
                field="slug",
            )
        if ReportTemplate.objects.filter(slug=slug).exists():
            raise ReportInvalid(f"The slug “{slug}” is taken.", field="slug")
    template = ReportTemplate.objects.create(
        owner=user,
        name=definition.name,
        slug=slug or _slug_free(definition.name),
        description=definition.description,
    )
    version = _version_add(template=template, definition=_definition_stored(definition), user=user)
    audit_record(
        actor=user,
        action=AuditAction.REPORT_TEMPLATE_CHANGED,
        target=template,
        origin=origin,
        details={**details, "version": version.number},
    )
    return template


def _definition_stored(definition: ReportDefinition) -> ReportDefinition:
    return ReportDefinition(
        name=definition.name,
        description=definition.description,
        blocks=definition.blocks,
        parameters=_stored(definition.parameters),
        layout=definition.layout,
    )


@transaction.atomic
def report_template_update(
    *,
    user: User,
    template: ReportTemplate,
    name: str = _UNSET,
    description: str = _UNSET,
    blocks: Any = _UNSET,
    parameters: Mapping[str, Any] | None = _UNSET,
    layout: Mapping[str, Any] | None = _UNSET,
    origin: RequestOrigin | None = None,
) -> ReportTemplateVersion:
    """Change a template the user may edit: the fields given replace the latest
    version's, and the result is stored as a new version (every edit is one, so a
    run can always name what it rendered). Returns the new version."""
    template = ReportTemplate.objects.select_for_update().get(pk=template.pk)
    _require(user=user, template=template, level="edit")
    latest = report_template_version_latest(template=template)
    definition = definition_clean(
        name=latest.name if name is _UNSET else name,
        description=latest.description if description is _UNSET else description,
        blocks=latest.blocks if blocks is _UNSET else blocks,
        parameters=latest.parameters if parameters is _UNSET else parameters,
        layout=latest.layout if layout is _UNSET else layout,
    )
    version = _version_add(template=template, definition=_definition_stored(definition), user=user)
    ReportTemplate.objects.filter(pk=template.pk).update(
        name=definition.name, description=definition.description
    )
    changed = [
        field
        for field, value in (
            ("name", name),
            ("description", description),
            ("blocks", blocks),
            ("parameters", parameters),
            ("layout", layout),
        )
        if value is not _UNSET
    ]
    audit_record(
        actor=user,
        action=AuditAction.REPORT_TEMPLATE_CHANGED,
        target=template,
        origin=origin,
        details={"change": "updated", "version": version.number, "fields": changed},
    )
    return version


@transaction.atomic
def report_template_clone(
    *,
    user: User,
    template: ReportTemplate,
    name: str | None = None,
    origin: RequestOrigin | None = None,
) -> ReportTemplate:
    """A copy of the latest version of a template the user may see (checked),
    owned by ``user`` and shared with nobody."""
    if report_template_level(user=user, template=template) is None:
        raise ReportPermissionDenied("You may not see this template.")
    latest = report_template_version_latest(template=template)
    definition = definition_clean(
        name=name or f"{latest.name} (copy)",
        description=latest.description,
        blocks=latest.blocks,
        parameters=latest.parameters,
        layout=latest.layout,
    )
    copy = _template_create(
        user=user,
        definition=definition,
        slug=None,
        origin=origin,
        details={"change": "cloned", "from": template.slug, "from_version": latest.number},
    )
    return copy


@transaction.atomic
def report_template_delete(
    *, user: User, template: ReportTemplate, origin: RequestOrigin | None = None
) -> None:
    """Delete a template its owner (or a superuser) no longer needs; its runs and
    their files stay, still naming what they rendered."""
    _require(user=user, template=template, level=OWNER)
    audit_record(
        actor=user,
        action=AuditAction.REPORT_TEMPLATE_CHANGED,
        target=template,
        origin=origin,
        details={"change": "deleted", "slug": template.slug},
    )
    template.delete()


def report_template_builtin_sync(*, definitions: list[dict[str, Any]]) -> list[ReportTemplate]:
    """Keep the built-in templates in step with ``definitions`` (``reports.builtin``):
    a missing one is created, one whose definition changed gets a new version,
    an unchanged one is left alone (so running it twice changes nothing).

    Blocks whose kind the catalog does not have, or whose options it refuses, are
    left out with a logged warning (the built-in gains them with a new version once
    the catalog has them); a definition with no block left is skipped."""
    synced = []
    for entry in definitions:
        blocks = []
        for block in entry["blocks"]:
            try:
                blocks.extend(
                    definition_clean(name="-", blocks=[block], parameters={}, layout={}).blocks
                )
            except ReportInvalid as error:
                logger.warning("built-in report %s: block left out: %s", entry["slug"], error)
        if not blocks:
            logger.warning("built-in report %s: no block in the catalog yet", entry["slug"])
            continue
        definition = _definition_stored(
            definition_clean(
                name=entry["name"],
                description=entry.get("description", ""),
                blocks=blocks,
                parameters=entry.get("parameters"),
                layout=entry.get("layout"),
            )
        )
        synced.append(_builtin_store(slug=entry["slug"], definition=definition))
    return synced


@transaction.atomic
def _builtin_store(*, slug: str, definition: ReportDefinition) -> ReportTemplate:
    template, created = ReportTemplate.objects.select_for_update().get_or_create(
        slug=slug,
        defaults={
            "name": definition.name,
            "description": definition.description,
            "is_builtin": True,
        },
    )
    latest = None if created else template.version_latest()
    if latest is not None and (
        latest.name,
        latest.description,
        latest.blocks,
        latest.parameters,
        latest.layout,
    ) == (
        definition.name,
        definition.description,
        definition.blocks,
        definition.parameters,
        definition.layout,
    ):
        return template
    version = _version_add(template=template, definition=definition, user=None)
    ReportTemplate.objects.filter(pk=template.pk).update(
        name=definition.name, description=definition.description, is_builtin=True, owner=None
    )
    audit_record(
        actor=None,
        action=AuditAction.REPORT_TEMPLATE_CHANGED,
        target=template,
        details={"change": "built-in synced", "version": version.number},
    )
    return template
