"""Regulatory remediation timelines on alert episodes (SEC Rule 18f-4's VaR test).

A rule whose template gives it a timeline (:attr:`compliance.models.Rule.remediation`,
:mod:`compliance.engine.remediation`) follows it on top of the ordinary workflow:

* each evaluated day the rule is in breach, :func:`alert_remediation_advance`
  counts the business days since the episode's first breach on the fund's
  calendar (the rule's ``business_calendar`` MIC, sessions of
  :func:`analytics.engine.quality.trading_sessions`; the first day counts). On the
  first day beyond the timeline's limit (the sixth business day for 18f-4) the
  alert escalates: ``remediation_escalated_on`` is set, the steps (board report,
  Form N-RN) are written to the alert's history and the officers are told;
* while such an alert is current, :func:`reducing_only_rules` names the rule to
  the pre-trade check, which then refuses any trade that does not lower the
  rule's utilisation;
* when the episode is cured after an escalation, :func:`alert_remediation_follow_up`
  records the day back in compliance (``remediation_follow_up_on``) and the
  follow-up steps, with the report's deadline (thirty calendar days after the
  first day out of compliance).

Every step writes an ``alert.decision`` audit event in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt

from analytics.engine.quality import trading_sessions
from analytics.models import Portfolio
from compliance.engine.remediation import (
    business_days_out,
    escalation_due,
    follow_up_due_by,
)
from compliance.models import Alert, NotificationKind, ResultStatus
from compliance.services import notifications
from portal.models import AuditAction
from portal.services import audit_record

DEFAULT_CALENDAR = "XNYS"


def _first_breach(alert: Alert) -> dt.date | None:
    first: dt.date | None = (
        alert.observations.filter(status=ResultStatus.BREACH)
        .order_by("as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    return first


def _calendar(alert: Alert) -> str:
    return str(alert.rule.params.get("business_calendar") or DEFAULT_CALENDAR)


def alert_remediation_advance(*, alert: Alert, as_of: dt.date) -> bool:
    """Escalate ``alert`` under its rule's timeline if the rule, in breach on
    ``as_of``, has now been out of compliance more than the timeline's business
    days (module docstring). Returns whether it escalated now."""
    timeline = alert.rule.remediation
    if timeline is None or not alert.is_current or alert.remediation_escalated_on is not None:
        return False
    first = _first_breach(alert)
    if first is None:
        return False
    sessions = trading_sessions(_calendar(alert), first, as_of)
    if not escalation_due(timeline=timeline, first_day=first, as_of=as_of, sessions=sessions):
        return False
    alert.remediation_escalated_on = as_of
    alert.save(update_fields=["remediation_escalated_on", "updated_at"])
    audit_record(
        actor=None,
        action=AuditAction.ALERT_DECISION,
        target=alert,
        portfolio=alert.portfolio_id,
        details={
            "transition": "remediation_escalated",
            "state": alert.state,
            "rule": timeline.citation,
            "out_of_compliance_since": first.isoformat(),
            "business_days_out": business_days_out(first_day=first, as_of=as_of, sessions=sessions),
            "calendar": _calendar(alert),
            "steps": [step.label for step in timeline.escalation],
            "as_of": as_of.isoformat(),
        },
    )
    notifications.alert_notify(alert=alert, kind=NotificationKind.ESCALATED, key="remediation")
    return True


def alert_remediation_follow_up(*, alert: Alert, as_of: dt.date) -> bool:
    """Record that an escalated alert's rule is back in compliance on ``as_of``
    (its episode was just cured): the follow-up steps are due. Returns whether it
    did (an alert that never escalated has no follow-up)."""
    timeline = alert.rule.remediation
    if (
        timeline is None
        or alert.remediation_escalated_on is None
        or alert.remediation_follow_up_on is not None
    ):
        return False
    first = _first_breach(alert) or alert.opened_on
    alert.remediation_follow_up_on = as_of
    alert.save(update_fields=["remediation_follow_up_on", "updated_at"])
    audit_record(
        actor=None,
        action=AuditAction.ALERT_DECISION,
        target=alert,
        portfolio=alert.portfolio_id,
        details={
            "transition": "remediation_follow_up",
            "state": alert.state,
            "rule": timeline.citation,
            "back_in_compliance_on": as_of.isoformat(),
            "report_due_by": follow_up_due_by(first_day=first).isoformat(),
            "steps": [step.label for step in timeline.follow_up],
        },
    )
    return True


def reducing_only_rules(*, portfolio: Portfolio) -> dict[int, dt.date]:
    """Rules of ``portfolio`` that allow only trades lowering their utilisation,
    each with the day the restriction began: current alerts escalated under a
    timeline with ``reducing_only`` (SEC Rule 18f-4, until back in compliance)."""
    escalated = Alert.objects.filter(
        portfolio=portfolio, is_current=True, remediation_escalated_on__isnull=False
    ).select_related("rule")
    return {
        alert.rule_id: alert.remediation_escalated_on
        for alert in escalated
        if alert.rule.remediation is not None
        and alert.rule.remediation.reducing_only
        and alert.remediation_escalated_on is not None
    }


def remediation_status(*, alert: Alert) -> dict | None:
    """What a page shows of the alert's timeline: the citation, the steps due and
    since when, or ``None`` for a rule without a timeline. ``stage`` is
    ``counting`` (out of compliance, not yet escalated), ``escalated`` or
    ``follow_up``; ``business_days_out`` counts to the last observation."""
    timeline = alert.rule.remediation
    if timeline is None:
        return None
    first = _first_breach(alert)
    if first is None:
        return None
    end = alert.remediation_escalated_on or alert.last_observed_on
    sessions = trading_sessions(_calendar(alert), first, end)
    stage = (
        "follow_up"
        if alert.remediation_follow_up_on
        else "escalated"
        if alert.remediation_escalated_on
        else "counting"
    )
    return {
        "timeline": timeline,
        "stage": stage,
        "first_day": first,
        "calendar": _calendar(alert),
        "business_days_out": business_days_out(first_day=first, as_of=end, sessions=sessions),
        "escalated_on": alert.remediation_escalated_on,
        "follow_up_on": alert.remediation_follow_up_on,
        "report_due_by": follow_up_due_by(first_day=first),
        "reducing_only": stage == "escalated" and alert.is_current and timeline.reducing_only,
    }
