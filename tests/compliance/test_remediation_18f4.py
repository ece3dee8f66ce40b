"""SEC Rule 18f-4's remediation timeline on an alert, day by day on the NYSE
calendar of July 2024 (Thursday 4 July closed).

The fund's absolute VaR test is breached from Monday 1 July. Business days out of
compliance, the first day counted: 1, 2, 3, 5 and 8 July make five (no escalation
yet: the rule allows five); 9 July is the sixth, and the alert escalates. Back in
compliance on 10 July, the follow-up is due by 31 July (thirty calendar days after
1 July)."""

import datetime as dt

import pytest
from django.db import transaction

from compliance.models import Alert, Evaluation, Rule, RuleResult
from compliance.selectors import alert_history
from compliance.services.alerts import alerts_observe
from compliance.services.remediation import reducing_only_rules
from compliance.services.rules import template_apply

JULY = {day: dt.date(2024, 7, day) for day in range(1, 11)}


def observe(rule, portfolio, day, *, utilisation):
    evaluation = Evaluation.objects.create(
        portfolio=portfolio,
        as_of=day,
        data_version=day.toordinal(),
        rules_fingerprint="test",
        trigger="daily",
        status="done",
    )
    status = "breach" if utilisation > 1 else "ok"
    result = RuleResult.objects.create(
        evaluation=evaluation,
        rule=rule,
        portfolio=portfolio,
        as_of=day,
        value=utilisation * rule.limit,
        limit=rule.limit,
        utilisation=utilisation,
        status=status,
    )
    with transaction.atomic():
        alerts_observe(results=[result])


@pytest.fixture
def var_rule(growth, admin_user, olivia):
    template_apply(
        user=admin_user, template="sec_18f4_absolute", scope="portfolio", portfolio=growth
    )
    rule = Rule.objects.get(kind="max_var", portfolio=growth)
    assert rule.params["business_calendar"] == "XNYS"
    assert rule.remediation is not None
    return rule


def test_five_business_days_out_do_not_escalate_the_sixth_does(growth, var_rule):
    # 22 % VaR against 20 %: 110 %.
    for day in (1, 2, 3, 5, 8):
        observe(var_rule, growth, JULY[day], utilisation=1.1)
    alert = Alert.objects.get(rule=var_rule)
    assert alert.remediation_escalated_on is None
    assert reducing_only_rules(portfolio=growth) == {}

    observe(var_rule, growth, JULY[9], utilisation=1.1)
    alert.refresh_from_db()
    assert alert.remediation_escalated_on == JULY[9]
    assert reducing_only_rules(portfolio=growth) == {var_rule.id: JULY[9]}
    escalation = [
        e.details
        for e in alert_history(alert=alert)
        if e.details["transition"] == "remediation_escalated"
    ]
    assert escalation == [
        {
            "transition": "remediation_escalated",
            "state": "open",
            "rule": "SEC Rule 18f-4(c)(2)(ii)",
            "out_of_compliance_since": "2024-07-01",
            "business_days_out": 6,
            "calendar": "XNYS",
            "steps": [
                "Report to the board",
                "Form N-RN, Part E",
                "VaR-reducing transactions only",
            ],
            "as_of": "2024-07-09",
        }
    ]
    assert alert.notifications.filter(kind="escalated", key="remediation").exists()


def test_back_in_compliance_after_an_escalation_the_follow_up_is_due(growth, var_rule):
    for day in (1, 2, 3, 5, 8, 9):
        observe(var_rule, growth, JULY[day], utilisation=1.1)
    observe(var_rule, growth, JULY[10], utilisation=0.8)  # 16 % VaR: back within 20 %
    alert = Alert.objects.get(rule=var_rule)
    assert alert.cured_on == JULY[10]
    assert alert.remediation_follow_up_on == JULY[10]
    assert reducing_only_rules(portfolio=growth) == {}  # the restriction ends with the cure
    follow_up = [
        e.details
        for e in alert_history(alert=alert)
        if e.details["transition"] == "remediation_follow_up"
    ]
    assert follow_up[0]["report_due_by"] == "2024-07-31"
    assert follow_up[0]["steps"] == ["Follow-up report to the board", "Form N-RN, Part F"]


def test_a_cure_within_five_business_days_needs_no_follow_up(growth, var_rule):
    for day in (1, 2, 3):
        observe(var_rule, growth, JULY[day], utilisation=1.1)
    observe(var_rule, growth, JULY[5], utilisation=0.9)
    alert = Alert.objects.get(rule=var_rule)
    assert alert.remediation_escalated_on is None and alert.remediation_follow_up_on is None


def test_a_rule_made_by_hand_has_no_timeline(growth, admin_user):
    from compliance.services.rules import rule_create

    rule = rule_create(user=admin_user, name="VaR 20%", kind="max_var", limit=0.2)
    for day in (1, 2, 3, 5, 8, 9):
        observe(rule, growth, JULY[day], utilisation=1.1)
    assert Alert.objects.get(rule=rule).remediation_escalated_on is None


def test_an_escalated_var_rule_restricts_the_pre_trade_check_to_reducing_trades(growth, var_rule):
    from compliance.engine.pretrade import Effect
    from compliance.services.evaluation.pretrade import pretrade_check
    from tests.compliance.conftest import BUY, book, business_days

    instruments = book(
        growth, days=business_days(2), closes={"AAA": [100, 100]}, trades=[(0, "AAA", BUY, 100)]
    )
    for day in (1, 2, 3, 5, 8, 9):
        observe(var_rule, growth, JULY[day], utilisation=1.1)
    check = pretrade_check(portfolio=growth, instrument=instruments["AAA"], side=BUY, quantity=1)
    row = next(r for r in check.rows if r.rule == var_rule)
    # Two days of prices give no 756-day VaR: a trade that cannot be shown to
    # reduce the VaR is not a VaR-reducing trade.
    assert row.reducing_only_since == JULY[9]
    assert row.effect == Effect.NOT_REDUCING and row.refused
    assert check.verdict == "breach"
    assert "restricted to reducing trades" in check.headline
