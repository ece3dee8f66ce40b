"""The compliance block: open alerts, each rule's latest result with its
headroom, and the regulatory templates (SEC Rule 18f-4's VaR on its own), all
equal to the stored rows and limited to the portfolios of the report.

GROWTH (alice's; bob sees it) was evaluated on 30 and 31 January 2024:
* "Issuer at most 10 %": 12 % on 30 Jan (a breach), 9.5 % on 31 Jan: shown is
  the latest, utilisation 95 %, headroom 5 %, a warning; its alert is open.
* UCITS "issuers above 5 % together at most 40 %": 30 %, utilisation 75 %.
* 18f-4: VaR 5 % of net assets against 20 % (25 %); backtest 2 exceptions of 4.
INCOME (alice's, not bob's) has a breach alert of the issuer rule too.
"""

import datetime as dt

import pytest

from compliance.models import Alert, Evaluation, Rule, RuleResult
from reports.blocks import compliance
from tests.reports.blocks.desk_book import context_of, rows_of

JAN_30, JAN_31 = dt.date(2024, 1, 30), dt.date(2024, 1, 31)


def evaluation(portfolio, as_of):
    return Evaluation.objects.create(
        portfolio=portfolio,
        as_of=as_of,
        data_version=as_of.day,
        rules_fingerprint="f",
        trigger="daily",
        status="done",
    )


def result(evaluation, rule, value, utilisation, status):
    return RuleResult.objects.create(
        evaluation=evaluation,
        rule=rule,
        portfolio=evaluation.portfolio,
        as_of=evaluation.as_of,
        value=value,
        limit=rule.limit,
        utilisation=utilisation,
        status=status,
    )


@pytest.fixture
def rules(growth, income):
    issuer = Rule.objects.create(
        name="Issuer at most 10%", kind="max_instrument_weight", limit=0.10
    )
    ucits = Rule.objects.create(
        name="UCITS: issuers above 5% together at most 40%",
        kind="max_large_groups_total",
        limit=0.40,
        scope="portfolio",
        portfolio=growth,
        template="ucits_5_10_40",
    )
    var = Rule.objects.create(
        name="18f-4: VaR at most 20% of net assets",
        kind="max_var",
        limit=0.20,
        scope="portfolio",
        portfolio=growth,
        template="sec_18f4_absolute",
    )
    backtest = Rule.objects.create(
        name="18f-4 VaR backtest: at most 4 exceptions in 250 days",
        kind="var_backtest",
        limit=4,
        scope="portfolio",
        portfolio=growth,
        template="sec_18f4_absolute",
    )
    result(evaluation(growth, JAN_30), issuer, 0.12, 1.2, "breach")
    latest = evaluation(growth, JAN_31)
    result(latest, issuer, 0.095, 0.95, "warning")
    result(latest, ucits, 0.30, 0.75, "ok")
    result(latest, var, 0.05, 0.25, "ok")
    result(latest, backtest, 2, 0.5, "ok")
    result(evaluation(income, JAN_31), issuer, 0.15, 1.5, "breach")
    for portfolio, severity, opened in ((growth, "warning", JAN_30), (income, "breach", JAN_31)):
        Alert.objects.create(
            rule=issuer,
            portfolio=portfolio,
            severity=severity,
            opened_on=opened,
            last_observed_on=JAN_31,
            last_utilisation=0.95 if portfolio == growth else 1.5,
        )
    return issuer


def test_alerts_rule_utilisation_and_regulatory_templates(bob, growth, rules, empty_view):
    [section] = compliance.BLOCK.build(context_of(bob, growth, empty_view))

    tables = {table.name: rows_of(table) for table in section.tables}
    [alert] = tables["open_alerts"]
    assert (alert["severity"], alert["rule"], alert["scope"], alert["state"]) == (
        "Warning",
        "Issuer at most 10%",
        "All portfolios",
        "Open",
    )
    assert (alert["opened"], alert["value"], alert["limit"]) == (JAN_30, 0.095, 0.10)
    assert alert["utilisation"] == 0.95

    utilisation = {row["rule"]: row for row in tables["rule_utilisation"]}
    issuer = utilisation["Issuer at most 10%"]
    assert (issuer["as_of"], issuer["value"], issuer["utilisation"]) == (JAN_31, 0.095, 0.95)
    assert issuer["headroom"] == pytest.approx(0.05)
    assert issuer["status"] == "Warning"
    assert len(utilisation) == 4

    [ucits] = tables["regulatory"]
    assert ucits["template"] == "UCITS 5/10/40"
    assert (ucits["value"], ucits["limit"], ucits["headroom"]) == (0.30, 0.40, pytest.approx(0.25))

    var_rows = {row["rule"].split(":")[0]: row for row in tables["sec_18f4"]}
    assert var_rows["18f-4"]["value"] == 0.05 and var_rows["18f-4"]["limit"] == 0.20
    backtest = var_rows["18f-4 VaR backtest"]
    assert (backtest["count"], backtest["count_limit"], backtest["value"]) == (2, 4, None)
    assert backtest["template"] == "SEC Rule 18f-4, absolute VaR test"

    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert (kpis["Open alerts"], kpis["Breaches"], kpis["Warnings"]) == (1, 0, 1)


def test_another_portfolios_alerts_never_show(alice, growth, income, rules, empty_view):
    [section] = compliance.BLOCK.build(context_of(alice, growth, empty_view))
    [alert] = rows_of(next(t for t in section.tables if t.name == "open_alerts"))
    assert alert["severity"] == "Warning"  # INCOME's breach is not in GROWTH's section


def test_a_portfolio_never_evaluated_is_unavailable(alice, growth, empty_view):
    [section] = compliance.BLOCK.build(context_of(alice, growth, empty_view))
    assert section.unavailable and not section.tables
