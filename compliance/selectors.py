"""Reads of compliance data, always scoped by the requesting user's entitlements:
alerts, results and rules of portfolios the user may see (through
``analytics.selectors.entitlements.portfolio_list_visible_to``). Missing and forbidden both give
404; a user who may see but not decide gets 403 on a decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from analytics.models import Instrument
from analytics.selectors.entitlements import portfolio_list_visible_to
from analytics.selectors.portfolios import Holding, portfolio_holdings
from compliance.engine.kinds import RuleKind
from compliance.models import (
    Alert,
    AlertObservation,
    AlertState,
    Notification,
    Rule,
    RuleResult,
    RuleScope,
)
from compliance.services.alerts import user_can_decide
from portal.models import AuditEvent, User
from portal.sorting import SortColumn


@dataclass(frozen=True)
class AlertFilters:
    state: str = ""  # a state, "active" (open, acknowledged, snoozed) or "" for all
    severity: str = ""
    rule_id: int | None = None
    portfolio_id: int | None = None
    min_age_days: int | None = None
    max_age_days: int | None = None
    assignee_id: int | None = None


ACTIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED)


def alert_list_for_user(*, user: User, filters: AlertFilters | None = None) -> QuerySet[Alert]:
    """Alerts of the portfolios the user may see, filtered, newest first.
    Age is counted in days since the episode opened."""
    filters = filters or AlertFilters()
    alerts = Alert.objects.filter(portfolio__in=portfolio_list_visible_to(user=user))
    if filters.state == "active":
        alerts = alerts.filter(state__in=ACTIVE_STATES)
    elif filters.state:
        alerts = alerts.filter(state=filters.state)
    if filters.severity:
        alerts = alerts.filter(severity=filters.severity)
    if filters.rule_id:
        alerts = alerts.filter(rule_id=filters.rule_id)
    if filters.portfolio_id:
        alerts = alerts.filter(portfolio_id=filters.portfolio_id)
    if filters.assignee_id:
        alerts = alerts.filter(assignee_id=filters.assignee_id)
    today = timezone.localdate()
    if filters.min_age_days is not None:
        alerts = alerts.filter(opened_on__lte=today - dt.timedelta(days=filters.min_age_days))
    if filters.max_age_days is not None:
        alerts = alerts.filter(opened_on__gte=today - dt.timedelta(days=filters.max_age_days))
    # Breaches first ("breach" sorts before "warning"), then the newest.
    return alerts.select_related(
        "rule", "rule__portfolio", "rule__team", "portfolio", "assignee", "escalated_to"
    ).order_by("severity", "-opened_on", "-id")


def alert_get_for_user(*, user: User, alert_id: int, decide: bool = False) -> Alert:
    """Fetch and authorise one alert; ``decide=True`` also requires the right to
    take decisions (403 for a viewer)."""
    alert = alert_list_for_user(user=user).filter(id=alert_id).first()
    if alert is None:
        raise Http404("No such alert.")
    if decide and not user_can_decide(user):
        raise PermissionDenied("Only compliance officers take alert decisions.")
    return alert


def alerts_get_for_user(*, user: User, alert_ids: list[int], decide: bool = False) -> list[Alert]:
    """Several alerts at once (bulk actions); any id the user cannot see is a 404."""
    alerts = list(alert_list_for_user(user=user).filter(id__in=alert_ids))
    if len(alerts) != len(set(alert_ids)):
        raise Http404("No such alert.")
    if decide and not user_can_decide(user):
        raise PermissionDenied("Only compliance officers take alert decisions.")
    return alerts


def alert_history(*, alert: Alert) -> QuerySet[AuditEvent]:
    """The alert's transitions, oldest first (its audit events)."""
    return (
        AuditEvent.objects.filter(target_type=Alert._meta.label, target_id=str(alert.pk))
        .select_related("actor")
        .order_by("created_at", "id")
    )


def alert_observations(*, alert: Alert) -> QuerySet[AlertObservation]:
    """The alert's observations, one per evaluated day, oldest first."""
    return alert.observations.order_by("as_of")


def rule_utilisation_series(
    *, rule: Rule, portfolio_id: int, start: dt.date | None = None
) -> list[RuleResult]:
    """One result per evaluated date (the last evaluation of the day), oldest first:
    how close the portfolio ran to the limit over time."""
    results = RuleResult.objects.filter(rule=rule, portfolio_id=portfolio_id)
    if start is not None:
        results = results.filter(as_of__gte=start)
    latest: dict[dt.date, RuleResult] = {}
    for result in results.order_by("as_of", "evaluation_id"):
        latest[result.as_of] = result
    return list(latest.values())


def alert_last_group(*, alert: Alert) -> tuple[float | None, str]:
    """The value and the group (instrument, group or listed names) of the alert's
    last observation; ``(None, "")`` without one."""
    last = alert.observations.order_by("-as_of").select_related("result").first()
    if last is None:
        return None, ""
    return last.value, last.result.group


def alert_causing_holdings(*, alert: Alert) -> tuple[dt.date | None, list[Holding]]:
    """The holdings behind an alert on its last observed date: the instrument or
    group named by the result, or the whole book for portfolio-wide rules
    (leverage, cash, VaR), largest first."""
    view = portfolio_holdings(portfolio=alert.portfolio, as_of=alert.last_observed_on)
    last = alert.observations.order_by("-as_of").select_related("result").first()
    group = last.result.group if last else ""
    kind, params = alert.rule.kind, alert.rule.params
    names = {name.strip() for name in group.split(",") if name.strip()}
    holdings = view.holdings
    if kind == RuleKind.MAX_INSTRUMENT_WEIGHT or kind in (
        RuleKind.RESTRICTED_LIST,
        RuleKind.WATCH_LIST,
    ):
        listed = set(params.get("identifiers", [])) | names
        issuers = set(params.get("issuers", []))
        issuer_of = dict(
            Instrument.objects.filter(id__in=[h.instrument_id for h in holdings]).values_list(
                "id", "issuer"
            )
        )
        holdings = [
            h
            for h in holdings
            if h.identifier in listed or issuer_of.get(h.instrument_id) in issuers
        ]
    elif kind in (
        RuleKind.MAX_GROUP_WEIGHT,
        RuleKind.MIN_GROUP_WEIGHT,
        RuleKind.MAX_LARGE_GROUPS_TOTAL,
        RuleKind.DIVERSIFIED_FUND,
    ):
        attribute = params.get("attribute", "issuer")
        values = dict(
            Instrument.objects.filter(id__in=[h.instrument_id for h in holdings]).values_list(
                "id", attribute
            )
        )
        if params.get("group"):
            names = {params["group"]}
        holdings = [h for h in holdings if values.get(h.instrument_id) in names]
    elif kind == RuleKind.MIN_CASH:
        holdings = [h for h in holdings if h.asset_class == "cash"]
    return view.as_of, holdings


def rule_list_for_user(*, user: User) -> QuerySet[Rule]:
    """Rules that apply to at least one portfolio the user may see (all-portfolio
    rules, rules of the user's teams or of teams entitled to visible portfolios,
    and rules of visible portfolios)."""
    visible = portfolio_list_visible_to(user=user)
    if user.is_superuser:
        return Rule.objects.select_related("team", "portfolio").all()
    return (
        Rule.objects.filter(
            Q(scope=RuleScope.ALL)
            | Q(scope=RuleScope.PORTFOLIO, portfolio__in=visible)
            | Q(scope=RuleScope.TEAM, team__members=user)
            | Q(scope=RuleScope.TEAM, team__entitlements__portfolio__in=visible)
        )
        .select_related("team", "portfolio")
        .distinct()
    )


def rule_get_for_user(*, user: User, rule_id: int) -> Rule:
    rule = rule_list_for_user(user=user).filter(id=rule_id).first()
    if rule is None:
        raise Http404("No such rule.")
    return rule


def notification_list_for_user(*, user: User) -> QuerySet[Notification]:
    """The user's own in-app notifications on alerts they may still see."""
    return (
        Notification.objects.filter(
            recipient=user, alert__portfolio__in=portfolio_list_visible_to(user=user)
        )
        .select_related("alert", "alert__portfolio", "alert__rule", "message")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class HeadroomRow:
    """One rule on one portfolio at its latest evaluation.

    ``utilisation`` is value ÷ limit (limit ÷ value for a minimum; 1 is the
    boundary, larger is worse, ``inf`` a zero limit used); ``headroom`` is the
    share of the limit still free, ``1 − utilisation`` (negative: beyond the limit
    by that much); ``headroom_value`` the same in the rule's own units (limit −
    value for a maximum, value − limit for a minimum; ``None`` without a value)."""

    result: RuleResult
    rule: Rule
    portfolio_code: str
    as_of: dt.date
    value: float | None
    limit: float
    utilisation: float | None
    status: str

    @property
    def headroom(self) -> float | None:
        if self.utilisation is None:
            return None
        return 1.0 - self.utilisation

    @property
    def headroom_value(self) -> float | None:
        if self.value is None:
            return None
        if self.rule.kind_info.direction == "min":
            return self.value - self.limit
        return self.limit - self.value


def headroom_list_for_user(*, user: User) -> list[HeadroomRow]:
    """The latest result of every active rule on every portfolio the user may see
    (the last evaluation of the latest evaluated date), unsorted: the
    cross-portfolio headroom view."""
    latest = (
        RuleResult.objects.filter(rule=OuterRef("rule"), portfolio=OuterRef("portfolio"))
        .order_by("-as_of", "-evaluation_id")
        .values("id")[:1]
    )
    results = (
        RuleResult.objects.filter(
            portfolio__in=portfolio_list_visible_to(user=user), rule__is_active=True
        )
        .filter(id=Subquery(latest))
        .select_related("rule", "rule__portfolio", "rule__team", "portfolio")
    )
    return [
        HeadroomRow(
            result=result,
            rule=result.rule,
            portfolio_code=result.portfolio.code,
            as_of=result.as_of,
            value=result.value,
            limit=result.limit,
            utilisation=result.utilisation,
            status=result.status,
        )
        for result in results
    ]


HEADROOM_COLUMNS = (
    SortColumn("rule", "Rule", value=lambda row: row.rule.display_name),
    SortColumn("portfolio", "Portfolio", value=lambda row: row.portfolio_code),
    SortColumn("value", "Value", numeric=True, css="num"),
    SortColumn("limit", "Limit", numeric=True, css="num"),
    SortColumn("utilisation", "Utilisation", numeric=True, css="num"),
    SortColumn("headroom", "Headroom", numeric=True, css="num"),
    SortColumn("as_of", "As of", numeric=True),
)
"""The sortable columns of the headroom view (page and API share them)."""
HEADROOM_DEFAULT_SORT = "-utilisation"
