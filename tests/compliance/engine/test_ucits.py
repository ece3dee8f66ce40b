"""UCITS Directive 2009/65/EC, Art. 52 and 54, worked by hand. Net assets are
1,000 throughout (the rest of the fund is cash), so 100 is 10 % and 50 is 5 %."""

import pandas as pd
import pytest

from compliance.engine.kinds import RuleParameterError, clean_params
from compliance.engine.rules import evaluate_rules
from compliance.engine.specs import RuleSpec
from compliance.engine.templates import template_rules

NAV = 1000.0


def holding(identifier, value, *, issuer=None, group="", issuer_type="corporate", sector="Banks"):
    return {
        "portfolio": 1,
        "instrument": abs(hash(identifier)) % 10**9,
        "identifier": identifier,
        "market_value_base": float(value),
        "quantity": float(value),
        "issuer": issuer or identifier,
        "issuer_group": group,
        "issuer_type": issuer_type,
        "sector": sector,
        "country": "DE",
        "asset_class": "fixed_income",
        "currency": "EUR",
        "shares_outstanding": float("nan"),
        "is_government": issuer_type == "government",
    }


def fund(*holdings):
    invested = sum(h["market_value_base"] for h in holdings)
    cash = {
        **holding("CASH-EUR", NAV - invested, issuer="Cash", sector="Cash"),
        "asset_class": "cash",
    }
    return pd.DataFrame([*holdings, cash])


def outcome(holdings, template="ucits_5_10_40"):
    """Per rule name: (value, status)."""
    definitions = template_rules(template)
    rules = [
        RuleSpec(rule_id=n, kind=d.kind, limit=d.limit, params=clean_params(d.kind, d.params))
        for n, d in enumerate(definitions)
    ]
    result = evaluate_rules(holdings, rules)
    return {definitions[row.rule].name: (row.value, row.status) for row in result.itertuples()}


BODY_10 = "UCITS: at most 10% of net assets per issuer"
BASKET_40 = "UCITS: issuers above 5% together at most 40%"
GOVERNMENT_35 = "UCITS: at most 35% per government or supranational issuer"
COVERED_25 = "UCITS: at most 25% per covered-bond issuer"
SIX_ISSUES = "UCITS art. 54: at least six government issues"
ISSUE_30 = "UCITS art. 54: at most 30% of net assets per government issue"


def test_two_companies_of_one_group_are_one_body_for_the_10_percent_limit():
    # Alpha Bank 60 (6 %) and Beta Bank 50 (5 %): each alone is under 10 %, but both
    # are in the Alpha group for consolidated accounts, one body of 110 = 11 % > 10 %.
    alone = outcome(fund(holding("ALPHA", 60), holding("BETA", 50)))
    grouped = outcome(
        fund(holding("ALPHA", 60, group="Alpha Group"), holding("BETA", 50, group="Alpha Group"))
    )
    assert alone[BODY_10] == (pytest.approx(0.06), "ok")
    assert grouped[BODY_10] == (pytest.approx(0.11), "breach")


def test_group_members_counted_as_one_body_fill_the_40_percent_basket():
    # Four bodies of 90 (9 % each, above 5 %): 4 × 9 % = 36 % ≤ 40 %. Two more issuers
    # of 30 (3 % each) are under 5 % alone and stay out of the basket; as one group
    # they are one body of 6 % > 5 %, so the basket is 36 % + 6 % = 42 % > 40 %.
    large = [holding(name, 90) for name in ("W", "X", "Y", "Z")]
    alone = outcome(fund(*large, holding("M1", 30), holding("M2", 30)))
    grouped = outcome(
        fund(*large, holding("M1", 30, group="M Group"), holding("M2", 30, group="M Group"))
    )
    # 36 % is 36 / 40 = 90 % of the limit: the warning level, not a breach.
    assert alone[BASKET_40] == (pytest.approx(0.36), "warning")
    assert grouped[BASKET_40] == (pytest.approx(0.42), "breach")


def test_a_20_percent_bund_passes_where_a_20_percent_corporate_bond_breaches():
    # Art. 52(3): a Member State's issues may reach 35 % (20 % uses 20/35 of it) and
    # are outside the 10 % limit and the 40 % basket; a company at 20 % is 2 × 10 %.
    bund = outcome(
        fund(holding("DBR", 200, issuer="Federal Republic of Germany", issuer_type="government"))
    )
    corporate = outcome(fund(holding("ACME", 200)))
    assert bund[GOVERNMENT_35] == (pytest.approx(0.20), "ok")
    assert bund[BODY_10] == (0.0, "ok")
    assert bund[BASKET_40] == (0.0, "ok")
    assert all(status == "ok" for _, status in bund.values())
    assert corporate[BODY_10] == (pytest.approx(0.20), "breach")


def test_a_government_issuer_above_35_percent_breaches():
    # 360 = 36 % > 35 %.
    result = outcome(
        fund(holding("DBR", 360, issuer="Federal Republic of Germany", issuer_type="government"))
    )
    assert result[GOVERNMENT_35] == (pytest.approx(0.36), "breach")


def test_a_26_percent_covered_bond_breaches_its_25_percent_limit():
    # Art. 52(4): 260 = 26 % > 25 %; covered bonds are outside the 10 % and 40 % rules.
    result = outcome(
        fund(holding("PFB", 260, issuer="Pfandbrief Bank", issuer_type="covered_bond"))
    )
    assert result[COVERED_25] == (pytest.approx(0.26), "breach")
    assert result[BODY_10] == (0.0, "ok")
    assert result[BASKET_40] == (0.0, "ok")


def _bunds(*values):
    return fund(
        *(
            holding(
                f"DBR-{n}", value, issuer="Federal Republic of Germany", issuer_type="government"
            )
            for n, value in enumerate(values)
        )
    )


def test_article_54_six_government_issues_of_a_sixth_each_pass():
    # 1,000 / 6 = 166.67 per issue = 16.67 % ≤ 30 %; six issues ≥ 6; the issuer holds
    # 100 %, allowed by the derogation but not by Art. 52(3)'s 35 %.
    holdings = _bunds(*[NAV / 6] * 6)
    derogation = outcome(holdings, "ucits_government_100")
    # Exactly six is the minimum: 6 / 6 = 100 % utilised, a warning, not a breach.
    assert derogation[SIX_ISSUES] == (6.0, "warning")
    assert derogation[ISSUE_30] == (pytest.approx(1 / 6), "ok")
    assert GOVERNMENT_35 not in derogation
    assert all(status != "breach" for _, status in derogation.values())
    assert outcome(holdings)[GOVERNMENT_35] == (pytest.approx(1.0), "breach")


def test_article_54_one_issue_at_31_percent_breaches():
    # 310 = 31 % > 30 %; the other five share 690, 138 = 13.8 % each.
    result = outcome(_bunds(310, *[138] * 5), "ucits_government_100")
    assert result[ISSUE_30] == (pytest.approx(0.31), "breach")
    assert result[SIX_ISSUES] == (6.0, "warning")


def test_article_54_five_issues_are_too_few():
    # 200 × 5 = 1,000: five issues < 6 (each 20 % is within 30 %).
    result = outcome(_bunds(*[200] * 5), "ucits_government_100")
    assert result[SIX_ISSUES] == (5.0, "breach")


def test_a_sector_rule_can_leave_government_debt_out():
    # Bund 155.5 (sector Government) and a bank of 100: over corporate and covered-bond
    # issues only, the largest sector is Banks at 10 %, not Government at 15.55 %.
    holdings = fund(
        holding("DBR", 155.5, issuer_type="government", sector="Government"),
        holding("BANK", 100, sector="Banks"),
    )
    params = clean_params(
        "max_group_weight",
        {"attribute": "sector", "issuer_types": ["corporate", "covered_bond"]},
    )
    row = evaluate_rules(
        holdings, [RuleSpec(rule_id=1, kind="max_group_weight", limit=0.30, params=params)]
    ).iloc[0]
    assert (row.value, row.group) == (pytest.approx(0.10), "Banks")


def test_issuer_types_are_checked():
    with pytest.raises(RuleParameterError) as error:
        clean_params("max_group_weight", {"attribute": "issuer", "issuer_types": ["sovereign"]})
    assert "issuer_types" in error.value.errors
