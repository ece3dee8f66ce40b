"""The 1940 Act rules worked by hand: the 75-5-10 test applies at acquisition
(§5(b)(1), §5(c)) and borrowings need 300 % asset coverage (§18(f)(1), §18(h)).

Total assets are 1,000 throughout, so 100 is 10 % and 50 is 5 % of them.
"""

import math

import pytest

from compliance.engine.holdings import apply_legs, reverse_legs
from compliance.engine.kinds import clean_params
from compliance.engine.rules import NO_BORROWINGS, classify_trades, evaluate_rules
from compliance.engine.specs import RuleSpec
from compliance.engine.templates import template_rules
from tests.compliance.engine.helpers import frame

UST = {"asset_class": "fixed_income", "is_government": True}


def diversified():
    return RuleSpec(
        rule_id=1,
        kind="diversified_fund",
        limit=0.75,
        warning_level=0.95,
        params=clean_params("diversified_fund", {}),
    )


def coverage_rule():
    return RuleSpec(rule_id=2, kind="min_asset_coverage", limit=3.0, params={})


def post_trade(holdings, legs, rule):
    """The evaluation's view of a day with trades: today's book (``holdings`` with
    ``legs`` applied) classified against the book without them."""
    now = apply_legs(holdings, legs)
    before = reverse_legs(now, legs)
    return classify_trades(evaluate_rules(now, [rule]), evaluate_rules(before, [rule])).iloc[0]


# --- 75-5-10 at acquisition -----------------------------------------------------

# BIG is one issuer at 300 of 1,000 (30 % > 5 %: outside the basket); the 700 of cash
# qualifies, so the basket is 700 / 1,000 = 70 % < 75 %.
DRIFTED = [("BIG", 300), ("CASH", 700)]


def test_a_drift_below_75_percent_restricts_acquisitions_and_is_no_breach():
    # No trades: prices alone took BIG to 30 %. §5(c): the fund remains diversified.
    result = classify_trades(evaluate_rules(frame(DRIFTED), [diversified()]), None).iloc[0]
    assert result.value == pytest.approx(0.70)
    assert result.utilisation == pytest.approx(0.75 / 0.70)
    assert result.status == "restricted"
    assert not bool(result.active)
    assert result.group == "BIG"


def test_a_purchase_of_a_large_issuer_that_worsens_the_shortfall_is_a_breach():
    # Buying NEW for 100 (10 % of total assets, > 5 %) with cash: outside the basket
    # 300 + 100 = 400, basket 1 − 400 / 1,000 = 60 % (was 70 %).
    result = post_trade(frame(DRIFTED), frame([("NEW", 100), ("CASH", -100)]), diversified())
    assert result.value == pytest.approx(0.60)
    assert result.utilisation == pytest.approx(0.75 / 0.60)
    assert result.status == "breach"
    assert bool(result.active)


def test_a_purchase_that_takes_a_complying_fund_below_75_percent_is_a_breach():
    # BIG 200 and cash 800: basket 80 %. Buying BIG for another 100 makes it 300:
    # basket 1 − 300 / 1,000 = 70 %, caused by the acquisition.
    result = post_trade(
        frame([("BIG", 200), ("CASH", 800)]), frame([("BIG", 100), ("CASH", -100)]), diversified()
    )
    assert result.value == pytest.approx(0.70)
    assert result.status == "breach"
    assert bool(result.active)


@pytest.mark.parametrize(
    "bought",
    [
        ("UST10", 100, UST),  # a government security qualifies outright
        ("SMALL", 50),  # an issuer at exactly 5 % of total assets qualifies
    ],
)
def test_a_qualifying_purchase_of_a_restricted_fund_is_allowed(bought):
    # Cash (qualifying) becomes a qualifying security: the basket stays at 70 %.
    identifier, value, *extra = bought
    legs = frame([(identifier, value, *extra), ("CASH", -value)])
    result = post_trade(frame(DRIFTED), legs, diversified())
    assert result.value == pytest.approx(0.70)
    assert result.status == "restricted"
    assert not bool(result.active)


def test_a_purchase_of_an_issuer_past_five_percent_is_not_qualifying():
    # SMALL at 50 (5 %) plus 1 more is 51 / 1,000 = 5.1 %: outside, basket 1 − 351 / 1,000.
    holdings = frame([("BIG", 300), ("SMALL", 50), ("CASH", 650)])
    result = post_trade(holdings, frame([("SMALL", 1), ("CASH", -1)]), diversified())
    assert result.value == pytest.approx(1 - 351 / 1000)
    assert result.status == "breach"


def test_trades_that_improve_the_shortfall_leave_the_fund_restricted_not_in_breach():
    # Sell 20 of BIG, buy 20 of a Treasury: outside 280, basket 1 − 280 / 1,000 = 72 %.
    legs = frame([("BIG", -20), ("UST10", 20, UST)])
    result = post_trade(frame(DRIFTED), legs, diversified())
    assert result.value == pytest.approx(0.72)
    assert result.status == "restricted"
    assert not bool(result.active)


def test_other_kinds_still_breach_by_market_moves():
    rule = RuleSpec(rule_id=3, kind="max_instrument_weight", limit=0.10, params={})
    result = classify_trades(evaluate_rules(frame(DRIFTED), [rule]), None).iloc[0]
    assert result.status == "breach"  # 30 % in one instrument, limit 10 %


# --- asset coverage of borrowings ------------------------------------------------

INVESTED = [("A", 400), ("B", 300), ("C", 300)]  # total assets 1,000


@pytest.mark.parametrize(
    ("cash", "coverage", "status"),
    [
        (-250, 4.00, "ok"),  # 1,000 / 250 = 400 % ≥ 300 %; utilisation 3 / 4 = 75 %
        (-400, 2.50, "breach"),  # 1,000 / 400 = 250 % < 300 %; utilisation 3 / 2.5 = 120 %
        (-1000 / 3, 3.00, "warning"),  # exactly 300 % complies (at the limit)
        (-300, 1000 / 300, "warning"),  # 333.3 %: utilisation 90 %, the warning level
    ],
)
def test_asset_coverage_of_borrowings(cash, coverage, status):
    result = evaluate_rules(frame([*INVESTED, ("CASH", cash)]), [coverage_rule()]).iloc[0]
    assert result.value == pytest.approx(coverage)
    assert result.utilisation == pytest.approx(3.0 / coverage)
    assert result.status == status
    assert result.group == "CASH"
    assert result.detail == pytest.approx(
        {"total_assets": 1000.0, "borrowings": -cash, "other_liabilities": 0.0}
    )


def test_liabilities_other_than_borrowings_reduce_the_covering_assets():
    # A short marked at −100 is a liability but no borrowing: (1,000 − 100) / 200 = 450 %.
    holdings = frame([*INVESTED, ("SHORT", -100), ("CASH", -200)])
    result = evaluate_rules(holdings, [coverage_rule()]).iloc[0]
    assert result.value == pytest.approx(4.5)
    assert result.status == "ok"


def test_without_borrowings_no_limit_applies():
    result = evaluate_rules(frame([*INVESTED, ("CASH", 50)]), [coverage_rule()]).iloc[0]
    assert math.isinf(result.value)
    assert result.utilisation == 0.0
    assert result.status == "ok"
    assert result.group == NO_BORROWINGS


def test_the_1940_act_template_has_the_300_percent_coverage_rule():
    rules = {definition.kind: definition for definition in template_rules("ica_1940_diversified")}
    coverage = rules["min_asset_coverage"]
    assert coverage.limit == 3.0
    assert coverage.cure_period_days == 3  # §18(f)(1): three days to restore it
    assert rules["diversified_fund"].limit == 0.75
