"""The Celery app of the compliance fan-out benchmark (``benchmarks/compliance.py``):
a broker of its own (Redis db 7 by default) and one task that loads a chunk of
holdings from a file and runs the compliance engine on it."""

import os

import pandas as pd
from celery import Celery

from benchmarks.compliance_inputs import risk_inputs, rule_specs
from compliance.engine.rules import evaluate_rules

BROKER = os.environ.get("COMPLIANCE_BENCH_BROKER", "redis://127.0.0.1:6379/7")
app = Celery("compliance_bench", broker=BROKER, backend=BROKER)
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_default_queue="compliance-bench",
    result_expires=3600,
    worker_hijack_root_logger=False,
)


@app.task(name="benchmark.compliance.evaluate_chunk")
def evaluate_chunk(path: str) -> int:
    """Evaluate the 20 benchmark rules on one chunk; returns the number of results."""
    frame = pd.read_pickle(path)  # noqa: S301 - a file this benchmark wrote itself
    portfolios = frame["portfolio"].unique()
    return len(evaluate_rules(frame, rule_specs(), risk=risk_inputs(portfolios)))
