"""Brinson-Fachler and Carino linking on small tables worked by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from analytics.engine.attribution import (
    brinson_fachler,
    brinson_fachler_table,
    carino_coefficient,
    link_carino,
    link_carino_table,
)


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


# Many portfolios and periods at once: the same hand-worked periods, keyed and stacked.


def _one_side_period() -> tuple[pd.DataFrame, pd.DataFrame]:
    # As in test_group_on_one_side_only_is_all_allocation: Crypto held only, Utilities
    # benchmark only. Rp = 0.6 * 0.10 + 0.4 * 0.30 = 0.18; Rb = 0.5 * 0.08 + 0.5 * 0.02 = 0.05
    portfolio = _frame([("Tech", 0.6, 0.10), ("Crypto", 0.4, 0.30)])
    benchmark = _frame([("Tech", 0.5, 0.08), ("Utilities", 0.5, 0.02)])
    return portfolio, benchmark


# Each portfolio has its own benchmark rows per period, so the benchmarks differ by portfolio.
SCHEDULE = {
    "growth": {
        "2024-01": _three_sector_period,
        "2024-02": _second_period,
        "2024-03": _equal_return_period,
    },
    "income": {
        "2024-01": _one_side_period,
        "2024-02": _equal_return_period,
        "2024-03": _three_sector_period,
    },
    "balanced": {
        "2024-01": _second_period,
        "2024-02": _three_sector_period,
        "2024-03": _one_side_period,
    },
}
# (Rp_t, Rb_t) of each hand-worked period, from the docstrings and comments above
PERIOD_RETURNS = {
    _three_sector_period: (0.058, 0.050),
    _second_period: (-0.005, 0.001),
    _equal_return_period: (0.05, 0.05),
    _one_side_period: (0.18, 0.05),
}


def _stacked_schedule() -> tuple[pd.DataFrame, pd.DataFrame]:
    portfolios, benchmarks = [], []
    for portfolio_name, periods in SCHEDULE.items():
        for period, make_period in periods.items():
            portfolio, benchmark = make_period()
            portfolios.append(portfolio.assign(portfolio=portfolio_name, period=period))
            benchmarks.append(benchmark.assign(portfolio=portfolio_name, period=period))
    return pd.concat(portfolios, ignore_index=True), pd.concat(benchmarks, ignore_index=True)


def _textbook_k(rp: float, rb: float) -> float:
    """Carino's k with plain logs, 1 / (1 + R) when equal."""
    return 1 / (1 + rp) if rp == rb else (math.log(1 + rp) - math.log(1 + rb)) / (rp - rb)


def test_table_attributes_every_portfolio_and_period_as_worked_by_hand():
    table = brinson_fachler_table(*_stacked_schedule())
    assert table.groups.index.names == ["portfolio", "period", "sector"]
    assert len(table.returns) == 9

    growth_january = table.groups.loc[("growth", "2024-01")].loc[HAND_EFFECTS.index]
    assert growth_january["portfolio_return"]["Tech"] == pytest.approx(0.10, abs=1e-15)
    for effect in HAND_EFFECTS.columns:
        assert growth_january[effect].tolist() == pytest.approx(
            HAND_EFFECTS[effect].tolist(), abs=1e-15
        )
    assert table.returns.loc[("growth", "2024-01")].tolist() == pytest.approx(
        [0.058, 0.050, 0.008], abs=1e-15
    )
    # the same hand-worked period, held by another portfolio two months later
    balanced_february = table.groups.loc[("balanced", "2024-02")].loc[HAND_EFFECTS.index]
    for effect in HAND_EFFECTS.columns:
        assert balanced_february[effect].tolist() == pytest.approx(
            HAND_EFFECTS[effect].tolist(), abs=1e-15
        )

    # one-side rule per key: income's Crypto allocation 0.4 * (0.30 - 0.05) = 0.10, Utilities
    # -0.5 * (0.02 - 0.05) = 0.015, no selection or interaction; all groups 0.13 = 0.18 - 0.05
    income_january = table.groups.loc[("income", "2024-01")]
    assert income_january.loc["Crypto", ["allocation", "selection", "interaction"]].tolist() == (
        pytest.approx([0.10, 0.0, 0.0], abs=1e-15)
    )
    assert income_january.loc["Utilities", ["allocation", "selection", "interaction"]].tolist() == (
        pytest.approx([0.015, 0.0, 0.0], abs=1e-15)
    )
    assert income_january["total"].sum() == pytest.approx(0.13, abs=1e-15)

    for portfolio_name, periods in SCHEDULE.items():
        for period, make_period in periods.items():
            rp, rb = PERIOD_RETURNS[make_period]
            returns = table.returns.loc[(portfolio_name, period)]
            assert returns["portfolio_return"] == pytest.approx(rp, abs=1e-15)
            assert returns["benchmark_return"] == pytest.approx(rb, abs=1e-15)
    assert (table.totals["total"] - table.returns["active_return"]).abs().max() < 1e-15


def test_linked_table_adds_up_exactly_per_portfolio():
    linked = link_carino_table(brinson_fachler_table(*_stacked_schedule()))
    assert linked.groups.index.names == ["portfolio", "sector"]
    for portfolio_name, periods in SCHEDULE.items():
        returns = [PERIOD_RETURNS[make_period] for make_period in periods.values()]
        compounded_p = math.prod(1 + rp for rp, _ in returns) - 1
        compounded_b = math.prod(1 + rb for _, rb in returns) - 1
        result = linked.returns.loc[portfolio_name]
        assert result["portfolio_return"] == pytest.approx(compounded_p, abs=1e-15)
        assert result["benchmark_return"] == pytest.approx(compounded_b, abs=1e-15)
        effects = linked.groups.loc[portfolio_name, ["allocation", "selection", "interaction"]]
        assert abs(effects.to_numpy().sum() - (compounded_p - compounded_b)) < 1e-12

    # growth holds the periods of the single-portfolio linking test: Tech's linked allocation
    growth = [PERIOD_RETURNS[make_period] for make_period in SCHEDULE["growth"].values()]
    big_k = _textbook_k(1.058 * 0.995 * 1.05 - 1, 1.05 * 1.001 * 1.05 - 1)
    tech_allocation = (
        _textbook_k(*growth[0]) * 0.003
        + _textbook_k(*growth[1]) * (0.1 * (-0.03 - 0.001))
        + _textbook_k(*growth[2]) * 0.0
    ) / big_k
    assert linked.groups.loc[("growth", "Tech"), "allocation"] == pytest.approx(
        tech_allocation, abs=1e-14
    )


def test_weight_error_names_the_portfolio_and_period():
    portfolio, benchmark = _stacked_schedule()
    broken = (portfolio["portfolio"] == "income") & (portfolio["period"] == "2024-02")
    # income's February is the equal-return period: Tech 0.5 -> 0.4 leaves 0.9 in all
    portfolio.loc[broken & (portfolio["sector"] == "Tech"), "weight"] = 0.4
    with pytest.raises(
        ValueError,
        match=r"portfolio weights must add up to 1 but add up to 0\.9 "
        r"for \(portfolio='income', period='2024-02'\)$",
    ):
        brinson_fachler_table(portfolio, benchmark)


def test_a_period_without_benchmark_rows_is_named():
    portfolio, benchmark = _stacked_schedule()
    missing = (benchmark["portfolio"] == "balanced") & (benchmark["period"] == "2024-03")
    with pytest.raises(
        ValueError, match=r"no benchmark rows for \(portfolio='balanced', period='2024-03'\)"
    ):
        brinson_fachler_table(portfolio, benchmark[~missing])


def _random_universe(
    portfolios: int, periods: int, sectors: int, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Portfolios hold 2 stocks in 8 of ``sectors`` + 1 labels (one is off-benchmark cash);
    benchmarks hold 3 stocks in every sector. Also returns Rp, Rb as (portfolios, periods)."""
    rng = np.random.default_rng(seed)
    keys = portfolios * periods
    labels = np.array([f"S{index:02d}" for index in range(sectors)] + ["Cash"])

    def side(sector_codes: np.ndarray, per_key: int) -> tuple[pd.DataFrame, np.ndarray]:
        weight = rng.random((keys, per_key))
        weight /= weight.sum(axis=1, keepdims=True)
        returns = rng.normal(0.005, 0.05, (keys, per_key))
        frame = pd.DataFrame(
            {
                "portfolio": np.repeat(np.arange(portfolios), periods * per_key),
                "period": np.tile(np.repeat(np.arange(periods), per_key), portfolios),
                "sector": labels[sector_codes.reshape(-1)],
                "weight": weight.reshape(-1),
                "return": returns.reshape(-1),
            }
        )
        return frame, (weight * returns).sum(axis=1).reshape(portfolios, periods)

    # key i holds sectors i, i+1, ..., i+7 (mod sectors + 1), two stocks each
    held = (np.arange(keys)[:, np.newaxis] + np.arange(8)) % (sectors + 1)
    portfolio, rp = side(np.repeat(held, 2, axis=1), 16)
    benchmark, rb = side(np.tile(np.repeat(np.arange(sectors), 3), (keys, 1)), 3 * sectors)
    return portfolio, benchmark, rp, rb


def test_five_hundred_portfolios_over_two_years_add_up():
    portfolio, benchmark, rp, rb = _random_universe(portfolios=500, periods=24, sectors=11)
    table = brinson_fachler_table(portfolio, benchmark)
    assert len(table.returns) == 500 * 24
    returns = table.returns.sort_index()
    np.testing.assert_allclose(returns["portfolio_return"].to_numpy(), rp.reshape(-1), atol=1e-15)
    np.testing.assert_allclose(returns["benchmark_return"].to_numpy(), rb.reshape(-1), atol=1e-15)
    assert (table.totals["total"] - table.returns["active_return"]).abs().max() < 1e-14

    linked = link_carino_table(table)
    compounded = np.prod(1 + rp, axis=1) - np.prod(1 + rb, axis=1)
    linked_totals = linked.totals.sort_index()
    assert len(linked_totals) == 500
    assert np.abs(linked_totals["total"].to_numpy() - compounded).max() < 1e-12
    assert (
        np.abs(linked.returns.sort_index()["active_return"].to_numpy() - compounded).max() < 1e-12
    )
