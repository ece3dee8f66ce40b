"""Breach episodes and the officer workflow.

Episodes: the first warning or breach of a rule on a portfolio opens an
:class:`~compliance.models.Alert`; every later evaluated day of the same
episode adds one observation (a re-run of a day replaces it), so a breach that
lasts ten days is one alert with ten observations. The first result back within
limits ends the episode (``cured_on``); a missing value does not (missing data is
no cure). A later breach opens a new alert.

A test at acquisition that the holdings fail by market moves alone (result
status ``restricted``, the 1940 Act's 75-5-10) is no breach: it opens or extends
the episode as a **warning** (``RESULT_SEVERITY``), so the officer sees the fund
restricted in what it may buy until it is back within the limit; only a purchase
that causes or worsens the shortfall (a ``breach`` result) raises it to a breach.

Workflow::

    open ──acknowledge (comment required)──▶ acknowledged ──resolve──▶ resolved
      │  ╲──snooze until a date──▶ snoozed (back to open when the date passes)
      ╰──waive (reason required)──▶ waived

* A decided alert (acknowledged, snoozed, waived) **reopens** when it worsens:
  a warning becomes a breach, or utilisation rises more than the rule's
  ``reopen_margin`` above its level at the decision.
* An alert can be resolved once its breach is cured; a breach that persists is
  waived (with a reason) instead.
* A breach not cured within the rule's ``cure_period_days`` is **escalated**
  to the assignee's team (once per episode).
* A rule with a regulatory remediation timeline (SEC Rule 18f-4's VaR test)
  also escalates after more than five business days in breach and records the
  follow-up once back in compliance (:mod:`compliance.services.remediation`).
* Which decision each state allows is :data:`ACTION_ALLOWED_STATES`, the one
  table the services enforce and the pages offer (:func:`alert_actions_allowed`).
* Every transition writes an ``alert.decision`` audit event in its transaction
  (system transitions have no actor); the alert's history is those events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from analytics.selectors.entitlements import portfolio_list_visible_to
from compliance.models import (
    RESULT_SEVERITY,
    SEVERITY_RANK,
    Alert,
    AlertObservation,
    AlertState,
    NotificationKind,
    ResultStatus,
    RuleResult,
    Severity,
)
from compliance.services import notifications
from compliance.services.remediation import alert_remediation_advance, alert_remediation_follow_up
from portal.models import AuditAction, Role, Team, User
from portal.origins import RequestOrigin
from portal.services import audit_record


def _audit(
    alert: Alert,
    transition: str,
    *,
    actor: User | None = None,
    origin: RequestOrigin | None = None,
    **details,
) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.ALERT_DECISION,
        target=alert,
        origin=origin,
        details={"transition": transition, "state": alert.state, **details},
        portfolio=alert.portfolio_id,
    )


def _worse(new: float | None, reference: float | None, margin: float) -> bool:
    if new is None:
        return False
    if reference is None:
        return True
    return new > reference + margin


# --- episodes from evaluation results ------------------------------------------


def alerts_observe(*, results: Sequence[RuleResult]) -> list[Alert]:
    """Feed stored results into alert episodes (called in the evaluation's
    transaction). Returns the alerts opened or updated."""
    touched = []
    for result in results:
        if result.status in RESULT_SEVERITY:
            touched.append(_observe_limit_result(result))
        elif result.status == ResultStatus.OK:
            _cure(result)
    return touched


def _observe_limit_result(result: RuleResult) -> Alert:
    """A warning, restriction or breach: open an episode, or add the day to the
    current one."""
    alert = (
        Alert.objects.select_for_update()
        .filter(rule=result.rule, portfolio_id=result.portfolio_id, is_current=True)
        .first()
    )
    if alert is None:
        alert = _alert_open(result)
    else:
        _alert_extend(alert, result)
    _escalate_if_due(alert, result.as_of)
    if result.status == ResultStatus.BREACH:
        alert_remediation_advance(alert=alert, as_of=result.as_of)
    return alert


def _alert_open(result: RuleResult) -> Alert:
    alert = Alert.objects.create(
        rule=result.rule,
        portfolio_id=result.portfolio_id,
        severity=RESULT_SEVERITY[result.status],
        active=result.active,
        opened_on=result.as_of,
        last_observed_on=result.as_of,
        first_utilisation=result.utilisation,
        last_utilisation=result.utilisation,
        peak_utilisation=result.utilisation,
        assignee=result.rule.default_assignee,
    )
    _audit(
        alert,
        "opened",
        severity=alert.severity,
        utilisation=_json_number(result.utilisation),
        active=result.active,
        as_of=result.as_of.isoformat(),
    )
    AlertObservation.objects.create(
        alert=alert,
        result=result,
        as_of=result.as_of,
        value=result.value,
        utilisation=result.utilisation,
        status=result.status,
        active=result.active,
    )
    notifications.alert_notify(alert=alert, kind=NotificationKind.OPENED, key="opened")
    return alert


def _reopen_reason(alert: Alert, result: RuleResult, *, severity_rose: bool) -> str | None:
    """Why a decided alert reopens on this result (module docstring), or None."""
    if not alert.is_decided:
        return None
    if severity_rose:
        return "a warning became a breach"
    if _worse(result.utilisation, alert.decision_utilisation, result.rule.reopen_margin):
        return "utilisation rose above its level at the decision"
    if (
        alert.state == AlertState.SNOOZED
        and alert.snoozed_until is not None
        and alert.snoozed_until < result.as_of
    ):
        return f"the snooze until {alert.snoozed_until} has passed"
    return None


def _alert_extend(alert: Alert, result: RuleResult) -> None:
    """Add (or, for a re-run of the day, replace) the day's observation, follow
    the severity and utilisation, and reopen a decided alert that worsened."""
    AlertObservation.objects.update_or_create(
        alert=alert,
        as_of=result.as_of,
        defaults={
            "result": result,
            "value": result.value,
            "utilisation": result.utilisation,
            "status": result.status,
            "active": result.active,
        },
    )
    severity = RESULT_SEVERITY[result.status]
    severity_rose = SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity]
    if severity_rose:
        alert.severity = severity
    alert.active = alert.active or result.active
    if result.as_of >= alert.last_observed_on:
        alert.last_observed_on = result.as_of
        alert.last_utilisation = result.utilisation
    if _worse(result.utilisation, alert.peak_utilisation, 0.0):
        alert.peak_utilisation = result.utilisation
    reopen_reason = _reopen_reason(alert, result, severity_rose=severity_rose)
    alert.save()
    if reopen_reason:
        previous = alert.state
        alert.state = AlertState.OPEN
        alert.snoozed_until = None
        alert.save(update_fields=["state", "snoozed_until", "updated_at"])
        _audit(
            alert,
            "reopened",
            previous_state=previous,
            reason=reopen_reason,
            utilisation=_json_number(result.utilisation),
            as_of=result.as_of.isoformat(),
        )
        notifications.alert_notify(
            alert=alert, kind=NotificationKind.REOPENED, key=result.as_of.isoformat()
        )
    elif severity_rose:
        # Still open, but it is now a hard breach: the manager must hear of it once.
        notifications.alert_notify(alert=alert, kind=NotificationKind.REOPENED, key="breach")


def _cure(result: RuleResult) -> None:
    alert = (
        Alert.objects.select_for_update()
        .filter(rule_id=result.rule_id, portfolio_id=result.portfolio_id, is_current=True)
        .first()
    )
    if alert is None or result.as_of < alert.last_observed_on:
        return  # nothing open, or an older date re-evaluated after a newer breach
    alert.is_current = False
    alert.cured_on = result.as_of
    alert.save(update_fields=["is_current", "cured_on", "updated_at"])
    _audit(
        alert,
        "cured",
        as_of=result.as_of.isoformat(),
        utilisation=_json_number(result.utilisation),
    )
    alert_remediation_follow_up(alert=alert, as_of=result.as_of)


def _json_number(value: float | None) -> float | str | None:
    """A utilisation for an audit event's JSON: infinity as ``"inf"``."""
    if value is None:
        return None
    return "inf" if value == float("inf") else value


def _escalate_if_due(alert: Alert, as_of: dt.date) -> bool:
    if (
        alert.severity != Severity.BREACH
        or not alert.is_current
        or alert.escalated_at is not None
        or alert.state in (AlertState.WAIVED, AlertState.RESOLVED)
        or (as_of - alert.opened_on).days <= alert.rule.cure_period_days
    ):
        return False
    team = _officer_team(alert.assignee)
    alert.escalated_at = timezone.now()
    alert.escalated_to = team
    alert.save(update_fields=["escalated_at", "escalated_to", "updated_at"])
    _audit(
        alert,
        "escalated",
        team=team.name if team else None,
        days_open=(as_of - alert.opened_on).days,
        cure_period_days=alert.rule.cure_period_days,
    )
    notifications.alert_notify(alert=alert, kind=NotificationKind.ESCALATED, key="escalated")
    return True


def _officer_team(user: User | None) -> Team | None:
    if user is None:
        return None
    return user.teams.order_by("name").first()


def alerts_escalate_due(*, today: dt.date) -> int:
    """Escalate every current breach past its cure period (the daily job)."""
    count = 0
    for alert_id in Alert.objects.filter(
        is_current=True, severity=Severity.BREACH, escalated_at__isnull=True
    ).values_list("id", flat=True):
        with transaction.atomic():
            alert = Alert.objects.select_for_update().select_related("rule").get(id=alert_id)
            count += _escalate_if_due(alert, today)
    return count


def alerts_wake_snoozed(*, today: dt.date) -> int:
    """Reopen snoozed alerts whose date has passed and whose breach persists."""
    count = 0
    for alert_id in Alert.objects.filter(
        state=AlertState.SNOOZED, snoozed_until__lt=today, is_current=True
    ).values_list("id", flat=True):
        with transaction.atomic():
            alert = Alert.objects.select_for_update().get(id=alert_id)
            if alert.state != AlertState.SNOOZED:
                continue
            until = alert.snoozed_until
            alert.state, alert.snoozed_until = AlertState.OPEN, None
            alert.save(update_fields=["state", "snoozed_until", "updated_at"])
            _audit(alert, "reopened", reason=f"the snooze until {until} has passed")
            notifications.alert_notify(
                alert=alert, kind=NotificationKind.REOPENED, key=f"snooze:{until}"
            )
            count += 1
    return count


# --- the officer workflow ---------------------------------------------------------


def user_can_decide(user: User) -> bool:
    """Compliance officers and administrators take alert decisions."""
    return user.is_authenticated and (
        user.is_superuser or user.role in (Role.COMPLIANCE_OFFICER, Role.ADMIN)
    )


def _require_decider(user: User) -> None:
    if not user_can_decide(user):
        raise PermissionDenied("Only compliance officers take alert decisions.")


def _require_text(field: str, text: str | None, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: [message]})
    return text


ACTION_ALLOWED_STATES: dict[str, tuple[str, ...]] = {
    "acknowledge": (AlertState.OPEN, AlertState.SNOOZED),
    "resolve": (AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED),
    "reopen": (AlertState.ACKNOWLEDGED, AlertState.SNOOZED, AlertState.RESOLVED, AlertState.WAIVED),
    "waive": (AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED),
    "snooze": (AlertState.OPEN, AlertState.ACKNOWLEDGED),
    "assign": (AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED),
}
"""The alert states from which each decision may be taken. Resolving also needs the
breach cured (:func:`alert_resolve`); a resolved or waived alert can only be reopened."""


def alert_actions_allowed(alert: Alert) -> list[str]:
    """The decisions ``alert`` allows now, in :data:`ALERT_ACTIONS` order (what the
    decision panel offers)."""
    return [
        action
        for action in ALERT_ACTIONS
        if alert.state in ACTION_ALLOWED_STATES[action]
        and not (action == "resolve" and alert.is_current)
    ]


PAST_PARTICIPLES = {
    "acknowledge": "acknowledged",
    "resolve": "resolved",
    "reopen": "reopened",
    "waive": "waived",
    "snooze": "snoozed",
    "assign": "assigned",
}


def _require_state(alert: Alert, action: str) -> None:
    if alert.state not in ACTION_ALLOWED_STATES[action]:
        state = alert.get_state_display().lower()
        article = "An" if state[:1] in "aeiou" else "A"
        raise ValidationError(
            {"state": [f"{article} {state} alert cannot be {PAST_PARTICIPLES[action]}."]}
        )


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().select_related("rule", "portfolio").get(id=alert.id)


@transaction.atomic
def alert_acknowledge(
    *, alert: Alert, user: User, comment: str, origin: RequestOrigin | None = None
) -> Alert:
    """Acknowledge an open or snoozed alert; a comment is required."""
    _require_decider(user)
    comment = _require_text("comment", comment, "Acknowledging an alert requires a comment.")
    alert = _locked(alert)
    _require_state(alert, "acknowledge")
    previous = alert.state
    alert.state = AlertState.ACKNOWLEDGED
    alert.decision_utilisation = alert.last_utilisation
    alert.snoozed_until = None
    alert.save()
    _audit(
        alert, "acknowledged", actor=user, origin=origin, previous_state=previous, comment=comment
    )
    return alert


@transaction.atomic
def alert_bulk_acknowledge(
    *, alerts: Sequence[Alert], user: User, comment: str, origin: RequestOrigin | None = None
) -> list[Alert]:
    """Acknowledge several alerts with one comment; all or none (a closed one
    among them is an error naming it)."""
    _require_decider(user)
    comment = _require_text("comment", comment, "Acknowledging an alert requires a comment.")
    if not alerts:
        raise ValidationError({"alerts": ["Select at least one alert."]})
    not_open = [a.id for a in alerts if a.state not in ACTION_ALLOWED_STATES["acknowledge"]]
    if not_open:
        raise ValidationError(
            {"alerts": [f"Alerts {not_open} are not open and cannot be acknowledged."]}
        )
    return [
        alert_acknowledge(alert=alert, user=user, comment=comment, origin=origin)
        for alert in alerts
    ]


@transaction.atomic
def alert_resolve(
    *, alert: Alert, user: User, comment: str = "", origin: RequestOrigin | None = None
) -> Alert:
    """Resolve an alert whose breach has been cured."""
    _require_decider(user)
    alert = _locked(alert)
    _require_state(alert, "resolve")
    if alert.is_current:
        raise ValidationError(
            {
                "state": [
                    f"The rule is still outside its limit as of {alert.last_observed_on}; "
                    "waive the alert with a reason instead, or resolve it once cured."
                ]
            }
        )
    previous = alert.state
    alert.state = AlertState.RESOLVED
    alert.resolved_at = timezone.now()
    alert.save()
    _audit(
        alert,
        "resolved",
        actor=user,
        origin=origin,
        previous_state=previous,
        comment=(comment or "").strip(),
    )
    return alert


@transaction.atomic
def alert_waive(
    *, alert: Alert, user: User, reason: str, origin: RequestOrigin | None = None
) -> Alert:
    """Waive an alert (accept the breach) with a reason."""
    _require_decider(user)
    reason = _require_text("reason", reason, "Waiving an alert requires a reason.")
    alert = _locked(alert)
    _require_state(alert, "waive")
    previous = alert.state
    alert.state = AlertState.WAIVED
    alert.waiver_reason = reason
    alert.decision_utilisation = alert.last_utilisation
    alert.snoozed_until = None
    alert.save()
    _audit(alert, "waived", actor=user, origin=origin, previous_state=previous, reason=reason)
    return alert


@transaction.atomic
def alert_snooze(
    *,
    alert: Alert,
    user: User,
    until: dt.date | None,
    comment: str = "",
    origin: RequestOrigin | None = None,
) -> Alert:
    """Snooze an alert until a future date; it reopens after that date if the
    breach persists, or earlier if it worsens."""
    _require_decider(user)
    if until is None or until <= timezone.localdate():
        raise ValidationError({"until": ["Snooze until a date after today."]})
    alert = _locked(alert)
    _require_state(alert, "snooze")
    previous = alert.state
    alert.state = AlertState.SNOOZED
    alert.snoozed_until = until
    alert.decision_utilisation = alert.last_utilisation
    alert.save()
    _audit(
        alert,
        "snoozed",
        actor=user,
        origin=origin,
        previous_state=previous,
        until=until.isoformat(),
        comment=(comment or "").strip(),
    )
    return alert


@transaction.atomic
def alert_reopen(
    *, alert: Alert, user: User, comment: str, origin: RequestOrigin | None = None
) -> Alert:
    """Reopen a decided, resolved or waived alert by hand (a comment is required)."""
    _require_decider(user)
    comment = _require_text("comment", comment, "Reopening an alert requires a comment.")
    alert = _locked(alert)
    _require_state(alert, "reopen")
    previous = alert.state
    alert.state = AlertState.OPEN
    alert.snoozed_until = None
    alert.resolved_at = None
    alert.save()
    _audit(alert, "reopened", actor=user, origin=origin, previous_state=previous, comment=comment)
    return alert


@transaction.atomic
def alert_assign(
    *, alert: Alert, user: User, assignee: User, origin: RequestOrigin | None = None
) -> Alert:
    """Assign an alert to a compliance officer who may see its portfolio."""
    _require_decider(user)
    if not user_can_decide(assignee) or not assignee.is_active:
        raise ValidationError({"assignee": ["Assign alerts to an active compliance officer."]})
    if not portfolio_list_visible_to(user=assignee).filter(id=alert.portfolio_id).exists():
        raise ValidationError({"assignee": [f"{assignee} is not entitled to this portfolio."]})
    alert = _locked(alert)
    _require_state(alert, "assign")
    previous = alert.assignee
    alert.assignee = assignee
    alert.save(update_fields=["assignee", "updated_at"])
    _audit(
        alert,
        "assigned",
        actor=user,
        origin=origin,
        previous_assignee=previous.username if previous else None,
        assignee=assignee.username,
    )
    notifications.alert_notify(
        alert=alert,
        kind=NotificationKind.ASSIGNED,
        key=f"{assignee.pk}:{timezone.now():%Y%m%d%H%M%S%f}",
        only=[assignee],
    )
    return alert


ALERT_ACTIONS = ("acknowledge", "resolve", "reopen", "waive", "snooze", "assign")
"""The officer's decisions by name, as the pages and the API offer them."""


def alert_decide(
    *,
    action: str,
    alert: Alert,
    user: User,
    origin: RequestOrigin | None = None,
    comment: str = "",
    reason: str = "",
    until: dt.date | None = None,
    assignee: User | None = None,
) -> Alert:
    """Take one of :data:`ALERT_ACTIONS` on ``alert``: the one entry of the pages
    and the API. Each decision reads only its own inputs (``comment`` for
    acknowledge, resolve, reopen and snooze; ``reason`` for waive; ``until`` for
    snooze; ``assignee`` for assign)."""
    if action == "acknowledge":
        return alert_acknowledge(alert=alert, user=user, comment=comment, origin=origin)
    if action == "resolve":
        return alert_resolve(alert=alert, user=user, comment=comment, origin=origin)
    if action == "reopen":
        return alert_reopen(alert=alert, user=user, comment=comment, origin=origin)
    if action == "waive":
        return alert_waive(alert=alert, user=user, reason=reason, origin=origin)
    if action == "snooze":
        return alert_snooze(alert=alert, user=user, until=until, comment=comment, origin=origin)
    if action == "assign":
        if assignee is None:
            raise ValidationError({"assignee": ["No such user."]})
        return alert_assign(alert=alert, user=user, assignee=assignee, origin=origin)
    raise ValueError(f"unknown alert action {action!r}; choose one of {ALERT_ACTIONS}")
