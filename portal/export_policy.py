"""The per-role export policy: which users may not export which files.

An admin writes rules as ``portal.models.ExportRestriction`` rows. A rule applies
to a user when its ``team`` is null (everyone) or the user is a member of it, and
its ``role`` is blank (any role) or the user's role. It then forbids files of its
``file_format`` (blank: any format) of exports that contain a report block of its
``report_kind`` (blank: any export at all, reports and other tabular exports alike).
A rule with a ``report_kind`` therefore never applies to an export that is not a
report (``report_kinds`` empty).

Formats are the lower-case names the renderers and the tabular API use: ``pdf``,
``xlsx``, ``csv``, ``parquet``, ``json``. Superusers and users whose role is
``Role.ADMIN`` are never restricted. An anonymous user (someone following a signed
link, say) has no team and no role: only rules for everyone with any role apply.

``export_refusal`` is what every door that sends a file asks; ``export_formats_allowed``
is what pages ask to hide the formats a user may not export. Changes to the rules
go through ``export_restriction_save`` / ``export_restriction_delete`` so that they
are audited (``AuditAction.EXPORT_POLICY_CHANGED``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from portal.models import AuditAction, ExportRestriction, Role
from portal.origins import RequestOrigin
from portal.services import audit_record

EXPORT_FORMATS = ("pdf", "xlsx", "csv", "parquet", "json")
FORMAT_LABELS = {
    "pdf": "PDF",
    "xlsx": "Excel",
    "csv": "CSV",
    "parquet": "Parquet",
    "json": "JSON",
}


@dataclass(frozen=True)
class ExportPolicy:
    """The rules that apply to one user, read once: a page that asks about many
    files (the run history) asks this instead of one query per question."""

    rules: tuple[ExportRestriction, ...]

    def refusal(self, *, file_format: str, report_kinds: Iterable[str] = ()) -> str | None:
        """As :func:`export_refusal`."""
        rule = _restriction_forbidding(
            rules=self.rules, file_format=file_format, report_kinds=set(report_kinds)
        )
        return None if rule is None else _refusal_sentence(rule, file_format=file_format)

    def formats_allowed(
        self, *, formats: Iterable[str], report_kinds: Iterable[str] = ()
    ) -> list[str]:
        """As :func:`export_formats_allowed`."""
        kinds = set(report_kinds)
        return [
            file_format
            for file_format in formats
            if _restriction_forbidding(
                rules=self.rules, file_format=file_format, report_kinds=kinds
            )
            is None
        ]


def export_policy_of(*, user: Any) -> ExportPolicy:
    """The export policy as it applies to ``user`` (one query)."""
    return ExportPolicy(rules=tuple(_restrictions_for(user)))


def export_refusal(*, user: Any, file_format: str, report_kinds: Iterable[str] = ()) -> str | None:
    """None when ``user`` may export a ``file_format`` file of an export made of
    report blocks of ``report_kinds`` (empty: not a report); otherwise a sentence
    telling the user why not, naming the first rule that forbids it."""
    return export_policy_of(user=user).refusal(file_format=file_format, report_kinds=report_kinds)


def export_formats_allowed(
    *, user: Any, formats: Iterable[str], report_kinds: Iterable[str] = ()
) -> list[str]:
    """The ``formats`` (in their order) that ``user`` may export for an export of
    ``report_kinds``: what a page offers, hiding the rest. One query whatever the
    number of formats."""
    return export_policy_of(user=user).formats_allowed(formats=formats, report_kinds=report_kinds)


def format_label(file_format: str) -> str:
    """How a format is named to people ("Excel" for ``xlsx``)."""
    return FORMAT_LABELS.get(file_format.lower(), file_format.upper())


@transaction.atomic
def export_restriction_save(
    *,
    actor: Any,
    restriction: ExportRestriction,
    origin: RequestOrigin | None = None,
) -> ExportRestriction:
    """Create or change one rule of the export policy, audited as
    ``export_policy.changed`` with the rule as it now reads."""
    created = restriction.pk is None
    restriction.file_format = restriction.file_format.lower()
    restriction.save()
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT_POLICY_CHANGED,
        target=restriction,
        origin=origin,
        details={"change": "created" if created else "changed", **_rule_details(restriction)},
    )
    return restriction


@transaction.atomic
def export_restriction_delete(
    *,
    actor: Any,
    restriction: ExportRestriction,
    origin: RequestOrigin | None = None,
) -> None:
    """Remove one rule of the export policy, audited as ``export_policy.changed``
    with the rule as it read before."""
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT_POLICY_CHANGED,
        target=restriction,
        origin=origin,
        details={"change": "deleted", **_rule_details(restriction)},
    )
    restriction.delete()


def _restrictions_for(user: Any) -> list[ExportRestriction]:
    if user is not None and (
        getattr(user, "is_superuser", False) or getattr(user, "role", "") == Role.ADMIN
    ):
        return []
    if user is not None and user.is_authenticated:
        who = (Q(team__isnull=True) | Q(team__members=user)) & (Q(role="") | Q(role=user.role))
    else:
        who = Q(team__isnull=True, role="")
    return list(ExportRestriction.objects.filter(who).select_related("team").distinct())


def _restriction_forbidding(
    *, rules: Iterable[ExportRestriction], file_format: str, report_kinds: set[str]
) -> ExportRestriction | None:
    file_format = file_format.lower()
    for rule in rules:
        if rule.file_format and rule.file_format != file_format:
            continue
        if rule.report_kind and rule.report_kind not in report_kinds:
            continue
        return rule
    return None


def _refusal_sentence(rule: ExportRestriction, *, file_format: str) -> str:
    if rule.team is None:
        who = "You" if not rule.role else f"Users with the role {rule.get_role_display()}"
    elif rule.role:
        who = f"Members of the team {rule.team.name} with the role {rule.get_role_display()}"
    else:
        who = f"Members of the team {rule.team.name}"
    what = f"{format_label(file_format)} files" if rule.file_format else "files"
    if rule.report_kind:
        what += f" of reports containing a {rule.report_kind} block"
    sentence = f"{who} may not export {what}."
    return f"{sentence} {rule.note}" if rule.note else sentence


def _rule_details(rule: ExportRestriction) -> dict[str, Any]:
    return {
        "team": rule.team.name if rule.team else None,
        "role": rule.role,
        "file_format": rule.file_format,
        "report_kind": rule.report_kind,
        "note": rule.note,
    }
