"""Time one portfolio's full analytics snapshot from the database.

Run: ``python benchmarks/snapshot.py [--database-url URL] [--days 2520] [--holdings 500]``
(``benchmarks/analytics.py`` runs it too). The default database is PostgreSQL
``analytics_bench`` on 127.0.0.1 (created if missing); pass a ``sqlite:///...`` URL
for the embedded setup. Never point it at a database you care about: it migrates
it and adds a ``BENCH-<days>x<holdings>`` portfolio.

The portfolio is seeded: ``--holdings`` USD equities priced every business day for
``--days`` days, bought on the first day with one subscription, rebalanced by 4
trades a week, against a benchmark holding the same names with monthly
constituent weights; the Fama-French monthly factors come from ``arch``. Setup
(prices, trades, deriving ~days × holdings positions) is done once and reused; the
timed part is ``snapshot_result_compute``: loading every frame from the database
and computing every section, split into load and compute.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/analytics_bench"


def _setup_django(database_url: str) -> None:
    if database_url.startswith("postgres"):
        name = database_url.rsplit("/", 1)[1]
        subprocess.run(  # noqa: S603 - fixed arguments
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", name],  # noqa: S607
            capture_output=True,
            check=False,
        )
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _build(code: str, days: int, holdings: int, seed: int):
    """Create the benchmark portfolio once (returns it)."""
    import datetime as dt
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from analytics.demo.load import factors_replace
    from analytics.demo.market import factor_returns
    from analytics.ingest.bulk_insert import bulk_insert_values
    from analytics.models import (
        Benchmark,
        BenchmarkReturn,
        BenchmarkWeight,
        CashFlow,
        Instrument,
        Portfolio,
        Price,
        Trade,
    )
    from analytics.services.positions import portfolio_positions_rebuild

    existing = Portfolio.objects.filter(code=code).first()
    if existing is not None and existing.positions.exists():
        return existing
    rng = np.random.default_rng(seed)
    dates = [d.date() for d in pd.bdate_range("2009-01-02", periods=days)]
    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    with transaction.atomic():
        instruments = [
            Instrument.objects.update_or_create(
                identifier=f"BX{i:04d}",
                defaults={
                    "name": f"Bench {i}",
                    "issuer": f"Issuer {i}",
                    "sector": f"Sector {i % 11}",
                    "industry": f"Industry {i % 40}",
                    "country": ["US", "GB", "DE", "JP"][i % 4],
                    "currency": "USD",
                    "exchange": "XNYS",
                },
            )[0]
            for i in range(holdings)
        ]
        shocks = 0.0003 + 0.012 * rng.standard_t(4, (days, holdings)) / np.sqrt(2.0)
        closes = 50.0 * np.cumprod(1.0 + np.clip(shocks, -0.5, 0.5), axis=0)
        Price.objects.filter(instrument__in=instruments, source="bench").delete()
        bulk_insert_values(
            Price,
            ["instrument", "date", "close", "currency", "source"],
            (
                (inst.pk, day, Decimal(f"{closes[t, j]:.4f}"), "USD", "bench")
                for t, day in enumerate(dates)
                for j, inst in enumerate(instruments)
            ),
        )
        benchmark, _ = Benchmark.objects.get_or_create(
            code=f"{code}-BM", defaults={"name": "Bench benchmark", "currency": "USD"}
        )
        weights = rng.uniform(0.5, 1.5, holdings)
        weights /= weights.sum()
        index_returns = (closes[1:] / closes[:-1] - 1.0) @ weights
        BenchmarkReturn.objects.filter(benchmark=benchmark).delete()
        BenchmarkReturn.objects.bulk_create(
            BenchmarkReturn(benchmark=benchmark, date=day, value=float(r))
            for day, r in zip(dates[1:], index_returns, strict=True)
        )
        month_ends = (
            pd.Series(dates, index=pd.DatetimeIndex(dates))
            .groupby(pd.DatetimeIndex(dates).to_period("M"))
            .max()
        )
        BenchmarkWeight.objects.filter(benchmark=benchmark).delete()
        bulk_insert_values(
            BenchmarkWeight,
            ["benchmark", "instrument", "date", "weight"],
            (
                (benchmark.pk, inst.pk, day, float(w))
                for day in month_ends
                for inst, w in zip(instruments, weights, strict=True)
            ),
        )
        portfolio, _ = Portfolio.objects.update_or_create(
            code=code,
            defaults={
                "name": f"Benchmark {days} days × {holdings} holdings",
                "base_currency": "USD",
                "benchmark": benchmark,
                "inception_date": dates[0],
                "owner": owner,
            },
        )
        CashFlow.objects.update_or_create(
            source="bench",
            external_id=f"{code}-SUB",
            defaults={
                "portfolio": portfolio,
                "date": dates[0],
                "amount": Decimal("100000000"),
                "currency": "USD",
                "kind": "subscription",
            },
        )
        Trade.objects.filter(portfolio=portfolio).delete()
        budget = 95_000_000 / holdings
        trades = [
            Trade(
                portfolio=portfolio,
                instrument=inst,
                trade_date=dates[0],
                settle_date=dates[0] + dt.timedelta(days=2),
                side="buy",
                quantity=Decimal(int(budget / closes[0, j])),
                price=Decimal(f"{closes[0, j]:.4f}"),
                fees=Decimal(0),
                currency="USD",
                external_id=f"{code}-B{j}",
                source="bench",
            )
            for j, inst in enumerate(instruments)
        ]
        for n, t in enumerate(range(5, days, 5)):
            for k in range(4):
                j = int(rng.integers(holdings))
                trades.append(
                    Trade(
                        portfolio=portfolio,
                        instrument=instruments[j],
                        trade_date=dates[t],
                        settle_date=dates[t] + dt.timedelta(days=2),
                        side="sell" if k % 2 else "buy",
                        quantity=Decimal(10),
                        price=Decimal(f"{closes[t, j]:.4f}"),
                        fees=Decimal(1),
                        currency="USD",
                        external_id=f"{code}-R{n}-{k}",
                        source="bench",
                    )
                )
        Trade.objects.bulk_create(trades, batch_size=2000)
        factors_replace(factor_returns())
        portfolio_positions_rebuild(portfolio=portfolio)
    return portfolio


def time_snapshot(*, database_url: str, days: int, holdings: int, seed: int, repeat: int) -> None:
    _setup_django(database_url)
    from analytics.services.snapshots import portfolio_as_of, snapshot_result_compute
    from analytics.services.snapshots.frames import portfolio_frames_load

    code = f"BENCH-{days}x{holdings}"
    started = time.perf_counter()
    portfolio = _build(code, days, holdings, seed)
    print(f"snapshot from the database ({database_url.split('://')[0]}): {code}")
    print(f"  setup (once, reused): {time.perf_counter() - started:.1f} s")
    as_of = portfolio_as_of(portfolio=portfolio)
    assert as_of is not None, "the benchmark portfolio has no valuations"
    positions = portfolio.positions.count()
    loads, totals = [], []
    for _ in range(repeat):
        begin = time.perf_counter()
        portfolio_frames_load(portfolio=portfolio, as_of=as_of)
        loads.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        result = snapshot_result_compute(portfolio=portfolio, as_of=as_of)
        totals.append(time.perf_counter() - begin)
    print(
        f"  {result['data']['valuations']} valuations, {positions} position rows, "
        f"as of {as_of}; best of {repeat}:"
    )
    print(f"  full snapshot (load + every section) {min(totals):8.2f} s")
    print(f"  of which loading frames              {min(loads):8.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--days", type=int, default=2520)
    parser.add_argument("--holdings", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    time_snapshot(
        database_url=args.database_url,
        days=args.days,
        holdings=args.holdings,
        seed=args.seed,
        repeat=args.repeat,
    )


if __name__ == "__main__":
    main()
