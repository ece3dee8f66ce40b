"""The types the holdings rules and the VaR rules share: specs, the kind catalog and values."""

import numpy as np
import pandas as pd

from compliance.engine.kinds import KINDS, Direction, RuleKind, clean_params
from compliance.engine.risk import risk_rule_values
from compliance.engine.specs import RiskInputs, RuleSpec, RuleValues


def test_every_rule_kind_is_in_the_catalog_with_a_direction():
    assert set(KINDS) == set(RuleKind)
    assert {info.direction for info in KINDS.values()} == {Direction.MAXIMUM, Direction.MINIMUM}


def test_a_spec_takes_its_direction_from_the_catalog():
    maximum = RuleSpec(rule_id=1, kind="max_holdings", limit=50)
    minimum = RuleSpec(rule_id=2, kind="min_cash", limit=0.02)

    assert maximum.direction is Direction.MAXIMUM
    assert minimum.direction is Direction.MINIMUM


def test_values_without_group_or_detail_leave_them_out():
    values = RuleValues(value=np.array([0.1, np.nan]))

    assert values.group is None
    assert values.detail is None


def test_a_var_rule_without_history_gives_values_with_the_reason():
    params = clean_params("max_var", {"min_history_days": 20})
    rule = RuleSpec(rule_id=7, kind="max_var", limit=0.2, params=params)
    portfolios = np.array([1, 2])

    values = risk_rule_values(rule, portfolios, RiskInputs(returns=None))

    assert np.isnan(values.value).all()
    assert values.detail == [{"reason": "no return history"}] * 2


def test_a_var_rule_reads_its_inputs_per_portfolio():
    # 20 daily returns of -1 %, ..., -20 % for portfolio 1 and twice those for portfolio 2:
    # the historical 95 % one-day VaR is minus the linear 5th percentile of the window,
    # -(−0.20 + 0.95 × (−0.19 − (−0.20))) = 0.1905, and 0.381 for twice the losses;
    # a one-day horizon leaves it unscaled.
    losses = -np.arange(1, 21) / 100
    dates = pd.bdate_range("2024-01-01", periods=20)
    returns = pd.DataFrame({1: losses, 2: 2 * losses}, index=dates)
    params = clean_params(
        "max_var", {"min_history_days": 20, "confidence": 0.95, "horizon_days": 1}
    )
    rule = RuleSpec(rule_id=7, kind="max_var", limit=0.2, params=params)

    values = risk_rule_values(rule, np.array([1, 2]), RiskInputs(returns=returns))

    np.testing.assert_allclose(values.value, [0.1905, 0.381])
    assert values.detail[0]["var"] == values.value[0]


def test_a_multi_day_var_rule_scales_the_loss_beyond_the_mean_by_root_time_and_the_drift_by_time():
    # Portfolio 1 loses 1 %, ..., 20 % (mean μ = −10.5 %); portfolio 2 gains 29 %, ..., 10 %
    # (μ = +19.5 %). Both have the same one-day loss beyond the mean at the 5th percentile:
    # 1: VaR₁ = 0.1905, so 0.1905 + μ = 0.0855; 2: VaR₁ = −(0.10 + 0.95 × 0.01) = −0.1095,
    # so −0.1095 + 0.195 = 0.0855. Over h = 4 days, (VaR₁ + μ)·√4 − 4·μ:
    # 1: 0.0855 × 2 + 0.42 = 0.591 (a negative drift adds to the loss);
    # 2: 0.0855 × 2 − 0.78 = −0.609 (a positive drift turns it into a gain).
    steps = np.arange(1, 21) / 100
    dates = pd.bdate_range("2024-01-01", periods=20)
    returns = pd.DataFrame({1: -steps, 2: 0.30 - steps}, index=dates)
    params = clean_params(
        "max_var", {"min_history_days": 20, "confidence": 0.95, "horizon_days": 4}
    )
    rule = RuleSpec(rule_id=7, kind="max_var", limit=0.2, params=params)

    values = risk_rule_values(rule, np.array([1, 2]), RiskInputs(returns=returns))

    np.testing.assert_allclose(values.value, [0.591, -0.609], atol=1e-12)
