"""Compliance engine speed: 10,000 portfolios × 200 holdings × 20 rules on one core,
and the Celery fan-out with 1 and 2 worker processes.

Run: ``python benchmarks/compliance.py [--portfolios 10000] [--holdings 200] [--repeat 3]
[--fanout] [--broker redis://127.0.0.1:6379/7]``.

* ``engine``: :func:`compliance.engine.rules.evaluate_rules` over one seeded holdings
  frame of every portfolio at once (2,000,000 rows plus a cash row each), 20 rules
  of 15 kinds (list below), VaR rules over a 756-day × portfolio return matrix; best
  of ``--repeat``. Building the synthetic frame is not timed.
* ``fanout`` (``--fanout``): the same work cut into chunks of 100 portfolios, each
  chunk a Celery task on a real broker (Redis db 7 by default, never the tests'
  database) executed by a worker started here with ``--concurrency 1`` and then
  ``2``; wall time from sending the first chunk to the last result. Each task loads
  its chunk from a file written beforehand (as a real task loads its chunk from
  the database) and runs the engine. No database is involved, so this measures
  the scaling of the engine work across worker processes.

There is no reference library for compliance rules; the engine is compared with
its own goal (under 10 s on one core) and with a per-portfolio loop over the same
engine on a sample (what a non-vectorised evaluation would cost), scaled linearly.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compliance.engine.kinds import clean_params
from compliance.engine.rules import evaluate_rules
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


def run_engine(frame: pd.DataFrame, risk: RiskInputs) -> pd.DataFrame:
    return evaluate_rules(frame, rule_specs(), risk=risk)


ResultT = TypeVar("ResultT")


def best_of(repeat: int, function: Callable[[], ResultT]) -> tuple[float, ResultT]:
    """Best wall time over ``repeat`` (≥ 1) runs and the last result."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - start)
    return min(timings), result


# --- Celery fan-out -------------------------------------------------------------

CHUNK = 100


def chunk_files(folder: Path, portfolios: int, per_portfolio: int) -> list[str]:
    paths = []
    for first in range(1, portfolios + 1, CHUNK):
        count = min(CHUNK, portfolios - first + 1)
        path = folder / f"chunk-{first:06d}.pkl"
        holdings(count, per_portfolio, first=first).to_pickle(path)
        paths.append(str(path))
    return paths


def fanout(portfolios: int, per_portfolio: int, broker: str) -> dict[int, float]:
    from benchmarks.compliance_fanout import app, evaluate_chunk

    times = {}
    with tempfile.TemporaryDirectory(prefix="compliance-bench-") as folder:
        paths = chunk_files(Path(folder), portfolios, per_portfolio)
        for workers in (1, 2):
            env = {**os.environ, "COMPLIANCE_BENCH_BROKER": broker}
            worker = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "celery", "-A", "benchmarks.compliance_fanout", "worker",
                 "--concurrency", str(workers), "--pool", "prefork", "--without-mingle",
                 "--without-gossip", "--loglevel", "WARNING", "-Q", "compliance-bench"],
                cwd=Path(__file__).resolve().parents[1], env=env,
            )  # fmt: skip
            try:
                app.control.purge()
                # Warm-up: one chunk per process imports pandas and the engine.
                warm = [evaluate_chunk.apply_async((paths[0],), queue="compliance-bench")
                        for _ in range(workers)]  # fmt: skip
                for result in warm:
                    result.get(timeout=300)
                start = time.perf_counter()
                results = [
                    evaluate_chunk.apply_async((path,), queue="compliance-bench") for path in paths
                ]
                rows = sum(result.get(timeout=1800) for result in results)
                times[workers] = time.perf_counter() - start
                assert rows == portfolios * len(RULES), rows
            finally:
                worker.terminate()
                worker.wait(timeout=60)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portfolios", type=int, default=10_000)
    parser.add_argument("--holdings", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-sample", type=int, default=50)
    parser.add_argument("--fanout", action="store_true")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/7")
    args = parser.parse_args()

    frame = holdings(args.portfolios, args.holdings)
    risk = risk_inputs(np.arange(1, args.portfolios + 1))
    returns = risk.returns
    assert returns is not None
    print(
        f"{args.portfolios:,} portfolios × {args.holdings} holdings ({len(frame):,} rows) × "
        f"{len(RULES)} rules, VaR over {len(returns)} days"
    )
    seconds, result = best_of(args.repeat, lambda: run_engine(frame, risk))
    statuses = result["status"].value_counts().to_dict()
    print(f"engine (one core, best of {args.repeat}): {seconds:.2f} s  "
          f"goal < 10 s: {'met' if seconds < 10 else 'NOT met'}  "
          f"({len(result):,} results: {statuses})")  # fmt: skip

    sample = args.loop_sample
    small = frame[frame["portfolio"] <= sample]
    start = time.perf_counter()
    for portfolio in range(1, sample + 1):
        one = small[small["portfolio"] == portfolio]
        evaluate_rules(one, rule_specs(), risk=RiskInputs(
            returns=returns[[portfolio]], reference_returns=risk.reference_returns,
            reference_of=risk.reference_of))  # fmt: skip
    loop = (time.perf_counter() - start) / sample * args.portfolios
    print(f"per-portfolio loop (sample of {sample}, scaled): {loop:.1f} s  "
          f"= {loop / seconds:.0f}× the vectorised engine")  # fmt: skip

    if args.fanout:
        times = fanout(args.portfolios, args.holdings, args.broker)
        chunks = -(-args.portfolios // CHUNK)
        print(f"fan-out, {chunks} chunks of {CHUNK} portfolios through {args.broker}:")
        for workers, wall in times.items():
            print(f"  {workers} worker process(es): {wall:.2f} s  "
                  f"speed-up {times[1] / wall:.2f}×")  # fmt: skip


if __name__ == "__main__":
    main()
