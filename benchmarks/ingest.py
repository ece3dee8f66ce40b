"""Ingest speed: the fast path against django-import-export and a keyed ``COPY`` floor.

Run (PostgreSQL; never point it at a database that matters — it truncates the
trade table)::

    createdb -h 127.0.0.1 -U postgres ingest_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ingest_bench \\
        python benchmarks/ingest.py [--rows 1000000] [--sample 50000] [--skip-import-export]

One run:

1. migrates the database and creates 50 portfolios and 500 instruments;
2. writes a seeded trades CSV of ``--rows`` rows (streamed to disk);
3. **fast path**: ``manage.py import_data trades FILE`` semantics through
   ``analytics.services.imports.runs.data_import`` — streaming parse, per-row and
   per-field validation and the in-file duplicate check on the natural key (in a
   thread, a chunk ahead), then per chunk a staging ``COPY`` and one insert by
   natural key into ``analytics_trade`` (with its unique key, indexes, foreign
   keys and checks), the data-changed mark and the audit row — in a child
   process, so its peak RSS is its own;
4. **django-import-export**: the admin's ``TradeResource`` on the first
   ``--sample`` rows (same validation hook, row-by-row saves), in a child process;
5. **raw COPY** (for scale): ``COPY ... FROM STDIN (FORMAT csv)`` of the same file
   into a bare table with the same column types and no key, index or check;
6. **keyed COPY** (the floor): the same rows, with the portfolio and instrument ids
   resolved beforehand (untimed), copied by one ``COPY`` into a scratch table made
   ``LIKE analytics_trade`` with its defaults, identity, constraints and indexes —
   the primary key, the (source, external_id) natural key, the (portfolio,
   trade_date) and instrument indexes, the NOT NULL and CHECK constraints — and
   without its foreign keys (``LIKE`` never copies them), so no foreign-key trigger
   runs. Storing the rows with the keys the product needs costs this much whatever
   the import does; the fast path's foreign-key checks (PostgreSQL's per-row
   triggers, at commit) are its own cost on top.

It prints rows/s for each, the ratios against the goals (fast path ≥ 0.5 of the keyed
``COPY``, ≥ 20× django-import-export) and the fast path's peak memory (goal < 500 MB).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

PORTFOLIOS = 50
INSTRUMENTS = 500
HEADER = [
    "portfolio",
    "instrument",
    "trade_date",
    "settle_date",
    "side",
    "quantity",
    "price",
    "fees",
    "currency",
    "external_id",
]


def _setup_django():
    import django

    django.setup()
    # A warm process, as a worker or the web server is: the task module (and
    # scipy behind the snapshot services) is imported once at start-up there.
    import analytics.tasks  # noqa: F401


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(rows: int, path: Path) -> dict:
    """Migrate, create the reference data, truncate trades, write the file (unless a
    file of ``rows`` rows is there already)."""
    _setup_django()
    from django.core.management import call_command
    from django.db import connection

    from analytics.models import Instrument, Portfolio
    from portal.models import User

    call_command("migrate", verbosity=0)
    owner, _ = User.objects.get_or_create(username="bench-owner")
    for i in range(PORTFOLIOS):
        Portfolio.objects.get_or_create(
            code=f"BENCH-{i:02d}",
            defaults={
                "name": f"Benchmark portfolio {i}",
                "base_currency": "USD",
                "inception_date": date(2015, 1, 2),
                "owner": owner,
            },
        )
    Instrument.objects.bulk_create(
        [
            Instrument(
                identifier=f"BX{i:04d}",
                name=f"Bench {i}",
                issuer=f"Bench {i}",
                currency="USD" if i % 5 else "EUR",
                exchange="XNYS",
            )
            for i in range(INSTRUMENTS)
        ],
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE analytics_trade")
        cursor.execute("DROP TABLE IF EXISTS bench_raw_trades")
        cursor.execute("DROP TABLE IF EXISTS bench_keyed_trades")
    if path.exists() and sum(1 for _ in path.open()) == rows + 1:
        return {"rows": rows, "written": False}
    rng = random.Random(20240101)
    start = date(2015, 1, 2)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            day = start + timedelta(days=rng.randrange(3650))
            instrument = rng.randrange(INSTRUMENTS)
            writer.writerow(
                [
                    f"BENCH-{rng.randrange(PORTFOLIOS):02d}",
                    f"BX{instrument:04d}",
                    day.isoformat(),
                    (day + timedelta(days=2)).isoformat(),
                    "buy" if rng.random() < 0.55 else "sell",
                    rng.randrange(1, 10_000),
                    f"{rng.uniform(1, 500):.4f}",
                    f"{rng.uniform(0, 20):.2f}",
                    "EUR" if instrument % 5 == 0 else "USD",
                    f"EXT-{n:09d}",
                ]
            )
    return {"rows": rows, "written": True}


def fast(path: Path) -> dict:
    _setup_django()
    from analytics.models import ImportStatus
    from analytics.services.imports.runs import data_import

    started = time.perf_counter()
    with path.open("rb") as handle:
        run = data_import(kind="trades", stream=handle, file_name=path.name, source="bench")
    seconds = time.perf_counter() - started
    assert run.status == ImportStatus.COMMITTED, run.message
    return {
        "rows": run.rows_total,
        "created": run.rows_created,
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
    }


def fast_again(path: Path) -> dict:
    """The same file a second time: everything unchanged."""
    _setup_django()
    from analytics.services.imports.runs import data_import

    started = time.perf_counter()
    with path.open("rb") as handle:
        run = data_import(kind="trades", stream=handle, file_name=path.name, source="bench")
    return {
        "rows": run.rows_total,
        "unchanged": run.rows_unchanged,
        "created": run.rows_created,
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": _peak_rss_mb(),
    }


def import_export(path: Path, sample: int) -> dict:
    _setup_django()
    import tablib

    from analytics.resources import TradeResource

    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        headers = next(reader)
        rows = [row for _, row in zip(range(sample), reader, strict=False)]
    # Another source, so the rows are new to the table (as for the fast path).
    dataset = tablib.Dataset(*[[*row, "bench-ie"] for row in rows], headers=[*headers, "source"])
    started = time.perf_counter()
    result = TradeResource().import_data(dataset, dry_run=False, use_transactions=True)
    seconds = time.perf_counter() - started
    assert not result.has_errors() and not result.has_validation_errors()
    return {"rows": len(rows), "created": result.totals["new"], "seconds": seconds}


def raw_copy(path: Path) -> dict:
    _setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_raw_trades (portfolio varchar(32), instrument varchar(32), "
            "trade_date date, settle_date date, side varchar(4), quantity numeric(24,6), "
            "price numeric(24,6), fees numeric(24,6), currency varchar(3), "
            "external_id varchar(64))"
        )
        started = time.perf_counter()
        with (
            path.open("rb") as handle,
            cursor.cursor.copy("COPY bench_raw_trades FROM STDIN (FORMAT csv, HEADER)") as copy,
        ):
            while block := handle.read(1024 * 1024):
                copy.write(block)
        seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_raw_trades")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_raw_trades")
    return {"rows": rows, "seconds": seconds}


KEYED_COLUMNS = (
    "portfolio_id, instrument_id, trade_date, settle_date, side, quantity, price, fees, "
    "currency, external_id, source, created_at"
)


def keyed_copy(path: Path) -> dict:
    """The floor: one ``COPY`` of the same rows into a scratch table with the trade
    table's keys, indexes and checks and no foreign-key triggers (module docstring).
    Writing the id-resolved file and building the table are not timed; the ``COPY``
    and its commit are."""
    _setup_django()
    from django.db import connection

    from analytics.models import Instrument, Portfolio

    portfolio_ids = dict(Portfolio.objects.values_list("code", "id"))
    instrument_ids = dict(Instrument.objects.values_list("identifier", "id"))
    keyed_path = path.with_suffix(".keyed.csv")
    created_at = "2024-01-01 00:00:00+00"
    with path.open(newline="") as source, keyed_path.open("w", newline="") as target:
        reader, writer = csv.reader(source), csv.writer(target)
        next(reader)
        for row in reader:
            writer.writerow(
                [portfolio_ids[row[0]], instrument_ids[row[1]], *row[2:], "bench", created_at]
            )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_keyed_trades")
        cursor.execute(
            "CREATE TABLE bench_keyed_trades (LIKE analytics_trade INCLUDING DEFAULTS "
            "INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING INDEXES)"
        )
        cursor.execute(
            "SELECT count(*) FILTER (WHERE contype = 'f'), count(*) FILTER (WHERE contype "
            "IN ('p', 'u', 'c')) FROM pg_constraint WHERE conrelid = %s::regclass",
            ["bench_keyed_trades"],
        )
        foreign_keys, keys_and_checks = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'analytics_trade'::regclass "
            "AND contype IN ('p', 'u', 'c')"
        )
        assert (foreign_keys, keys_and_checks) == (0, cursor.fetchone()[0])
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_indexes WHERE tablename = 'bench_keyed_trades'),"
            " (SELECT count(*) FROM pg_indexes WHERE tablename = 'analytics_trade')"
        )
        indexes, trade_indexes = cursor.fetchone()
        assert indexes == trade_indexes, (indexes, trade_indexes)
        # Autocommit: the COPY's own transaction commits when it ends, inside the timing.
        started = time.perf_counter()
        with (
            keyed_path.open("rb") as handle,
            cursor.cursor.copy(
                f"COPY bench_keyed_trades ({KEYED_COLUMNS}) FROM STDIN (FORMAT csv)"
            ) as copy,
        ):
            while block := handle.read(1024 * 1024):
                copy.write(block)
        seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_keyed_trades")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_keyed_trades")
    keyed_path.unlink()
    return {"rows": rows, "seconds": seconds, "indexes": indexes}


def child(phase: str, *args: str) -> dict:
    output = subprocess.run(  # noqa: S603 - this script with its own arguments
        [sys.executable, __file__, "--phase", phase, *args],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=50_000)
    parser.add_argument(
        "--file", default=str(Path(tempfile.gettempdir()) / "ingest-bench-trades.csv")
    )
    parser.add_argument(
        "--skip-import-export",
        action="store_true",
        help="skip the (slow) django-import-export sample while iterating",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    options = parser.parse_args()
    path = Path(options.file)
    if options.phase:
        result = {
            "prepare": lambda: prepare(options.rows, path),
            "fast": lambda: fast(path),
            "fast_again": lambda: fast_again(path),
            "import_export": lambda: import_export(path, options.sample),
            "raw_copy": lambda: raw_copy(path),
            "keyed_copy": lambda: keyed_copy(path),
        }[options.phase]()
        print(json.dumps(result))
        return

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (see the docstring).")
    args = ["--rows", str(options.rows), "--sample", str(options.sample), "--file", str(path)]
    print(f"Preparing {options.rows:,} trades in {path} ...", flush=True)
    child("prepare", *args)
    size_mb = path.stat().st_size / 1e6
    print(f"File: {size_mb:.0f} MB, {options.rows:,} rows\n", flush=True)

    fast_result = child("fast", *args)
    again = child("fast_again", *args)
    ie = None if options.skip_import_export else child("import_export", *args)
    raw = child("raw_copy", *args)
    floor = child("keyed_copy", *args)

    def rate(r):
        return r["rows"] / r["seconds"]

    print(f"{'path':<52}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
    lines = [
        ("fast path (validate + stage + insert + audit)", fast_result),
        ("fast path, same file again (all unchanged)", again),
        (f"django-import-export TradeResource ({ie['rows']:,} rows)" if ie else "", ie),
        ("raw COPY into a bare table (for scale)", raw),
        (f"COPY into a keyed table ({floor['indexes']} indexes, no FK): floor", floor),
    ]
    for label, r in lines:
        if r is None:
            continue
        print(f"{label:<52}{r['rows']:>12,}{r['seconds']:>10.2f}{rate(r):>12,.0f}")
    print()
    if ie:
        print(
            f"fast path vs django-import-export: {rate(fast_result) / rate(ie):,.1f}x (goal >= 20x)"
        )
    print(
        f"fast path vs keyed COPY floor: {rate(fast_result) / rate(floor):.2f} (goal >= 0.5);"
        f" the keyed COPY runs at {rate(floor) / rate(raw):.2f} of the raw COPY"
    )
    print(f"fast path peak RSS: {fast_result['peak_rss_mb']:.0f} MB (goal < 500 MB)")
    print(f"re-import peak RSS: {again['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
