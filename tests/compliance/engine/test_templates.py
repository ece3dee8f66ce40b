"""Worked cases for every regulatory template at, just below and just above each
threshold. Net assets are 1,000 throughout, so 100 is 10 % and 50 is 5 %."""

import numpy as np
import pandas as pd
import pytest

from analytics.services.snapshots import risk as snapshot_risk
from compliance.engine.kinds import clean_params
from compliance.engine.risk import holdings_returns
from compliance.engine.rules import evaluate_rules
from compliance.engine.specs import RiskInputs, RuleSpec
from compliance.engine.templates import TEMPLATES, template_rules
from tests import backtest_history
from tests.compliance.engine.helpers import frame


def specs(template, **options):
    return [
        RuleSpec(
            rule_id=n,
            kind=d.kind,
            limit=d.limit,
            warning_level=d.warning_level,
            params=clean_params(d.kind, d.params),
        )
        for n, d in enumerate(template_rules(template, **options))
    ]


def outcome(holdings, template, **kwargs):
    result = evaluate_rules(holdings, specs(template), **kwargs)
    return {row.rule: row for row in result.itertuples()}


def with_cash(rows, total=1000.0):
    invested = sum(value for _, value, *_ in rows)
    return frame([*rows, ("CASH", total - invested)])


# --- UCITS 5/10/40 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("issuer_value", "status"),
    [(99.99, "warning"), (100.0, "warning"), (100.01, "breach"), (89.0, "ok")],
)
def test_ucits_ten_percent_per_issuer_boundary(issuer_value, status):
    result = outcome(with_cash([("A", issuer_value), ("B", 20)]), "ucits_5_10_40")
    assert result[0].value == pytest.approx(issuer_value / 1000)
    assert result[0].utilisation == pytest.approx(issuer_value / 1000 / 0.10)
    assert result[0].status == status
    assert result[0].group == "A"


def test_ucits_issuer_is_the_sum_of_its_instruments():
    # Two lines of one issuer, 60 + 45 = 10.5 %: each alone is fine, together a breach.
    holdings = with_cash([("A1", 60, {"issuer": "Acme"}), ("A2", 45, {"issuer": "Acme"})])
    result = outcome(holdings, "ucits_5_10_40")
    assert result[0].value == pytest.approx(0.105)
    assert result[0].status == "breach"
    assert result[0].group == "Acme"


def test_ucits_cash_is_not_an_issuer():
    result = outcome(with_cash([("A", 50)]), "ucits_5_10_40")  # 95 % cash
    assert result[0].value == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("fifth_issuer", "expected_total", "status"),
    [
        # Four issuers at 9.5 % = 38 %; a fifth at exactly 5 % is not "above 5 %".
        (50.0, 0.38, "warning"),
        # just above 5 %: it counts, and 38 % + 5.01 % = 43.01 % > 40 %.
        (50.1, 0.4301, "breach"),
        # just below 5 %: not counted.
        (49.9, 0.38, "warning"),
    ],
)
def test_ucits_five_percent_threshold_of_the_forty_percent_rule(
    fifth_issuer, expected_total, status
):
    rows = [(name, 95.0) for name in "ABCD"] + [("E", fifth_issuer)]
    result = outcome(with_cash(rows), "ucits_5_10_40")
    assert result[1].value == pytest.approx(expected_total)
    assert result[1].status == status


@pytest.mark.parametrize(
    ("value_each", "status"),
    [(80.0, "warning"), (79.9, "warning"), (80.1, "breach"), (70.0, "ok")],
)
def test_ucits_forty_percent_aggregate_boundary(value_each, status):
    # Five issuers of 8 % each = 40 % exactly: compliant at the limit.
    rows = [(name, value_each) for name in "ABCDE"]
    result = outcome(with_cash(rows), "ucits_5_10_40")
    assert result[1].value == pytest.approx(5 * value_each / 1000)
    assert result[1].status == status
    assert result[0].status == "ok"  # each issuer is well under 10 %


# --- 1940 Act 75-5-10 -----------------------------------------------------------


def test_ica_1940_basket_exactly_75_percent_complies():
    # 250 in issuers above 5 % (outside the basket) → qualifying 750 / 1000 = 75 %.
    rows = [("BIG1", 125), ("BIG2", 125)] + [(f"S{n}", 50) for n in range(10)]
    result = outcome(with_cash(rows), "ica_1940_diversified")
    assert result[0].value == pytest.approx(0.75)
    assert result[0].utilisation == pytest.approx(1.0)
    assert result[0].status == "warning"  # at the limit, within the 95 % warning level


@pytest.mark.parametrize(
    ("big_value", "qualifying", "status"),
    [(125.1, 0.7498, "restricted"), (124.9, 0.7502, "warning"), (100.0, 0.80, "ok")],
)
def test_ica_1940_basket_around_75_percent(big_value, qualifying, status):
    rows = [("BIG1", big_value), ("BIG2", big_value)] + [(f"S{n}", 40) for n in range(10)]
    holdings = with_cash(rows, total=1000.0)
    result = outcome(holdings, "ica_1940_diversified")
    total = 1000.0
    assert result[0].value == pytest.approx(1 - 2 * big_value / total, abs=1e-12)
    assert result[0].value == pytest.approx(qualifying, abs=1e-4)
    assert result[0].status == status


@pytest.mark.parametrize(("issuer_value", "qualifies"), [(50.0, True), (49.9, True), (50.1, False)])
def test_ica_1940_five_percent_issuer_test(issuer_value, qualifies):
    result = outcome(with_cash([("X", issuer_value)]), "ica_1940_diversified")
    expected = 1.0 if qualifies else 1.0 - issuer_value / 1000
    assert result[0].value == pytest.approx(expected)
    assert (result[0].group == "X") is not qualifies


@pytest.mark.parametrize(
    ("quantity", "qualifies"), [(100_000, True), (99_999, True), (100_001, False)]
)
def test_ica_1940_ten_percent_of_voting_securities(quantity, qualifies):
    # A 3 % position (qualifies on size) that is 10 % ± one share of the issuer's
    # 1,000,000 outstanding voting shares.
    holdings = with_cash([("V", 30, {"quantity": quantity, "shares_outstanding": 1_000_000.0})])
    result = outcome(holdings, "ica_1940_diversified")
    assert result[0].value == pytest.approx(1.0 if qualifies else 0.97)


def test_ica_1940_cash_government_and_funds_are_excluded_from_the_tests():
    holdings = frame(
        [
            ("CASH", 300),
            ("UST10", 300, {"asset_class": "fixed_income", "is_government": True}),
            ("ETF", 300, {"asset_class": "fund"}),
            ("A", 100),  # 10 % of one issuer: outside the basket
        ]
    )
    result = outcome(holdings, "ica_1940_diversified")
    assert result[0].value == pytest.approx(0.90)
    assert result[0].group == "A"


def test_ica_1940_uses_total_assets_not_net_assets():
    # A 200 short does not shrink the denominator: total assets are the 1,000 of longs.
    holdings = frame([("CASH", 940), ("A", 60), ("SHORT", -200)])
    result = outcome(holdings, "ica_1940_diversified")
    assert result[0].value == pytest.approx(1 - 60 / 1000)


# --- SEC Rule 18f-4 -------------------------------------------------------------


def crafted_returns(scale, days=756, seed=7):
    """A zero-mean return history whose 1-day 99 % historical VaR is known: the worst
    1 % of 756 days (percentile rank 7.55) are exactly -scale. Twenty days of -scale
    and twenty of +scale, and the rest small moves in opposite pairs, so the mean is
    0 and the 20-day VaR is the 1-day VaR × √20 with no drift term."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.0, 0.5, (days - 40) // 2) * scale / 10
    base = np.concatenate([np.full(20, -scale), np.full(20, scale), noise, -noise])
    return pd.Series(base, index=pd.bdate_range("2020-01-01", periods=days))


def var_20_day(scale):
    return scale * np.sqrt(20)


@pytest.mark.parametrize(
    ("ratio", "status"), [(2.0, "warning"), (1.999, "warning"), (2.001, "breach"), (1.5, "ok")]
)
def test_18f4_relative_var_at_most_200_percent_of_the_reference(ratio, status):
    reference = crafted_returns(0.01)
    portfolio = crafted_returns(0.01 * ratio, seed=8)
    risk = RiskInputs(
        returns=pd.DataFrame({1: portfolio.to_numpy()}, index=reference.index),
        reference_returns=pd.DataFrame({"benchmark:REF": reference}),
        reference_of={(0, 1): "benchmark:REF"},
    )
    result = outcome(frame([("CASH", 1000)]), "sec_18f4_relative", risk=risk)
    assert result[0].value == pytest.approx(ratio)
    assert result[0].detail["var"] == pytest.approx(var_20_day(0.01 * ratio))
    assert result[0].detail["reference_var"] == pytest.approx(var_20_day(0.01))
    assert result[0].status == status
    assert result[0].group == "benchmark:REF"


@pytest.mark.parametrize(
    ("var_20", "status"), [(0.20, "warning"), (0.1999, "warning"), (0.2001, "breach"), (0.1, "ok")]
)
def test_18f4_absolute_var_at_most_20_percent_of_net_assets(var_20, status):
    returns = crafted_returns(var_20 / np.sqrt(20))
    risk = RiskInputs(returns=pd.DataFrame({1: returns}))
    result = outcome(frame([("CASH", 1000)]), "sec_18f4_absolute", risk=risk)
    assert result[0].value == pytest.approx(var_20)
    assert result[0].status == status


@pytest.mark.parametrize(("days", "has_value"), [(756, True), (755, False)])
def test_18f4_needs_three_years_of_history(days, has_value):
    returns = crafted_returns(0.01).iloc[-days:]
    risk = RiskInputs(returns=pd.DataFrame({1: returns}))
    result = outcome(frame([("CASH", 1000)]), "sec_18f4_absolute", risk=risk)
    assert (result[0].status != "no_value") is has_value
    if not has_value:
        assert "756" in result[0].detail["reason"]


def test_18f4_backtest_breaches_at_six_exceptions_in_250_days():
    # The hand-built history of tests.backtest_history: six losses beyond
    # the 250-day 99 % VaR among the last 250 days; the limit is 4.
    realised = backtest_history.backtest_frame(1)
    risk = RiskInputs(returns=realised, realised=realised)
    result = outcome(frame([("CASH", 1000)]), "sec_18f4_absolute", risk=risk)
    backtest = result[1]
    assert backtest.value == 6
    assert backtest.utilisation == pytest.approx(6 / 4)
    assert backtest.status == "breach"
    assert backtest.detail["observations"] == 250
    assert backtest.detail["window"] == 250
    assert backtest.detail["zone"] == "yellow"  # 6 exceptions in 250 at 99 %: Basel yellow
    assert backtest.detail["first"] == realised.index[250].date().isoformat()
    assert backtest.detail["last"] == realised.index[-1].date().isoformat()


def test_18f4_backtest_at_four_exceptions_is_at_the_limit():
    realised = backtest_history.backtest_frame(1, exceptions=4)
    risk = RiskInputs(returns=realised, realised=realised)
    result = outcome(frame([("CASH", 1000)]), "sec_18f4_absolute", risk=risk)
    assert result[1].value == 4
    assert result[1].status == "warning"
    assert result[1].detail["zone"] == "green"


def test_18f4_backtest_reads_each_portfolios_own_calendar():
    # A second portfolio valued every calendar day makes NaN weekend rows in the
    # first one's column: dates not on its calendar, not gaps in its series.
    first = backtest_history.backtest_frame(1)
    calm = backtest_history.backtest_returns(exceptions=0)
    other = pd.DataFrame({2: calm}, index=pd.date_range("2021-01-04", periods=len(calm)))
    realised = pd.concat([first, other], axis=1, sort=True)
    assert realised[1].isna().any()
    risk = RiskInputs(returns=realised, realised=realised)
    holdings = pd.concat([frame([("CASH", 1000)], portfolio=p) for p in (1, 2)])
    result = {
        (row.portfolio, row.rule): row
        for row in evaluate_rules(holdings, specs("sec_18f4_absolute"), risk=risk).itertuples()
    }
    assert result[(1, 1)].value == 6
    assert result[(2, 1)].value == 0


def test_18f4_backtest_needs_500_measured_returns():
    realised = backtest_history.backtest_frame(1).iloc[1:]
    risk = RiskInputs(returns=realised, realised=realised)
    result = outcome(frame([("CASH", 1000)]), "sec_18f4_absolute", risk=risk)
    assert result[1].status == "no_value"
    assert "499 measured daily returns, fewer than the 500" in result[1].detail["reason"]


def test_18f4_backtest_uses_the_risk_tabs_window_and_observations():
    params = next(d for d in TEMPLATES["sec_18f4_absolute"].rules if d.kind == "var_backtest")
    assert params.params["min_history_days"] == snapshot_risk.BACKTEST_WINDOW
    assert params.params["observations"] == snapshot_risk.BACKTEST_DAYS
    assert params.params["confidence"] == snapshot_risk.BACKTEST_CONFIDENCE


def test_hypothetical_returns_of_current_holdings():
    instrument_returns = pd.DataFrame(
        {10: [0.01, -0.02, np.nan], 11: [0.03, 0.00, 0.01], 12: [np.nan, np.nan, np.nan]}
    )
    weights = pd.DataFrame({10: [0.5, 0.0], 11: [0.5, 1.0]}, index=[1, 2])
    returns = holdings_returns(weights, instrument_returns)
    assert returns[1].iloc[:2].tolist() == pytest.approx([0.02, -0.01])
    assert np.isnan(returns[1].iloc[2])  # a held instrument has no return that day
    assert returns[2].tolist() == pytest.approx([0.03, 0.0, 0.01])  # 10 not held by 2


def test_every_template_has_its_thresholds_in_its_help_text():
    assert "10%" in TEMPLATES["ucits_5_10_40"].help_text
    assert "5%" in TEMPLATES["ucits_5_10_40"].help_text
    assert "40%" in TEMPLATES["ucits_5_10_40"].help_text
    assert "75%" in TEMPLATES["ica_1940_diversified"].help_text
    assert "200%" in TEMPLATES["sec_18f4_relative"].help_text
    assert "20%" in TEMPLATES["sec_18f4_absolute"].help_text
