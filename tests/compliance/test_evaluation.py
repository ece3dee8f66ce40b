"""Evaluations store utilisation per rule, alerts follow breach episodes, breaches
are classified active or passive, and a pre-trade check predicts what the
post-trade evaluation then raises."""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.services.positions import portfolio_positions_rebuild
from compliance.models import (
    Alert,
    AlertState,
    Evaluation,
    EvaluationStatus,
    Notification,
    RuleResult,
)
from compliance.selectors import alert_history
from compliance.services.evaluation.pretrade import pretrade_check
from compliance.services.evaluation.run import evaluate_now
from compliance.services.rules import rule_create, template_apply
from portal.models import AuditEvent
from tests.compliance.conftest import BUY, book, business_days, trade_trade


@pytest.fixture
def rising(growth, admin_user):
    """Growth holds AAA at 9 % of net assets on day 0; AAA's price then rises
    10 % a day for three days and stays there, taking it past 10 % by the market."""
    days = business_days(12)
    closes = {"AAA": [100, 110, 121, 133.1] + [133.1] * 8, "BBB": [50] * 12}
    instruments = book(
        growth,
        days=days,
        closes=closes,
        trades=[(0, "AAA", BUY, 90), (0, "BBB", BUY, 100)],
    )
    rule = rule_create(
        user=admin_user, name="Max 10% per instrument", kind="max_instrument_weight", limit=0.10
    )
    return days, instruments, rule


def test_a_persisting_breach_is_one_alert_with_one_observation_per_day(rising):
    days, _, rule = rising
    for day in days:
        evaluate_now(portfolio=rule_portfolio(rule), as_of=day)
    alerts = Alert.objects.filter(rule=rule)
    assert alerts.count() == 1
    alert = alerts.get()
    # Day 0: 9 % (warning at 90 % of the limit); day 1: 9.9/100.9 ≈ 9.8 %; day 2 onwards above 10 %.
    assert alert.opened_on == days[0]
    assert alert.observations.count() == len(days)
    assert alert.severity == "breach"
    assert alert.active is False  # the market, not a trade, took it past the limit
    assert alert.is_current
    results = RuleResult.objects.filter(rule=rule).order_by("as_of")
    assert [r.as_of for r in results] == days
    assert results[0].utilisation == pytest.approx(0.9)
    assert results[3].utilisation == pytest.approx(11_979 / (100_000 + 11_979 - 9_000) / 0.10)


def rule_portfolio(rule):
    from analytics.models import Portfolio

    return Portfolio.objects.get(code="GROWTH")


def test_evaluating_twice_raises_nothing_twice(rising):
    days, _, rule = rising
    portfolio = rule_portfolio(rule)
    first = evaluate_now(portfolio=portfolio, as_of=days[3])
    second = evaluate_now(portfolio=portfolio, as_of=days[3])
    assert first.id == second.id and second.status == EvaluationStatus.DONE
    assert Evaluation.objects.count() == 1
    assert RuleResult.objects.count() == 1
    assert Alert.objects.count() == 1
    assert (
        Notification.objects.filter(kind="opened").count()
        == Notification.objects.filter(kind="opened").values("recipient").distinct().count()
    )
    opened = AuditEvent.objects.filter(action="alert.decision", details__transition="opened")
    assert opened.count() == 1


def test_a_cured_breach_ends_the_episode_and_a_new_one_opens_a_new_alert(growth, admin_user):
    days = business_days(6)
    closes = {"AAA": [100, 130, 100, 100, 130, 130], "BBB": [50] * 6}
    book(growth, days=days, closes=closes, trades=[(0, "AAA", BUY, 90), (0, "BBB", BUY, 100)])
    rule = rule_create(
        user=admin_user,
        name="Max 10%",
        kind="max_instrument_weight",
        limit=0.10,
        warning_level=1.0,
    )
    for day in days:
        evaluate_now(portfolio=growth, as_of=day)
    alerts = list(Alert.objects.filter(rule=rule).order_by("opened_on"))
    assert [(a.opened_on, a.cured_on, a.is_current) for a in alerts] == [
        (days[1], days[2], False),
        (days[4], None, True),
    ]
    assert [a.observations.count() for a in alerts] == [1, 2]


def test_a_trade_that_takes_a_holding_past_its_limit_is_an_active_breach(growth, admin_user):
    days = business_days(3)
    closes = {"AAA": [100, 100, 100], "BBB": [50, 50, 50]}
    book(
        growth,
        days=days,
        closes=closes,
        trades=[(0, "AAA", BUY, 80), (0, "BBB", BUY, 100), (2, "AAA", BUY, 40)],
    )
    rule = rule_create(user=admin_user, name="Max 10%", kind="max_instrument_weight", limit=0.10)
    evaluate_now(portfolio=growth, as_of=days[2])
    result = RuleResult.objects.get(rule=rule)
    assert result.status == "breach"
    assert result.value == pytest.approx(0.12)
    assert result.active is True
    assert Alert.objects.get(rule=rule).active is True


def test_pre_trade_check_predicts_the_breach_the_post_trade_evaluation_raises(
    growth, admin_user, olivia, django_capture_on_commit_callbacks, eager_celery
):
    days = business_days(3)
    closes = {"AAA": [100, 100, 100], "BBB": [50, 50, 50]}
    instruments = book(
        growth, days=days, closes=closes, trades=[(0, "AAA", BUY, 80), (0, "BBB", BUY, 100)]
    )
    template_apply(user=admin_user, template="ucits_5_10_40", scope="portfolio", portfolio=growth)

    check = pretrade_check(portfolio=growth, instrument=instruments["AAA"], side=BUY, quantity=40)
    assert check.verdict == "breach"
    predicted = {row.rule.name: row for row in check.rows}
    issuer_row = predicted["UCITS: at most 10% of net assets per issuer"]
    assert issuer_row.before_utilisation == pytest.approx(0.8)
    assert issuer_row.after_utilisation == pytest.approx(1.2)
    assert issuer_row.after_status == "breach"
    assert not Alert.objects.exists()  # the check changed nothing
    assert not RuleResult.objects.exists()

    # The trade is done; positions land, the data-changed signal queues the evaluation.
    with django_capture_on_commit_callbacks(execute=True):
        trade_trade(growth, instruments["AAA"], days[2], BUY, 40, closes, days, "AAA-2")
        portfolio_positions_rebuild(portfolio=growth)
    raised = Alert.objects.get(rule__name="UCITS: at most 10% of net assets per issuer")
    assert raised.severity == "breach" and raised.active is True
    assert raised.last_utilisation == pytest.approx(issuer_row.after_utilisation)
    evaluation = Evaluation.objects.get()
    assert evaluation.trigger == "post_trade" and evaluation.status == EvaluationStatus.DONE
    # olivia (the officer of the portfolio) and alice (its manager: a hard breach) are told.
    told = set(
        Notification.objects.filter(alert=raised).values_list("recipient__username", flat=True)
    )
    assert told == {"olivia", "alice"}


def test_pre_trade_check_rejects_bad_input(growth, admin_user):
    from django.core.exceptions import ValidationError

    days = business_days(2)
    instruments = book(growth, days=days, closes={"AAA": [100, 100]}, trades=[(0, "AAA", BUY, 1)])
    with pytest.raises(ValidationError) as error:
        pretrade_check(portfolio=growth, instrument=instruments["AAA"], side="hold", quantity=-1)
    assert set(error.value.message_dict) == {"side", "quantity"}


def test_snoozed_alert_reopens_when_it_worsens(rising, olivia):
    from compliance.services.alerts import alert_snooze

    days, _, rule = rising
    portfolio = rule_portfolio(rule)
    evaluate_now(portfolio=portfolio, as_of=days[0])  # warning at 90 %
    alert = Alert.objects.get()
    alert_snooze(
        alert=alert, user=olivia, until=dt.datetime.now(tz=dt.UTC).date() + dt.timedelta(days=30)
    )
    evaluate_now(portfolio=portfolio, as_of=days[3])  # now a breach
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN
    transitions = [event.details["transition"] for event in alert_history(alert=alert)]
    assert transitions == ["opened", "snoozed", "reopened"]


def test_a_breach_past_its_cure_period_is_escalated_to_the_officers_team(rising, olivia):
    days, _, rule = rising
    rule.cure_period_days = 3
    rule.default_assignee = olivia
    rule.save()
    portfolio = rule_portfolio(rule)
    for day in days[:8]:
        evaluate_now(portfolio=portfolio, as_of=day)
    alert = Alert.objects.get()
    assert alert.assignee == olivia
    assert alert.escalated_to.name == "Compliance"
    assert Notification.objects.filter(alert=alert, kind="escalated").exists()


def test_results_of_a_portfolio_without_valued_holdings_say_so(growth, admin_user):
    rule_create(user=admin_user, name="Min cash", kind="min_cash", limit=0.01)
    assert evaluate_now(portfolio=growth) is None  # no positions at all yet: nothing to evaluate
    _ = Decimal
