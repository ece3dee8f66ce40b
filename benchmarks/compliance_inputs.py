"""Seeded inputs of the compliance benchmarks: a universe, holdings of every
portfolio, a return matrix for the VaR rules and the 20 benchmark rules. Shared by
``benchmarks/compliance.py`` and the fan-out worker ``benchmarks/compliance_fanout.py``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from compliance.engine.kinds import clean_params
from compliance.engine.specs import RiskInputs, RuleSpec

SECTORS = [
    "Energy", "Materials", "Industrials", "Consumer Discretionary", "Consumer Staples",
    "Health Care", "Financials", "Information Technology", "Communication Services",
    "Utilities", "Real Estate",
]  # fmt: skip
COUNTRIES = ["US", "GB", "DE", "FR", "JP", "CH", "NL", "CA", "AU", "SE", "IT", "ES"]
CURRENCIES = ["USD", "GBP", "EUR", "JPY", "CHF", "CAD", "AUD", "SEK"]
ASSET_CLASSES = ["equity"] * 8 + ["fixed_income", "fund"]


def universe(instruments: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    issuers = rng.integers(0, instruments * 2 // 3, instruments)
    asset_class = np.array(ASSET_CLASSES)[rng.integers(0, len(ASSET_CLASSES), instruments)]
    return pd.DataFrame(
        {
            "instrument": np.arange(1, instruments + 1),
            "identifier": [f"I{n:05d}" for n in range(1, instruments + 1)],
            "issuer": [f"Issuer {i}" for i in issuers],
            "sector": np.array(SECTORS)[rng.integers(0, len(SECTORS), instruments)],
            "country": np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), instruments)],
            "currency": np.array(CURRENCIES)[rng.integers(0, len(CURRENCIES), instruments)],
            "asset_class": asset_class,
            "shares_outstanding": rng.uniform(1e6, 1e9, instruments),
            "is_government": (asset_class == "fixed_income") & (rng.random(instruments) < 0.5),
        }
    )


def holdings(
    portfolios: int, per_portfolio: int, *, first: int = 1, seed: int = 1, instruments: int = 5000
) -> pd.DataFrame:
    """Seeded holdings: ``per_portfolio`` distinct instruments each (Dirichlet
    weights, a few large positions) plus a cash row of 1–8 % of net assets."""
    rng = np.random.default_rng(seed + first)
    names = universe(instruments, seed)
    picks = np.argsort(rng.random((portfolios, instruments)), axis=1)[:, :per_portfolio]
    weights = rng.dirichlet(np.full(per_portfolio, 0.6), portfolios)
    cash = rng.uniform(0.01, 0.08, portfolios)
    nav = rng.uniform(1e7, 1e9, portfolios)
    values = weights * ((1 - cash) * nav)[:, None]
    frame = names.iloc[picks.ravel()].reset_index(drop=True)
    frame.insert(0, "portfolio", np.repeat(np.arange(first, first + portfolios), per_portfolio))
    frame["market_value_base"] = values.ravel()
    frame["quantity"] = values.ravel() / 50.0
    cash_rows = pd.DataFrame(
        {
            "portfolio": np.arange(first, first + portfolios),
            "instrument": 0,
            "identifier": "CASH-USD",
            "issuer": "",
            "sector": "",
            "country": "",
            "currency": "USD",
            "asset_class": "cash",
            "shares_outstanding": np.nan,
            "is_government": False,
            "market_value_base": cash * nav,
            "quantity": cash * nav,
        }
    )
    return pd.concat([frame, cash_rows], ignore_index=True)


def risk_inputs(portfolio_ids: np.ndarray, seed: int = 3, days: int = 756) -> RiskInputs:
    rng = np.random.default_rng(seed)
    market = rng.standard_t(4, days) * 0.008
    betas = rng.uniform(0.5, 1.5, len(portfolio_ids))
    returns = market[:, None] * betas + rng.standard_normal((days, len(portfolio_ids))) * 0.004
    index = pd.bdate_range("2021-01-01", periods=days)
    return RiskInputs(
        returns=pd.DataFrame(returns, index=index, columns=portfolio_ids),
        reference_returns=pd.DataFrame({"benchmark:B": market}, index=index),
        reference_of={(20, int(p)): "benchmark:B" for p in portfolio_ids},
    )


RULES: list[tuple[int, str, float, dict[str, Any]]] = [
    (1, "max_instrument_weight", 0.05, {}),
    (2, "max_group_weight", 0.10, {"attribute": "issuer"}),
    (3, "max_large_groups_total", 0.40, {"attribute": "issuer", "threshold": 0.05}),
    (4, "max_group_weight", 0.30, {"attribute": "sector"}),
    (5, "max_group_weight", 0.40, {"attribute": "country"}),
    (6, "max_group_weight", 0.60, {"attribute": "currency"}),
    (7, "max_group_weight", 0.10, {"attribute": "sector", "group": "Energy"}),
    (8, "min_group_weight", 0.20, {"attribute": "country", "group": "US"}),
    (9, "max_group_weight", 0.30, {"attribute": "asset_class", "group": "fixed_income"}),
    (10, "min_group_weight", 0.50, {"attribute": "asset_class", "group": "equity"}),
    (11, "max_holdings", 250, {}),
    (12, "min_holdings", 30, {}),
    (13, "restricted_list", 0.0, {"identifiers": ["I00001", "I00002", "I00003"]}),
    (14, "watch_list", 0.0, {"issuers": ["Issuer 7", "Issuer 11"]}),
    (15, "max_gross_leverage", 1.0, {}),
    (16, "max_net_leverage", 1.0, {}),
    (17, "min_cash", 0.02, {}),
    (18, "diversified_fund", 0.75, {}),
    (19, "max_var", 0.20, {}),
    (20, "max_relative_var", 2.0, {}),
]


def rule_specs() -> list[RuleSpec]:
    return [
        RuleSpec(rule_id=i, kind=k, limit=limit, params=clean_params(k, p))
        for i, k, limit, p in RULES
    ]
