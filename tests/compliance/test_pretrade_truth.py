"""The pre-trade check tells what the trade does, against worked books.

The book: a subscription of 100,000 USD; AAA (Information Technology) and BBB
(Energy) bought at 100 and 50. Net assets stay 100,000 through every trade (a
trade moves value between a security and cash), so weights are value ÷ 100,000.
"""

import pytest
from django.core.exceptions import ValidationError

from analytics.models import Instrument
from compliance.engine.pretrade import Effect
from compliance.models import TradingPermission
from compliance.services.evaluation.pretrade import pretrade_check
from compliance.services.rules import rule_create, trading_permission_set
from tests.compliance.conftest import BUY, SELL, book, business_days


@pytest.fixture
def tech_heavy(growth):
    """AAA 600 × 100 = 60,000 (60 % of net assets), BBB 100 × 50 = 5,000 (5 %)."""
    days = business_days(2)
    instruments = book(
        growth,
        days=days,
        closes={"AAA": [100, 100], "BBB": [50, 50]},
        trades=[(0, "AAA", BUY, 600), (0, "BBB", BUY, 100)],
    )
    Instrument.objects.filter(identifier="BBB").update(
        sector="Energy", country="GB", issuer="BBB plc"
    )
    return {ticker: Instrument.objects.get(id=i.id) for ticker, i in instruments.items()}


def test_a_one_share_buy_of_an_unrelated_name_is_not_a_breach_it_would_cause(
    growth, admin_user, tech_heavy
):
    # Technology is 60 % against a 30 % sector limit: 200 %, before and after.
    rule_create(
        user=admin_user,
        name="At most 30% per sector",
        kind="max_group_weight",
        limit=0.30,
        params={"attribute": "sector"},
    )
    check = pretrade_check(
        portfolio=growth, instrument=tech_heavy["BBB"], side=BUY, quantity=1, price=50
    )
    [row] = check.rows
    assert row.before_utilisation == pytest.approx(2.0)
    assert row.after_utilisation == pytest.approx(2.0)
    assert row.effect == Effect.UNCHANGED
    assert check.breaches == [] and check.verdict == "warning"
    assert "would breach" not in check.headline.lower()
    assert check.headline == "Allowed: 1 existing breach unchanged by the trade"
    # The trade's own sector is named: Energy 5 % → 5.05 % (5,050 / 100,000).
    assert row.own_group.group == "Energy"
    assert (row.own_group.before, row.own_group.after) == pytest.approx((0.05, 0.0505))


def test_every_group_of_the_instrument_is_shown(growth, admin_user, tech_heavy):
    check = pretrade_check(
        portfolio=growth, instrument=tech_heavy["BBB"], side=BUY, quantity=1, price=50
    )
    groups = {(g.attribute, g.group): (g.before, g.after) for g in check.groups}
    assert set(groups) == {
        ("instrument", "BBB"),
        ("issuer", "BBB plc"),
        ("sector", "Energy"),
        ("country", "GB"),
        ("currency", "USD"),
    }
    # USD: AAA 60,000 + BBB 5,000 + cash 35,000 = all of net assets, before and after.
    assert groups[("currency", "USD")] == pytest.approx((1.0, 1.0))
    assert groups[("country", "GB")] == pytest.approx((0.05, 0.0505))


def test_buying_more_of_the_breaching_sector_worsens_it_and_is_refused(
    growth, admin_user, tech_heavy
):
    rule_create(
        user=admin_user,
        name="At most 30% per sector",
        kind="max_group_weight",
        limit=0.30,
        params={"attribute": "sector"},
    )
    # 10 AAA at 100: Technology 61,000 / 100,000 = 61 %, 203.3 % of the limit.
    check = pretrade_check(
        portfolio=growth, instrument=tech_heavy["AAA"], side=BUY, quantity=10, price=100
    )
    [row] = check.rows
    assert row.after_utilisation == pytest.approx(0.61 / 0.30)
    assert row.effect == Effect.WORSENS and row.refused
    assert check.verdict == "breach"
    assert check.headline == "Refused: worsens 1 existing breach"


def test_a_sale_that_cuts_a_breach_from_292_to_160_percent_reduces_it(growth, admin_user):
    # AAA 730 × 100 = 73 % of net assets against 25 %: 292 %. Selling 330 leaves
    # 400 × 100 = 40 %: 160 %.
    days = business_days(2)
    instruments = book(growth, days=days, closes={"AAA": [100, 100]}, trades=[(0, "AAA", BUY, 730)])
    rule_create(
        user=admin_user,
        name="At most 25% per instrument",
        kind="max_instrument_weight",
        limit=0.25,
    )
    check = pretrade_check(
        portfolio=growth, instrument=instruments["AAA"], side=SELL, quantity=330, price=100
    )
    [row] = check.rows
    assert row.before_utilisation == pytest.approx(2.92)
    assert row.after_utilisation == pytest.approx(1.60)
    assert row.effect == Effect.REDUCES
    assert row.effect_label == "Reduces an existing breach"
    assert check.breaches == []
    assert check.headline == "Allowed: reduces 1 existing breach"


def test_selling_more_than_the_portfolio_holds_is_refused(growth, admin_user, tech_heavy):
    rule_create(
        user=admin_user, name="At most 25% per instrument", kind="max_instrument_weight", limit=0.25
    )
    with pytest.raises(ValidationError) as error:
        pretrade_check(portfolio=growth, instrument=tech_heavy["AAA"], side=SELL, quantity=1_000)
    [message] = error.value.message_dict["quantity"]
    assert "holds 600 AAA" in message and "400 short" in message
    assert "no short-selling permission" in message
    # Selling all 600 is fine: the position closes.
    whole = pretrade_check(portfolio=growth, instrument=tech_heavy["AAA"], side=SELL, quantity=600)
    assert whole.rows[0].after_utilisation == pytest.approx(0.05 / 0.25)  # BBB is left


def test_a_portfolio_allowed_to_sell_short_gets_the_short_evaluated(growth, admin_user, tech_heavy):
    rule_create(
        user=admin_user, name="At most 25% per instrument", kind="max_instrument_weight", limit=0.25
    )
    trading_permission_set(user=admin_user, portfolio=growth, short_selling=True)
    assert TradingPermission.objects.get(portfolio=growth).short_selling
    # 1,000 sold at 100: AAA −400 × 100 = −40,000, a 40 % short; 160 % of the limit.
    check = pretrade_check(
        portfolio=growth, instrument=tech_heavy["AAA"], side=SELL, quantity=1_000, price=100
    )
    assert check.rows[0].after_utilisation == pytest.approx(1.6)
    assert check.rows[0].effect == Effect.REDUCES  # from 60 % long (240 %) to 40 % short


def test_the_pre_trade_api_reports_effects_and_refuses_an_oversell(
    client, growth, admin_user, tech_heavy
):
    rule_create(
        user=admin_user,
        name="At most 30% per sector",
        kind="max_group_weight",
        limit=0.30,
        params={"attribute": "sector"},
    )
    client.force_login(admin_user)
    url = "/api/compliance/pre-trade-check/"
    body = {"portfolio": growth.id, "instrument": "BBB", "side": "buy", "quantity": "1"}
    data = client.post(url, body, content_type="application/json").json()
    assert data["verdict"] == "warning"
    assert data["rows"][0]["effect"] == "unchanged"
    assert data["rows"][0]["refused"] is False
    assert {g["attribute"] for g in data["groups"]} >= {"sector", "issuer", "country", "currency"}
    oversell = client.post(
        url,
        {**body, "instrument": "AAA", "side": "sell", "quantity": "601"},
        content_type="application/json",
    )
    assert oversell.status_code == 400
    assert "short-selling permission" in str(oversell.json())
