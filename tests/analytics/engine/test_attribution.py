"""Brinson-Fachler and Carino linking on small tables worked by hand."""

import math

import pandas as pd
import pytest

from analytics.engine.attribution import brinson_fachler, carino_coefficient, link_carino


def _frame(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sector", "weight", "return"])


def _three_sector_period() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hand-worked table (Tech held through two stocks in the portfolio).

    sector | wp  | wb  | Rp_i  | Rb_i
    Tech   | 0.5 | 0.4 |  0.10 | 0.08   (portfolio: 0.3 @ 12 % + 0.2 @ 7 % = 0.05 / 0.5)
    Health | 0.3 | 0.3 |  0.04 | 0.05
    Energy | 0.2 | 0.3 | -0.02 | 0.01
    Rp = 0.05 + 0.012 - 0.004 = 0.058; Rb = 0.032 + 0.015 + 0.003 = 0.050
    """
    portfolio = _frame(
        [("Tech", 0.3, 0.12), ("Tech", 0.2, 0.07), ("Health", 0.3, 0.04), ("Energy", 0.2, -0.02)]
    )
    benchmark = _frame([("Tech", 0.4, 0.08), ("Health", 0.3, 0.05), ("Energy", 0.3, 0.01)])
    return portfolio, benchmark


# allocation (wp - wb)(Rb_i - Rb), selection wb (Rp_i - Rb_i), interaction (wp - wb)(Rp_i - Rb_i)
HAND_EFFECTS = pd.DataFrame(
    {
        "allocation": [0.1 * 0.03, 0.0, -0.1 * -0.04],  # 0.003, 0, 0.004
        "selection": [0.4 * 0.02, 0.3 * -0.01, 0.3 * -0.03],  # 0.008, -0.003, -0.009
        "interaction": [0.1 * 0.02, 0.0, -0.1 * -0.03],  # 0.002, 0, 0.003
    },
    index=pd.Index(["Tech", "Health", "Energy"], name="sector"),
)


def test_brinson_fachler_three_sector_table():
    result = brinson_fachler(*_three_sector_period())
    assert result.portfolio_return == pytest.approx(0.058, abs=1e-15)
    assert result.benchmark_return == pytest.approx(0.050, abs=1e-15)
    groups = result.groups.loc[HAND_EFFECTS.index]
    assert groups["portfolio_return"]["Tech"] == pytest.approx(0.10, abs=1e-15)
    for effect in HAND_EFFECTS.columns:
        assert groups[effect].tolist() == pytest.approx(HAND_EFFECTS[effect].tolist(), abs=1e-15)
    # totals: allocation 0.007, selection -0.004, interaction 0.005; sum 0.008 = Rp - Rb
    totals = result.totals
    assert totals[["allocation", "selection", "interaction"]].tolist() == pytest.approx(
        [0.007, -0.004, 0.005], abs=1e-15
    )
    assert totals["total"] == pytest.approx(result.active_return, abs=1e-15)
    assert result.active_return == pytest.approx(0.008, abs=1e-15)


def test_group_on_one_side_only_is_all_allocation():
    # Crypto is held but not in the benchmark; Utilities is in the benchmark but not held.
    # Rp = 0.6 * 0.10 + 0.4 * 0.30 = 0.18; Rb = 0.5 * 0.08 + 0.5 * 0.02 = 0.05
    portfolio = _frame([("Tech", 0.6, 0.10), ("Crypto", 0.4, 0.30)])
    benchmark = _frame([("Tech", 0.5, 0.08), ("Utilities", 0.5, 0.02)])
    groups = brinson_fachler(portfolio, benchmark).groups
    # Crypto: allocation 0.4 * (0.30 - 0.05) = 0.10, nothing else
    assert groups.loc["Crypto", ["allocation", "selection", "interaction"]].tolist() == (
        pytest.approx([0.10, 0.0, 0.0], abs=1e-15)
    )
    # Utilities: allocation -0.5 * (0.02 - 0.05) = 0.015, nothing else
    assert groups.loc["Utilities", ["allocation", "selection", "interaction"]].tolist() == (
        pytest.approx([0.015, 0.0, 0.0], abs=1e-15)
    )
    # Tech: 0.1 * 0.03 + 0.5 * 0.02 + 0.1 * 0.02 = 0.015; all together 0.13 = 0.18 - 0.05
    assert groups.loc["Tech", "total"] == pytest.approx(0.015, abs=1e-15)
    assert groups["total"].sum() == pytest.approx(0.13, abs=1e-15)


def test_weights_must_add_up_to_one():
    portfolio = _frame([("Tech", 0.6, 0.10)])
    benchmark = _frame([("Tech", 1.0, 0.08)])
    with pytest.raises(ValueError, match="add up to"):
        brinson_fachler(portfolio, benchmark)


def test_grouping_by_another_column():
    portfolio = _frame([("Tech", 1.0, 0.10)]).assign(country="US")
    benchmark = _frame([("Tech", 1.0, 0.08)]).assign(country="US")
    result = brinson_fachler(portfolio, benchmark, by="country")
    # one group: everything is selection, 1.0 * (0.10 - 0.08)
    assert result.groups.loc["US", "selection"] == pytest.approx(0.02, abs=1e-15)


def _second_period() -> tuple[pd.DataFrame, pd.DataFrame]:
    # Rp = 0.4 * -0.05 + 0.3 * 0.02 + 0.3 * 0.03 = -0.005
    # Rb = 0.3 * -0.03 + 0.4 * 0.01 + 0.3 * 0.02 = 0.001
    portfolio = _frame([("Tech", 0.4, -0.05), ("Health", 0.3, 0.02), ("Energy", 0.3, 0.03)])
    benchmark = _frame([("Tech", 0.3, -0.03), ("Health", 0.4, 0.01), ("Energy", 0.3, 0.02)])
    return portfolio, benchmark


def _equal_return_period() -> tuple[pd.DataFrame, pd.DataFrame]:
    # Rp = 0.5 * 0.10 + 0.5 * 0.00 = 0.05 = Rb = 0.5 * 0.06 + 0.5 * 0.04, yet selection is not 0
    portfolio = _frame([("Tech", 0.5, 0.10), ("Energy", 0.5, 0.00)])
    benchmark = _frame([("Tech", 0.5, 0.06), ("Energy", 0.5, 0.04)])
    return portfolio, benchmark


def test_carino_linked_effects_add_up_exactly_to_compounded_active_return():
    periods = {
        "2024-01": brinson_fachler(*_three_sector_period()),
        "2024-02": brinson_fachler(*_second_period()),
        "2024-03": brinson_fachler(*_equal_return_period()),
    }
    linked = link_carino(periods)
    # compounded: 1.058 * 0.995 * 1.05 - 1 and 1.05 * 1.001 * 1.05 - 1
    compounded_p = 1.058 * 0.995 * 1.05 - 1
    compounded_b = 1.05 * 1.001 * 1.05 - 1
    assert linked.portfolio_return == pytest.approx(compounded_p, abs=1e-15)
    assert linked.benchmark_return == pytest.approx(compounded_b, abs=1e-15)
    effects_sum = linked.groups[["allocation", "selection", "interaction"]].to_numpy().sum()
    assert abs(effects_sum - (compounded_p - compounded_b)) < 1e-12
    assert abs(linked.totals["total"] - linked.active_return) < 1e-12

    # Tech's linked allocation from the textbook coefficients, computed with plain logs:
    # k_t = (ln(1+Rp_t) - ln(1+Rb_t)) / (Rp_t - Rb_t), k_t = 1/(1+R) when equal.
    def k(rp: float, rb: float) -> float:
        return 1 / (1 + rp) if rp == rb else (math.log(1 + rp) - math.log(1 + rb)) / (rp - rb)

    big_k = k(compounded_p, compounded_b)
    tech_allocation = (
        k(0.058, 0.050) * 0.003  # period 1: 0.1 * (0.08 - 0.05)
        + k(-0.005, 0.001) * (0.1 * (-0.03 - 0.001))  # period 2: 0.1 * (Rb_tech - Rb)
        + k(0.05, 0.05) * 0.0  # period 3: equal weights
    ) / big_k
    assert linked.groups.loc["Tech", "allocation"] == pytest.approx(tech_allocation, abs=1e-14)


def test_carino_degenerate_case_portfolio_equals_benchmark():
    period = brinson_fachler(*_equal_return_period())
    linked = link_carino({"q1": period, "q2": period})
    # Rp_t = Rb_t = 0.05 each quarter: k_t = 1/1.05, K = 1/1.05^2, scale k_t/K = 1.05.
    # Tech selection 0.5 * (0.10 - 0.06) = 0.02 each quarter -> 2 * 0.02 * 1.05 = 0.042
    assert linked.groups.loc["Tech", "selection"] == pytest.approx(0.042, abs=1e-15)
    assert linked.groups.loc["Energy", "selection"] == pytest.approx(-0.042, abs=1e-15)
    assert linked.active_return == 0.0
    assert abs(linked.totals["total"]) < 1e-15


def test_carino_coefficient_is_smooth_near_equal_returns():
    # the limit 1/(1 + R) is approached without catastrophic cancellation
    assert carino_coefficient(0.05 + 1e-13, 0.05) == pytest.approx(1 / 1.05, abs=1e-12)
    assert carino_coefficient(0.05, 0.05) == pytest.approx(1 / 1.05, abs=1e-16)


def test_by_period_keeps_each_periods_smoothed_effects():
    periods = {
        "2024-01": brinson_fachler(*_three_sector_period()),
        "2024-02": brinson_fachler(*_second_period()),
    }
    linked = link_carino(periods)
    assert linked.by_period.index.names == ["period", "group"]
    summed = linked.by_period.groupby(level="group").sum()
    pd.testing.assert_frame_equal(summed, linked.groups)
