"""The demo's synthetic market behaves like the real one it is built on.

* Its "Global Equity" index is built on the real S&P 500, which fell 6.2 % in 2018
  (price index, 2,673.61 → 2,506.85); a global index of the same stocks fell too.
* EUR/USD moved about 0.5 % a day in 2013–2018.
* A 60/40 blend rebalanced daily returns 0.6 × equity + 0.4 × bonds each day.
"""

import numpy as np
import pandas as pd
import pytest

from analytics.demo import market
from analytics.demo.load import DEFAULT_INSTRUMENTS, DEFAULT_SEED
from analytics.demo.universe import build_universe


@pytest.fixture(scope="module")
def demo_market():
    rng = np.random.default_rng(DEFAULT_SEED)
    universe = build_universe(rng=rng, equities=DEFAULT_INSTRUMENTS - 8)
    indices = market.index_returns()
    usd_per_unit = market.simulate_fx(calendar=indices.index, rng=rng)
    first_fx = market.first_fx_levels()
    universe["shares_outstanding"] = np.round(
        universe["market_cap_usd"]
        / (universe["first_price"] * first_fx[universe["currency"]].to_numpy())
    )
    closes = market.simulate_closes(universe=universe, indices=indices, rng=rng)
    global_returns, _ = market.global_equity_benchmark(
        universe=universe, closes=closes, usd_per_unit=usd_per_unit, first_fx=first_fx
    )
    return indices, usd_per_unit, global_returns


def _year(returns: pd.Series, year: int) -> float:
    return float((1 + returns[returns.index.year == year]).prod() - 1)


def test_global_equity_falls_in_2018_like_the_sp500_it_is_built_on(demo_market):
    indices, _, global_returns = demo_market

    assert _year(indices["sp500"], 2018) == pytest.approx(2506.85 / 2673.61 - 1, abs=1e-3)
    assert _year(global_returns, 2018) < 0


def test_eur_usd_moves_about_half_a_percent_a_day(demo_market):
    _, usd_per_unit, _ = demo_market
    daily = np.log(usd_per_unit["EUR"]).diff().dropna()

    assert 0.004 < daily.std() < 0.0055


def test_a_blend_is_the_weighted_sum_of_its_parts():
    days = pd.bdate_range("2024-01-01", periods=2)
    equity = pd.Series([0.02, -0.01], index=days)
    bonds = pd.Series([0.005, 0.001], index=days)
    equity_weights = pd.DataFrame({10: [0.75], 11: [0.25]}, index=days[-1:])

    returns, weights = market.blended_benchmark(
        equity_share=0.6,
        equity_returns=equity,
        equity_weights=equity_weights,
        bond_returns=bonds,
        bond_positions=np.array([20, 21]),
    )

    # 0.6 × 2 % + 0.4 × 0.5 % = 1.4 %; 0.6 × −1 % + 0.4 × 0.1 % = −0.56 %
    assert returns.tolist() == pytest.approx([0.014, -0.0056])
    # 0.6 × (75 %, 25 %) and 0.4 split equally over two bonds
    assert weights.iloc[0].to_dict() == pytest.approx({10: 0.45, 11: 0.15, 20: 0.2, 21: 0.2})
