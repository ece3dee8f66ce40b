"""The SEC 18f-4 VaR backtest rule on a booked portfolio: it counts the exceptions
the portfolio's Risk tab shows, stores a breach and raises an alert.

Growth puts its whole 100,000 subscription into one stock at 100, so its daily
return is the stock's. The stock closes at 100 on calm days; on the days of
:mod:`tests.backtest_history` (a −2 % tick every 25th day, six large losses of 3 % to
8 % in the last 250 days) it closes at 100 × (1 + loss) and goes back to 100 the
next day. Every tick is the same pair of closes (100 → 98), so the ticks' returns
are identical and the VaR they set is exactly a tick's loss: a tick is never an
exception, each large loss is one (the worked example in that module), so the
backtest finds 6 exceptions in 250 days, above the rule's limit of 4.
"""

from decimal import Decimal

import pytest

from compliance.models import Alert, RuleResult
from compliance.services.evaluation.run import evaluate_now
from compliance.services.rules import template_apply
from tests import backtest_history
from tests.compliance.conftest import BUY, book, business_days

BACKTEST_RULE = "18f-4 VaR backtest: at most 4 exceptions in 250 days"


def stock_closes() -> list[Decimal]:
    """Closes on 501 valuation days (500 returns): 100, except a day with a tick or
    a large loss closes at 100 × (1 + loss)."""
    returns = backtest_history.backtest_returns()
    closes = [Decimal(100)]
    for daily in returns:
        move = Decimal(str(round(float(daily), 6)))
        closes.append(Decimal(100) * (1 + move) if move < Decimal("-0.01") else Decimal(100))
    return closes


@pytest.fixture
def exceptional(growth, admin_user):
    days = business_days(501)
    book(
        growth,
        days=days,
        closes={"STK": stock_closes()},
        trades=[(0, "STK", BUY, 1000)],
    )
    template_apply(
        user=admin_user, template="sec_18f4_absolute", scope="portfolio", portfolio=growth
    )
    return days


def test_six_exceptions_in_250_days_are_a_stored_breach_with_an_alert(growth, exceptional):
    days = exceptional
    evaluate_now(portfolio=growth, as_of=days[-1])

    result = RuleResult.objects.get(rule__name=BACKTEST_RULE)
    assert result.status == "breach"
    assert result.value == 6
    assert result.utilisation == pytest.approx(6 / 4)
    assert result.detail["observations"] == 250
    assert result.detail["zone"] == "yellow"
    # The last 250 of the 500 returns are tested: from the 251st return's date (day 251).
    assert result.detail["first"] == days[251].isoformat()
    assert result.detail["last"] == days[-1].isoformat()
    alert = Alert.objects.get(rule__name=BACKTEST_RULE)
    assert alert.severity == "breach"
    assert alert.is_current


def test_the_rule_counts_the_exceptions_the_risk_tab_shows(growth, exceptional):
    from analytics.services.snapshots import snapshot_result_compute

    days = exceptional
    evaluate_now(portfolio=growth, as_of=days[-1])
    rule_value = RuleResult.objects.get(rule__name=BACKTEST_RULE).value

    backtest = snapshot_result_compute(portfolio=growth, as_of=days[-1])["var"]["backtest"]
    assert backtest["result"]["exceptions"] == rule_value == 6
    exception_days = [days[position + 1] for position in backtest_history.EXCEPTION_POSITIONS]
    assert [str(day)[:10] for day in backtest["exception_dates"]] == [
        day.isoformat() for day in exception_days
    ]


def test_the_pre_trade_page_names_each_outcome_by_its_label(
    client, admin_user, growth, exceptional
):
    # The absolute VaR needs 756 returns and the portfolio has 500: that rule has no value.
    client.force_login(admin_user)
    response = client.post(
        "/compliance/pre-trade/",
        {"portfolio": growth.pk, "instrument": "STK", "side": BUY, "quantity": "10"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert ">No value</span>" in html
    # The backtest: 6 exceptions whatever the trade, an existing breach it leaves alone.
    assert ">Already in breach, unchanged by the trade</span>" in html
    assert "Would breach" not in html
    assert "no_value" not in html
