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
from typing import TypeVar

import numpy as np
import pandas as pd

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.compliance_inputs import RULES, holdings, risk_inputs, rule_specs
from compliance.engine.rules import evaluate_rules
from compliance.engine.specs import RiskInputs


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
