"""``manage.py metrics RETURNS.csv --benchmark COLUMN``: the metric table of a CSV as JSON.

The CSV's first column is a date (ISO 8601, strictly increasing); every other column holds simple
periodic returns (0.01 = 1 %), one of them the benchmark. The command prints
``{"portfolios": {column: {metric: value}}}`` for every non-benchmark column with the keys of
:data:`analytics.engine.metrics.METRICS`; NaN and infinities are printed as ``null``.

Missing cells: only an empty cell is missing (text such as "NA" or "n/a" is not a number). A
portfolio may start later than the file (empty cells before its first return): its metrics use
its own returns and ``n_obs`` counts them. An empty cell after a column's first return is an
error, never a zero return. Bad input exits non-zero with a message naming the file, the column
and the line or date.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.engine.metrics import ReturnsDataError, metric_table

INTEGER_METRICS = ("n_obs", "max_drawdown_duration")


class Command(BaseCommand):
    help = (
        "Compute performance, risk and benchmark-relative metrics for every portfolio column of "
        "a CSV of simple periodic returns and print them as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "returns_csv",
            help="CSV file: a date column, then one column of simple returns per portfolio "
            "and one for the benchmark",
        )
        parser.add_argument("--benchmark", required=True, help="name of the benchmark column")
        parser.add_argument(
            "--risk-free",
            type=float,
            default=0.0,
            help="annual risk-free rate as a fraction (0.02 = 2 %%), default 0",
        )
        parser.add_argument(
            "--periods-per-year", type=int, default=252, help="return periods per year (252)"
        )
        parser.add_argument(
            "--confidence", type=float, default=0.95, help="VaR/CVaR confidence (0.95)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(str(options["returns_csv"]))
        benchmark = str(options["benchmark"])
        risk_free = float(options["risk_free"])
        periods = int(options["periods_per_year"])
        confidence = float(options["confidence"])
        if periods < 1:
            raise CommandError(f"--periods-per-year must be a positive integer, got {periods}")
        if not 0.0 < confidence < 1.0:
            raise CommandError(f"--confidence must be between 0 and 1, got {confidence}")
        if not risk_free > -1.0:
            raise CommandError(f"--risk-free must be above -1 (-100 %), got {risk_free}")

        returns = _read_returns(path)
        if benchmark not in returns.columns:
            raise CommandError(
                f"{path}: no column {benchmark!r} for --benchmark; columns are "
                f"{', '.join(map(repr, returns.columns))}"
            )
        portfolios = returns.drop(columns=benchmark)
        if portfolios.columns.empty:
            raise CommandError(f"{path}: no portfolio column besides the benchmark {benchmark!r}")
        try:
            table = metric_table(
                portfolios,
                returns[benchmark],
                risk_free=risk_free,
                periods_per_year=periods,
                confidence=confidence,
            )
        except ReturnsDataError as error:
            raise CommandError(f"{path}: {error}") from error
        self.stdout.write(json.dumps({"portfolios": _as_json(table)}, indent=2, allow_nan=False))


def _read_returns(path: Path) -> pd.DataFrame:
    """Read the CSV into a float frame indexed by date, or raise a CommandError naming the line."""
    try:
        raw = pd.read_csv(
            path, dtype=str, skipinitialspace=True, keep_default_na=False, na_values=[""]
        )
    except FileNotFoundError as error:
        raise CommandError(f"{path}: no such file") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: not a readable CSV ({error})") from error
    if raw.shape[1] < 2:
        raise CommandError(f"{path}: need a date column and at least one column of returns")
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle), [])
    repeated = sorted({name.strip() for name in header if header.count(name) > 1})
    if repeated:
        # pandas would silently rename the second one to "name.1".
        raise CommandError(f"{path}: repeated column name(s) {', '.join(map(repr, repeated))}")
    # Line numbers as a spreadsheet shows them: the header is line 1.
    lines = pd.RangeIndex(2, len(raw) + 2)
    date_column = raw.columns[0]
    dates = pd.to_datetime(raw[date_column], format="ISO8601", errors="coerce")
    undated = np.flatnonzero(dates.isna().to_numpy())
    if undated.size:
        text = raw[date_column].iloc[undated[0]]
        raise CommandError(
            f"{path}: line {lines[undated[0]]}, column {date_column!r}: {text!r} is not a date"
        )
    not_increasing = np.flatnonzero(np.diff(dates.to_numpy()) <= np.timedelta64(0))
    if not_increasing.size:
        line = lines[not_increasing[0] + 1]
        raise CommandError(f"{path}: line {line}: dates must be strictly increasing")
    values = raw.drop(columns=date_column)
    numbers = values.apply(pd.to_numeric, errors="coerce")
    bad = (numbers.isna() & values.notna()).to_numpy()
    if bad.any():
        position, column = np.argwhere(bad)[0]
        raise CommandError(
            f"{path}: line {lines[position]}, column {values.columns[column]!r}: "
            f"{values.iloc[position, column]!r} is not a number"
        )
    numbers.index = pd.DatetimeIndex(dates, name=date_column)
    return numbers.astype(np.float64)


def _as_json(table: pd.DataFrame) -> dict[str, dict[str, float | int | None]]:
    """Plain JSON values: NaN and ±inf become None, counts become integers."""
    result: dict[str, dict[str, float | int | None]] = {}
    for portfolio, row in table.iterrows():
        metrics: dict[str, float | int | None] = {}
        for name, value in row.items():
            number = float(value)
            if not math.isfinite(number):
                metrics[name] = None
            else:
                metrics[name] = int(number) if name in INTEGER_METRICS else number
        result[str(portfolio)] = metrics
    return result
