"""The steps of an evaluation one at a time: how much history the rules need,
which relative-VaR references exist, the books compared for active breaches, one
load of the histories per pre-trade check, and the officer's decisions by name."""

import datetime as dt
from collections import Counter

import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from analytics.models import Benchmark
from compliance.engine.kinds import clean_params
from compliance.engine.specs import RuleSpec
from compliance.models import Alert, AlertState, Rule, RuleResult
from compliance.services import frames
from compliance.services.alerts import alert_decide
from compliance.services.evaluation.histories import history_days, return_histories_load
from compliance.services.evaluation.pretrade import pretrade_check
from compliance.services.evaluation.results import Books
from compliance.services.evaluation.run import evaluate_now
from compliance.services.rules import rule_create
from tests.compliance.conftest import BUY, book, business_days


def spec(rule_id, kind, portfolios=None, **params):
    return RuleSpec(
        rule_id=rule_id,
        kind=kind,
        limit=1.0,
        params=clean_params(kind, params),
        portfolios=portfolios,
    )


def test_history_is_the_longest_a_rule_reads_plus_one_return():
    assert history_days([spec(1, "max_instrument_weight")]) == 0
    assert history_days([spec(1, "max_var", min_history_days=100)]) == 101
    # The backtest compares its last 250 forecasts, each over a 100-day window.
    assert (
        history_days(
            [
                spec(1, "max_var", min_history_days=100),
                spec(2, "var_backtest", min_history_days=100, observations=250),
            ]
        )
        == 351
    )


def test_no_history_is_loaded_when_no_rule_reads_returns(growth):
    histories = return_histories_load(
        specs=[spec(1, "max_instrument_weight")],
        portfolios={growth.id: growth},
        instrument_ids=[],
        as_of=dt.date(2024, 3, 4),
    )
    assert histories is None


def test_relative_var_references_name_only_what_exists(growth, income):
    growth.benchmark = Benchmark.objects.create(code="SPX", name="S&P 500", currency="USD")
    growth.save()
    both = (growth.id, income.id)
    histories = return_histories_load(
        specs=[
            spec(1, "max_relative_var", both, min_history_days=20),  # each one's own benchmark
            spec(2, "max_relative_var", both, min_history_days=20, reference="benchmark:NOPE"),
            spec(3, "max_relative_var", both, min_history_days=20, reference="portfolio:INCOME"),
        ],
        portfolios={growth.id: growth, income.id: income},
        instrument_ids=[],
        as_of=dt.date(2024, 3, 4),
    )
    assert histories is not None
    # Income has no benchmark and there is no benchmark NOPE: those rules get no reference.
    assert histories.reference_of == {
        (1, growth.id): "benchmark:SPX",
        (3, growth.id): "portfolio:INCOME",
        (3, income.id): "portfolio:INCOME",
    }


def test_a_day_without_trades_compares_the_holdings_with_themselves():
    holdings = pd.DataFrame({"portfolio": [1], "instrument": [7]})
    books = Books.with_legs(holdings=holdings, legs=pd.DataFrame(columns=frames.HOLDING_COLUMNS))
    assert books.before is books.now and books.trades is None
    assert books.instrument_ids == {7}


@pytest.fixture
def var_book(growth, admin_user):
    """Growth holds AAA and BBB over 30 days of moving prices, under a VaR limit."""
    days = business_days(30)
    closes = {
        "AAA": [100 + 3 * (i % 4) for i in range(30)],
        "BBB": [50 - (i % 3) for i in range(30)],
    }
    instruments = book(
        growth, days=days, closes=closes, trades=[(0, "AAA", BUY, 80), (0, "BBB", BUY, 100)]
    )
    rule = rule_create(
        user=admin_user,
        name="VaR at most 20%",
        kind="max_var",
        limit=0.20,
        params={"min_history_days": 20},
    )
    return instruments, rule


def test_the_pre_trade_check_loads_each_return_history_once(var_book, growth, monkeypatch):
    instruments, rule = var_book
    calls: Counter[str] = Counter()

    def counting(name):
        original = getattr(frames, name)

        def counted(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        return counted

    for name in ("instrument_returns", "realised_returns"):
        monkeypatch.setattr(frames, name, counting(name))

    check = pretrade_check(portfolio=growth, instrument=instruments["AAA"], side=BUY, quantity=20)

    # Today's book and the proposed one are measured over the same loaded history.
    assert calls == {"instrument_returns": 1, "realised_returns": 1}
    (row,) = check.rows
    assert row.rule == rule
    assert row.before_value is not None and row.after_value is not None
    assert row.after_value != row.before_value


def test_the_pre_trade_before_column_is_todays_evaluation(var_book, growth):
    instruments, rule = var_book
    check = pretrade_check(portfolio=growth, instrument=instruments["BBB"], side=BUY, quantity=5)
    evaluate_now(portfolio=growth)
    stored = RuleResult.objects.get(rule=rule)
    (row,) = check.rows
    assert row.before_value == pytest.approx(stored.value)
    assert row.before_status == stored.status


@pytest.fixture
def alert(growth):
    rule = Rule.objects.create(name="Max 10%", kind="max_instrument_weight", limit=0.1)
    return Alert.objects.create(
        rule=rule,
        portfolio=growth,
        severity="breach",
        opened_on=dt.date(2024, 3, 4),
        last_observed_on=dt.date(2024, 3, 4),
        first_utilisation=1.2,
        last_utilisation=1.2,
        peak_utilisation=1.2,
    )


def test_decisions_are_taken_by_name_with_their_own_inputs(alert, olivia):
    alert = alert_decide(action="acknowledge", alert=alert, user=olivia, comment="Looking")
    assert alert.state == AlertState.ACKNOWLEDGED
    alert = alert_decide(action="waive", alert=alert, user=olivia, reason="Accepted by the board")
    assert (alert.state, alert.waiver_reason) == (AlertState.WAIVED, "Accepted by the board")
    alert = alert_decide(action="reopen", alert=alert, user=olivia, comment="Board changed mind")
    assert alert.state == AlertState.OPEN
    alert = alert_decide(action="assign", alert=alert, user=olivia, assignee=olivia)
    assert alert.assignee == olivia


def test_assigning_without_an_assignee_is_a_field_error(alert, olivia):
    with pytest.raises(ValidationError) as error:
        alert_decide(action="assign", alert=alert, user=olivia)
    assert error.value.message_dict == {"assignee": ["No such user."]}


def test_an_unknown_decision_is_a_programming_error(alert, olivia):
    with pytest.raises(ValueError, match="unknown alert action"):
        alert_decide(action="escalate", alert=alert, user=olivia)
