"""Every rule kind on hand-computed holdings, several portfolios at once."""

import numpy as np
import pandas as pd
import pytest

from compliance.engine.holdings import apply_legs, reverse_legs
from compliance.engine.kinds import RuleParameterError, clean_params
from compliance.engine.rules import classify_active, evaluate_rules
from compliance.engine.specs import RuleSpec
from tests.compliance.engine.helpers import frame, instrument_id


def rule(kind, limit, rule_id=1, warning_level=0.9, portfolios=None, **params):
    return RuleSpec(
        rule_id=rule_id,
        kind=kind,
        limit=limit,
        warning_level=warning_level,
        params=clean_params(kind, params),
        portfolios=portfolios,
    )


def two_portfolios():
    first = frame(
        [
            ("AAPL", 200, {"sector": "Technology", "country": "US", "currency": "USD"}),
            ("SAP", 150, {"sector": "Technology", "country": "DE", "currency": "EUR"}),
            ("XOM", 100, {"sector": "Energy", "country": "US", "currency": "USD"}),
            ("CASH", 550),
        ],
        portfolio=1,
    )
    second = frame(
        [
            ("BHP", 300, {"sector": "Materials", "country": "AU", "currency": "AUD"}),
            ("SHORT", -100, {"sector": "Technology"}),
            ("CASH", 800),
        ],
        portfolio=2,
    )
    return pd.concat([first, second], ignore_index=True)


def by_portfolio(result):
    return {row.portfolio: row for row in result.itertuples()}


def test_max_instrument_weight_per_portfolio_ignores_cash():
    result = by_portfolio(evaluate_rules(two_portfolios(), [rule("max_instrument_weight", 0.25)]))
    assert result[1].value == pytest.approx(0.20) and result[1].group == "AAPL"
    assert result[1].status == "ok"  # 0.8 utilisation < 0.9
    assert result[2].value == pytest.approx(0.30) and result[2].status == "breach"


def test_max_sector_weight_and_one_named_sector():
    holdings = two_portfolios()
    every = by_portfolio(
        evaluate_rules(holdings, [rule("max_group_weight", 0.3, attribute="sector")])
    )
    assert every[1].group == "Technology" and every[1].value == pytest.approx(0.35)
    assert every[1].status == "breach"
    assert every[2].group == "Materials" and every[2].value == pytest.approx(0.3)
    energy = by_portfolio(
        evaluate_rules(
            holdings, [rule("max_group_weight", 0.1, attribute="sector", group="Energy")]
        )
    )
    assert energy[1].value == pytest.approx(0.10) and energy[1].status == "warning"
    assert energy[2].value == pytest.approx(0.0) and energy[2].status == "ok"


@pytest.mark.parametrize(
    ("attribute", "group", "first", "second"),
    [
        ("country", "US", 0.30, -0.10),  # the short is a US name
        ("currency", "EUR", 0.15, 0.0),
        ("asset_class", "equity", 0.45, 0.20),
        ("issuer", "BHP", 0.0, 0.30),
    ],
)
def test_min_weight_of_a_group(attribute, group, first, second):
    result = by_portfolio(
        evaluate_rules(
            two_portfolios(), [rule("min_group_weight", 0.2, attribute=attribute, group=group)]
        )
    )
    assert result[1].value == pytest.approx(first)
    assert result[2].value == pytest.approx(second)
    for row in result.values():
        expected = np.inf if row.value <= 0 else 0.2 / row.value
        assert row.utilisation == pytest.approx(expected)
        assert row.status == (
            "breach" if row.value < 0.2 else "ok" if row.value > 0.2 / 0.9 else "warning"
        )


def test_holdings_counts():
    holdings = two_portfolios()
    most = by_portfolio(evaluate_rules(holdings, [rule("max_holdings", 2)]))
    assert (most[1].value, most[1].status) == (3, "breach")
    assert (most[2].value, most[2].status) == (2, "warning")
    least = by_portfolio(evaluate_rules(holdings, [rule("min_holdings", 3)]))
    assert least[1].status == "warning"  # 3 ÷ 3 = 1: at the minimum
    assert least[2].utilisation == pytest.approx(1.5) and least[2].status == "breach"


def test_restricted_list_may_not_hold():
    result = by_portfolio(
        evaluate_rules(two_portfolios(), [rule("restricted_list", 0, identifiers=["SAP", "BHP"])])
    )
    assert result[1].value == pytest.approx(0.15) and result[1].group == "SAP"
    assert result[1].status == "breach" and np.isinf(result[1].utilisation)
    assert result[2].group == "BHP" and result[2].status == "breach"


def test_restricted_list_may_not_buy_allows_holding_and_selling():
    holdings = two_portfolios()
    trades = pd.DataFrame(
        {
            "portfolio": [1, 2],
            "instrument": [instrument_id("SAP"), instrument_id("BHP")],
            "identifier": ["SAP", "BHP"],
            "issuer": ["SAP", "BHP"],
            "value_base": [50.0, -100.0],  # 1 buys SAP, 2 sells BHP
        }
    )
    restricted = rule("restricted_list", 0, identifiers=["SAP", "BHP"], mode="buy")
    result = by_portfolio(evaluate_rules(holdings, [restricted], trades=trades))
    assert result[1].status == "breach" and result[1].value == pytest.approx(0.05)
    assert result[2].status == "ok" and result[2].value == 0
    assert by_portfolio(evaluate_rules(holdings, [restricted]))[1].status == "ok"


def test_watch_list_warns_but_never_breaches():
    result = by_portfolio(
        evaluate_rules(two_portfolios(), [rule("watch_list", 0, issuers=["XOM"])])
    )
    assert result[1].status == "warning"
    assert result[2].status == "ok"


def test_leverage_and_cash():
    holdings = two_portfolios()
    gross = by_portfolio(evaluate_rules(holdings, [rule("max_gross_leverage", 0.4)]))
    assert gross[1].value == pytest.approx(0.45) and gross[2].value == pytest.approx(0.40)
    assert gross[1].status == "breach" and gross[2].status == "warning"
    net = by_portfolio(evaluate_rules(holdings, [rule("max_net_leverage", 1.0)]))
    assert net[2].value == pytest.approx(0.20)
    cash = by_portfolio(evaluate_rules(holdings, [rule("min_cash", 0.6)]))
    assert cash[1].value == pytest.approx(0.55) and cash[1].status == "breach"
    assert cash[2].value == pytest.approx(0.80) and cash[2].status == "ok"


def test_scope_limits_the_portfolios_reported():
    result = evaluate_rules(two_portfolios(), [rule("min_cash", 0.1, portfolios=(2, 3))])
    assert sorted(result["portfolio"]) == [2]  # 3 holds nothing and was not listed


def test_a_portfolio_without_positive_net_assets_has_no_value():
    holdings = frame([("A", 100), ("CASH", -100)], portfolio=5)
    result = evaluate_rules(holdings, [rule("max_instrument_weight", 0.1)])
    assert result.loc[0, "status"] == "no_value"


def test_missing_market_value_is_an_error_not_a_zero():
    holdings = frame([("A", 100)])
    holdings.loc[0, "market_value_base"] = np.nan
    with pytest.raises(ValueError, match="market value"):
        evaluate_rules(holdings, [rule("min_cash", 0.1)])


def test_bad_parameters_name_every_field():
    with pytest.raises(RuleParameterError) as error:
        clean_params("max_group_weight", {"attribute": "colour", "bogus": 1})
    assert set(error.value.errors) == {"attribute", "bogus"}
    with pytest.raises(RuleParameterError) as error:
        clean_params("restricted_list", {})
    assert "identifiers" in error.value.errors
    with pytest.raises(RuleParameterError):
        clean_params("max_var", {"confidence": "high"})
    assert clean_params("max_var", {})["horizon_days"] == 20


def test_trade_legs_apply_and_reverse():
    holdings = frame([("A", 100), ("CASH", 900)])
    buy = frame([("A", 50), ("CASH", -50)])
    after = apply_legs(holdings, buy)
    assert after.set_index("identifier")["market_value_base"].to_dict() == {"A": 150, "CASH": 850}
    assert reverse_legs(after, buy).set_index("identifier")["market_value_base"].to_dict() == {
        "A": 100,
        "CASH": 900,
    }
    sell_all = frame([("A", -100), ("CASH", 100)])
    assert list(apply_legs(holdings, sell_all)["identifier"]) == ["CASH"]


def test_active_breach_is_one_the_trades_caused():
    limit = rule("max_instrument_weight", 0.10)
    before = frame([("A", 80), ("CASH", 920)])
    after = frame([("A", 120), ("CASH", 880)])
    now = evaluate_rules(after, [limit])
    assert classify_active(now, evaluate_rules(before, [limit])).tolist() == [True]
    # The market took it there: no trades, so the holdings "before trades" are today's.
    assert classify_active(now, now).tolist() == [False]
    # A sale that reduces an existing breach is not active.
    reduced = evaluate_rules(frame([("A", 110), ("CASH", 890)]), [limit])
    assert classify_active(reduced, now).tolist() == [False]
