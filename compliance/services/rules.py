"""Creating and changing compliance rules, and applying regulatory templates.

Who may configure rules: administrators (role ``admin`` or superusers) for any
scope; compliance officers for a team's portfolios or a portfolio they are
entitled to. Every change is audited (action ``compliance.rule.*``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from analytics.models import Portfolio
from analytics.selectors.entitlements import portfolio_list_visible_to
from compliance.engine.kinds import RuleParameterError, clean_params
from compliance.engine.specs import RuleSpec
from compliance.engine.templates import TEMPLATES, template_rules
from compliance.models import Rule, RuleScope, TradingPermission
from portal.models import AuditAction, Entitlement, Role, Team, User
from portal.origins import RequestOrigin
from portal.services import audit_record

RULE_CREATED = AuditAction.RULE_CREATED
RULE_CHANGED = AuditAction.RULE_CHANGED
RULE_DEACTIVATED = AuditAction.RULE_DEACTIVATED


def user_can_configure_rules(user: User) -> bool:
    return user.is_authenticated and (
        user.is_superuser or user.role in (Role.ADMIN, Role.COMPLIANCE_OFFICER)
    )


def _check_scope_permission(*, user: User, scope: str, portfolio: Portfolio | None) -> None:
    if not user_can_configure_rules(user):
        raise PermissionDenied("Only administrators and compliance officers configure rules.")
    is_admin = user.is_superuser or user.role == Role.ADMIN
    if scope == RuleScope.ALL and not is_admin:
        raise PermissionDenied("Only administrators create rules for every portfolio.")
    if (
        scope == RuleScope.PORTFOLIO
        and not is_admin
        and (
            portfolio is None
            or not portfolio_list_visible_to(user=user).filter(id=portfolio.id).exists()
        )
    ):
        raise PermissionDenied("You are not entitled to this portfolio.")


def user_can_edit_rule(user: User, rule: Rule) -> bool:
    """Whether ``user`` may edit or deactivate ``rule`` (the check of
    :func:`rule_update` and :func:`rule_deactivate`, for pages to offer only that)."""
    try:
        _check_scope_permission(user=user, scope=rule.scope, portfolio=rule.portfolio)
    except PermissionDenied:
        return False
    return True


def _validated(
    *,
    kind: str,
    params: dict | None,
    limit: Any,
    warning_level: Any,
    scope: str,
    team: Team | None,
    portfolio: Portfolio | None,
) -> tuple[dict, float, float]:
    errors: dict[str, list[str]] = {}
    try:
        cleaned = clean_params(kind, params)
    except RuleParameterError as error:
        errors.update(error.errors)
        cleaned = {}
    try:
        limit = float(limit)
        if limit < 0 or limit != limit or limit in (float("inf"),):
            raise ValueError
    except (TypeError, ValueError):
        errors["limit"] = ["Enter a number ≥ 0."]
    try:
        warning_level = float(warning_level)
        if not 0 < warning_level <= 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["warning_level"] = ["Enter a fraction of the limit between 0 and 1 (e.g. 0.9)."]
    if scope not in RuleScope.values:
        errors["scope"] = [f"Choose one of {list(RuleScope.values)}."]
    elif scope == RuleScope.TEAM and team is None:
        errors["team"] = ["A team-scoped rule needs a team."]
    elif scope == RuleScope.PORTFOLIO and portfolio is None:
        errors["portfolio"] = ["A portfolio-scoped rule needs a portfolio."]
    if errors:
        raise ValidationError(errors)
    return cleaned, limit, warning_level


@transaction.atomic
def rule_create(
    *,
    user: User,
    name: str,
    kind: str,
    limit: Any,
    params: dict | None = None,
    warning_level: Any = 0.9,
    scope: str = RuleScope.ALL,
    team: Team | None = None,
    portfolio: Portfolio | None = None,
    cure_period_days: int = 5,
    description: str = "",
    template: str = "",
    default_assignee: User | None = None,
    origin: RequestOrigin | None = None,
) -> Rule:
    """Create a rule after validating its parameters against its kind."""
    if not str(name).strip():
        raise ValidationError({"name": ["A rule needs a name."]})
    cleaned, limit, warning_level = _validated(
        kind=kind,
        params=params,
        limit=limit,
        warning_level=warning_level,
        scope=scope,
        team=team,
        portfolio=portfolio,
    )
    _check_scope_permission(user=user, scope=scope, portfolio=portfolio)
    rule = Rule.objects.create(
        name=name.strip(),
        kind=kind,
        params=cleaned,
        limit=limit,
        warning_level=warning_level,
        scope=scope,
        team=team if scope == RuleScope.TEAM else None,
        portfolio=portfolio if scope == RuleScope.PORTFOLIO else None,
        cure_period_days=cure_period_days,
        description=description,
        template=template,
        default_assignee=default_assignee,
        created_by=user,
    )
    audit_record(
        actor=user,
        action=RULE_CREATED,
        target=rule,
        origin=origin,
        portfolio=rule.portfolio_id,
        details={"kind": kind, "limit": limit, "params": cleaned, "scope": rule.scope_label},
    )
    return rule


EDITABLE = ("name", "limit", "params", "warning_level", "cure_period_days", "description")


@transaction.atomic
def rule_update(
    *, user: User, rule: Rule, origin: RequestOrigin | None = None, **changes: Any
) -> Rule:
    """Change a rule's name, limit, parameters, warning level, cure period or
    description (kind and scope are fixed: create another rule instead)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({field: ["This field cannot be changed."] for field in unknown})
    _check_scope_permission(user=user, scope=rule.scope, portfolio=rule.portfolio)
    before = {field: getattr(rule, field) for field in EDITABLE}
    cleaned, limit, warning_level = _validated(
        kind=rule.kind,
        params=changes.get("params", rule.params),
        limit=changes.get("limit", rule.limit),
        warning_level=changes.get("warning_level", rule.warning_level),
        scope=rule.scope,
        team=rule.team,
        portfolio=rule.portfolio,
    )
    if "name" in changes and not str(changes["name"]).strip():
        raise ValidationError({"name": ["A rule needs a name."]})
    rule.params, rule.limit, rule.warning_level = cleaned, limit, warning_level
    for field in ("name", "cure_period_days", "description"):
        if field in changes:
            setattr(rule, field, changes[field])
    rule.save()
    after = {field: getattr(rule, field) for field in EDITABLE}
    audit_record(
        actor=user,
        action=RULE_CHANGED,
        target=rule,
        origin=origin,
        portfolio=rule.portfolio_id,
        details={k: {"from": before[k], "to": after[k]} for k in EDITABLE if before[k] != after[k]},
    )
    return rule


@transaction.atomic
def rule_deactivate(*, user: User, rule: Rule, origin: RequestOrigin | None = None) -> Rule:
    """Stop evaluating a rule; its results and alerts are kept."""
    _check_scope_permission(user=user, scope=rule.scope, portfolio=rule.portfolio)
    rule.is_active = False
    rule.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=user,
        action=RULE_DEACTIVATED,
        target=rule,
        origin=origin,
        portfolio=rule.portfolio_id,
    )
    return rule


@transaction.atomic
def template_apply(
    *,
    user: User,
    template: str,
    scope: str = RuleScope.ALL,
    team: Team | None = None,
    portfolio: Portfolio | None = None,
    reference: str | None = None,
    origin: RequestOrigin | None = None,
) -> list[Rule]:
    """Create a template's whole rule set for one scope in one transaction."""
    if template not in TEMPLATES:
        raise ValidationError({"template": [f"Choose one of {sorted(TEMPLATES)}."]})
    existing = Rule.objects.filter(
        template=template, scope=scope, team=team, portfolio=portfolio, is_active=True
    )
    if existing.exists():
        raise ValidationError(
            {"template": ["This template is already applied to this scope; edit its rules."]}
        )
    label = TEMPLATES[template].name
    return [
        rule_create(
            user=user,
            name=definition.name,
            kind=definition.kind,
            limit=definition.limit,
            params=definition.params,
            warning_level=definition.warning_level,
            scope=scope,
            team=team,
            portfolio=portfolio,
            cure_period_days=definition.cure_period_days,
            description=f"Created from the {label} template.",
            template=template,
            origin=origin,
        )
        for definition in template_rules(template, reference=reference or None)
    ]


@transaction.atomic
def trading_permission_set(
    *, user: User, portfolio: Portfolio, short_selling: bool, origin: RequestOrigin | None = None
) -> TradingPermission:
    """Allow or forbid ``portfolio`` to sell short (sell more than it holds), as the
    pre-trade check reads it. Administrators only; audited as a compliance
    configuration change."""
    if not (user.is_superuser or user.role == Role.ADMIN):
        raise PermissionDenied("Only administrators change trading permissions.")
    permission, _ = TradingPermission.objects.select_for_update().get_or_create(portfolio=portfolio)
    before = permission.short_selling
    permission.short_selling = short_selling
    permission.granted_by = user
    permission.save()
    audit_record(
        actor=user,
        action=RULE_CHANGED,
        target=permission,
        origin=origin,
        portfolio=portfolio,
        details={"short_selling": {"from": before, "to": short_selling}},
    )
    return permission


def rules_by_portfolio(*, portfolio_ids: Iterable[int]) -> dict[int, list[Rule]]:
    """The active rules in scope for each portfolio (system read, no user)."""
    ids = set(portfolio_ids)
    rules = list(Rule.objects.filter(is_active=True).order_by("id"))
    team_ids = {rule.team_id for rule in rules if rule.scope == RuleScope.TEAM and rule.team_id}
    team_portfolios: dict[int, set[int]] = defaultdict(set)
    for team_id, portfolio_id in Entitlement.objects.filter(
        team_id__in=team_ids, portfolio_id__in=ids
    ).values_list("team_id", "portfolio_id"):
        team_portfolios[team_id].add(portfolio_id)
    result: dict[int, list[Rule]] = {pid: [] for pid in ids}
    for rule in rules:
        targets: set[int]
        if rule.scope == RuleScope.ALL:
            targets = ids
        elif rule.scope == RuleScope.TEAM:
            targets = team_portfolios[rule.team_id] if rule.team_id else set()
        else:
            targets = {rule.portfolio_id} & ids if rule.portfolio_id else set()
        for portfolio_id in targets:
            result[portfolio_id].append(rule)
    return result


def rules_fingerprint(rules: Iterable[Rule]) -> str:
    """A short hash of the rules' ids and last changes: a new rule or a changed
    limit makes the next evaluation of the same data a new one."""
    text = "|".join(f"{r.id}:{r.updated_at.isoformat()}" for r in sorted(rules, key=lambda r: r.id))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def rule_specs(*, rules_for: dict[int, list[Rule]]) -> list[RuleSpec]:
    """Engine specs, one per rule, scoped to the portfolios it applies to here."""
    portfolios: dict[int, list[int]] = defaultdict(list)
    by_id: dict[int, Rule] = {}
    for portfolio_id, rules in rules_for.items():
        for rule in rules:
            portfolios[rule.id].append(portfolio_id)
            by_id[rule.id] = rule
    return [
        RuleSpec(
            rule_id=rule.id,
            kind=rule.kind,
            limit=rule.limit,
            warning_level=rule.warning_level,
            params=clean_params(rule.kind, rule.params),
            portfolios=tuple(sorted(portfolios[rule.id])),
        )
        for rule in by_id.values()
    ]
