"""Report renderers against the reference libraries, in one run.

Run: ``python benchmarks/reports.py [--rows 100000]`` (``make bench-reports``).

**Monthly performance, 10 years of daily returns.** A synthetic portfolio and
benchmark (fixed seed, 2,610 business days from 2015) made into the document a
monthly-performance report has: KPI tiles, cumulative return vs benchmark,
underwater curve, calendar heatmap, rolling risk, and the monthly, annual and
worst-drawdown tables. Its metrics are computed before the clock starts (in the
portal the stored snapshot holds them), so the time is the rendering's. Each
case runs in a fresh process:

* ``ours pdf (warm worker)``, the headline: what a Celery worker of the
  ``reports`` queue does, which starts Chromium and the WeasyPrint child as it
  starts (``reports.warmup.renderers_start``, before the clock); then its first
  report is timed, and a second one (``repeat``);
* ``ours pdf (cold)``: a process that starts Chromium for the charts (about 6 s
  of it) and the WeasyPrint child on its first report (a worker with
  ``REPORTS_WARM_CHROMIUM=false``);
* ``quantstats html``: ``quantstats.reports.html`` on the same daily returns and
  benchmark (it computes its metrics and draws its matplotlib charts as SVG);
* ``report xlsx`` / ``report csv`` of the same document.

**Trades.** One synthetic trades frame (fixed seed: dates, portfolio,
instrument, side, quantity, price, amount, realised P&L, slippage in bp,
trader, strategy) is written four ways, each in a fresh process so that one
case's memory never counts against another:

* ``ours xlsx``: ``reports.renderers.xlsx`` (XlsxWriter, constant memory) on a
  one-table document whose rows stream from the frame as the trades block
  hands them over (a lazy iterator of tuples, read once, inside the clock);
* ``pandas xlsx``: ``DataFrame.to_excel(engine="openpyxl")`` on the same frame;
* ``ours csv``: ``reports.renderers.csv``;
* ``pandas csv``: ``DataFrame.to_csv``.

Time is the write's wall-clock time. Memory: **the write's own peak** is the
highest resident set during the write minus the resident set just before it
(after the imports and the frame, which every case pays alike): the kernel's
high-water mark is reset first (``/proc/self/clear_refs``) and read after
(``VmHWM``); where that is not possible, the peak's growth (``ru_maxrss``
after minus before) is shown instead. The process's peak (``ru_maxrss``) is
printed beside it. Ours also neutralises formula-like text cells, which pandas
does not. Goals: our XLSX no slower than pandas' with its write's peak under
300 MB; our CSV within 2× of pandas'; the PDF (warm worker) no slower than
quantstats' tearsheet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ("ours xlsx", "pandas xlsx", "ours csv", "pandas csv")
REPORT_CASES = ("ours pdf warm", "ours pdf cold", "quantstats html", "report xlsx", "report csv")
XLSX_MEMORY_GOAL_MB = 300
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def peak_mb() -> float:
    """The process's peak resident set so far (``ru_maxrss``, kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field: str) -> float | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def high_water_reset() -> bool:
    """Reset the kernel's resident-set high-water mark (``VmHWM``) of this process
    to its current resident set; False where the kernel does not allow it."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class WritePeak:
    """The peak memory a block of code adds: ``VmHWM`` after minus ``VmRSS``
    before, with the high-water mark reset at the start (or, without that,
    ``ru_maxrss`` after minus before)."""

    def __enter__(self) -> WritePeak:
        self.exact = high_water_reset()
        self.before = (_status_mb("VmRSS") if self.exact else None) or peak_mb()
        self.exact = self.exact and _status_mb("VmHWM") is not None
        return self

    def __exit__(self, *exc_info: object) -> None:
        after = _status_mb("VmHWM") if self.exact else peak_mb()
        self.mb = max(0.0, (after or 0.0) - self.before)


def trades_frame(rows: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20240331)
    start = dt.date(2015, 1, 1)
    days = rng.integers(0, 3650, rows)
    instruments = np.array([f"Instrument {n:03d} plc" for n in range(500)])
    quantity = rng.integers(1, 10_000, rows)
    price = np.round(rng.uniform(5, 500, rows), 4)
    return pd.DataFrame(
        {
            "trade_date": [start + dt.timedelta(days=int(day)) for day in days],
            "portfolio": rng.choice(["GEQ", "EMD", "USBAL"], rows),
            "instrument": instruments[rng.integers(0, 500, rows)],
            "side": rng.choice(["BUY", "SELL"], rows),
            "quantity": quantity,
            "price": price,
            "amount": np.round(quantity * price, 2),
            "realised_pnl": np.round(rng.normal(0, 2_000, rows), 2),
            "slippage_bps": np.round(rng.normal(0, 4, rows), 2),
            "trader": rng.choice(["ana", "ben", "chloe", "dev"], rows),
            "strategy": rng.choice(["momentum", "value", "carry"], rows),
        }
    )


def trades_document(frame):
    from reports.document import Column, Document, Section, Table

    columns = [
        Column("trade_date", "Trade date", "date"),
        Column("portfolio", "Portfolio"),
        Column("instrument", "Instrument"),
        Column("side", "Side"),
        Column("quantity", "Quantity", "integer"),
        Column("price", "Price", "number", decimals=4),
        Column("amount", "Amount", "currency", decimals=2, currency="USD"),
        Column("realised_pnl", "Realised P&L", "currency", decimals=2, currency="USD"),
        Column("slippage_bps", "Slippage", "bps"),
        Column("trader", "Trader"),
        Column("strategy", "Strategy"),
    ]
    table = Table(
        name="trades",
        title="Trades",
        columns=columns,
        # The rows as the trades block hands them over: a lazy iterator of tuples,
        # read once by the renderer (never a list of 100,000 rows in memory).
        rows=frame.itertuples(index=False, name=None),
    )
    return Document(
        title="Trades",
        template_slug="trades",
        template_version=1,
        run_id=None,
        generated_at=dt.datetime.now(dt.UTC),
        run_as="Benchmark",
        period_key="custom",
        period_label="2015–2024",
        period_start=None,
        period_end=None,
        as_of=None,
        reporting_currency="USD",
        portfolios=[],
        sections=[Section(key="trades-ALL", block="trades", title="Trades", tables=[table])],
    )


def daily_returns():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20150101)
    dates = pd.bdate_range("2015-01-01", periods=2610)
    market = rng.normal(0.0003, 0.011, len(dates))
    portfolio = 0.0001 + 0.95 * market + rng.normal(0, 0.004, len(dates))
    return pd.Series(portfolio, index=dates, name="Portfolio"), pd.Series(
        market, index=dates, name="Benchmark"
    )


def performance_document(returns, benchmark):
    """The monthly-performance document of ``returns`` against ``benchmark``."""
    import numpy as np

    from analytics.presentation.figures import (
        calendar_heatmap_figure,
        cumulative_return_figure,
        rolling_figure,
        underwater_figure,
    )
    from reports.document import (
        Column,
        Document,
        Figure,
        Kpi,
        PortfolioHeader,
        Section,
        SheetChart,
        Table,
    )

    dates = [day.date().isoformat() for day in returns.index]
    growth, bench_growth = (1 + returns).cumprod(), (1 + benchmark).cumprod()
    underwater = growth / growth.cummax() - 1
    monthly = (1 + returns).resample("ME").prod() - 1
    bench_monthly = (1 + benchmark).resample("ME").prod() - 1
    yearly = (1 + returns).resample("YE").prod() - 1
    bench_yearly = (1 + benchmark).resample("YE").prod() - 1
    calendar = {
        str(year): [
            *(monthly[monthly.index.year == year].tolist() + [None] * 12)[:12],
            float(yearly[yearly.index.year == year].iloc[0]),
        ]
        for year in sorted(set(monthly.index.year))
    }
    windows = {}
    for window in (63, 252):
        volatility = returns.rolling(window).std() * np.sqrt(252)
        sharpe = returns.rolling(window).mean() * 252 / volatility
        windows[str(window)] = {
            "volatility": [None if np.isnan(v) else float(v) for v in volatility],
            "sharpe": [None if np.isnan(v) else float(v) for v in sharpe],
        }
    years = len(returns) / 252
    volatility = float(returns.std() * np.sqrt(252))
    beta = float(np.cov(returns, benchmark)[0, 1] / benchmark.var())
    troughs = []
    depth = underwater.copy()
    for _ in range(5):
        trough = depth.idxmin()
        peak = growth[:trough].idxmax()
        after = underwater[trough:]
        recovered = after[after >= 0]
        recovery = recovered.index[0] if len(recovered) else None
        troughs.append(
            (
                peak.date(),
                trough.date(),
                recovery.date() if recovery else None,
                float(underwater[trough]),
            )
        )
        depth[peak : recovery or depth.index[-1]] = 0
    percent = "percent"
    summary = Section(
        key="performance_summary-SYN",
        block="performance_summary",
        title="Performance summary",
        portfolio="SYN",
        kpis=[
            Kpi("Total return", float(growth.iloc[-1] - 1), percent),
            Kpi("Annualised return", float(growth.iloc[-1] ** (1 / years) - 1), percent),
            Kpi("Benchmark (annualised)", float(bench_growth.iloc[-1] ** (1 / years) - 1), percent),
            Kpi("Volatility", volatility, percent),
            Kpi("Sharpe ratio", float(returns.mean() * 252 / volatility), "ratio"),
            Kpi("Maximum drawdown", float(underwater.min()), percent),
            Kpi("Beta", beta, "ratio"),
        ],
        tables=[
            Table(
                name="annual",
                title="Calendar-year returns",
                columns=[
                    Column("year", "Year"),
                    Column("portfolio", "Portfolio", percent),
                    Column("benchmark", "Benchmark", percent),
                    Column("excess", "Excess", percent),
                ],
                rows=[
                    (str(day.year), float(value), float(bench), float(value - bench))
                    for day, value, bench in zip(yearly.index, yearly, bench_yearly, strict=True)
                ],
                chart=SheetChart(
                    "column", "Calendar-year returns", "year", ("portfolio", "benchmark")
                ),
            )
        ],
        figures=[
            Figure(
                "cumulative",
                "Cumulative return vs benchmark",
                cumulative_return_figure(
                    {
                        "cumulative": {"dates": dates, "values": (growth - 1).tolist()},
                        "benchmark_cumulative": {
                            "dates": dates,
                            "values": (bench_growth - 1).tolist(),
                        },
                    },
                    benchmark="Synthetic index",
                ),
            ),
            Figure("calendar", "Monthly returns", calendar_heatmap_figure(calendar)),
        ],
    )
    drawdowns = Section(
        key="drawdowns-SYN",
        block="drawdowns",
        title="Drawdowns",
        portfolio="SYN",
        figures=[
            Figure(
                "underwater",
                "Drawdown from peak",
                underwater_figure({"dates": dates, "values": underwater.tolist()}),
            )
        ],
        tables=[
            Table(
                name="worst",
                title="Worst drawdowns",
                columns=[
                    Column("peak", "Peak", "date"),
                    Column("trough", "Trough", "date"),
                    Column("recovery", "Recovery", "date"),
                    Column("depth", "Depth", percent),
                ],
                rows=troughs,
            )
        ],
    )
    rolling = Section(
        key="rolling_risk-SYN",
        block="rolling_risk",
        title="Rolling risk",
        portfolio="SYN",
        figures=[
            Figure(
                "rolling",
                "Rolling volatility and Sharpe ratio",
                rolling_figure({"dates": dates, "windows": windows}),
            )
        ],
    )
    months = Section(
        key="monthly_returns-SYN",
        block="monthly_returns",
        title="Monthly returns",
        portfolio="SYN",
        tables=[
            Table(
                name="monthly",
                title="Monthly returns",
                columns=[
                    Column("month", "Month end", "date"),
                    Column("portfolio", "Portfolio", percent),
                    Column("benchmark", "Benchmark", percent),
                    Column("excess", "Excess", percent),
                ],
                rows=[
                    (day.date(), float(value), float(bench), float(value - bench))
                    for day, value, bench in zip(monthly.index, monthly, bench_monthly, strict=True)
                ],
                chart=SheetChart("line", "Monthly returns", "month", ("portfolio", "benchmark")),
            )
        ],
    )
    end = returns.index[-1].date()
    return Document(
        title="Monthly performance",
        template_slug="monthly-performance",
        template_version=1,
        run_id=None,
        generated_at=dt.datetime.now(dt.UTC),
        run_as="Benchmark",
        period_key="since_inception",
        period_label="Since inception",
        period_start=returns.index[0].date(),
        period_end=end,
        as_of=end,
        reporting_currency="USD",
        portfolios=[PortfolioHeader(1, "SYN", "Synthetic Balanced Fund", "USD", end, 1, None)],
        sections=[summary, drawdowns, rolling, months],
    )


def run_report_case(case: str) -> dict:
    """One case of the monthly-performance comparison, in this (fresh) process."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    returns, benchmark = daily_returns()
    directory = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    result: dict = {"case": case}
    if case == "quantstats html":
        import warnings

        import quantstats

        warnings.simplefilter("ignore")
        started = time.perf_counter()
        path = directory / "tearsheet.html"
        quantstats.reports.html(returns, benchmark, output=str(path), title="Monthly performance")
        result["seconds"] = time.perf_counter() - started
    else:
        from reports.renderers import RENDERERS

        file_format = "pdf" if case.startswith("ours pdf") else case.split()[-1]
        renderer = RENDERERS[file_format]
        if case == "ours pdf warm":
            from reports.warmup import renderers_start

            # What a reports worker does as it starts, before any task arrives.
            started = time.perf_counter()
            renderers_start()
            result["warm_up_seconds"] = time.perf_counter() - started
        document = performance_document(returns, benchmark)
        started = time.perf_counter()
        rendered = renderer(document, directory=directory)
        result["seconds"] = time.perf_counter() - started
        path = rendered.path
        result["warnings"] = list(rendered.warnings)
        if file_format == "pdf":
            result["pages"] = rendered.pages
        if case == "ours pdf warm":
            document = performance_document(returns, benchmark)
            started = time.perf_counter()
            renderer(document, directory=directory)
            result["repeat_seconds"] = time.perf_counter() - started
    result["peak_mb"] = peak_mb()
    result["bytes"] = path.stat().st_size
    return result


def run_case(case: str, rows: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import openpyxl  # noqa: F401  (imported before the baseline, as xlsxwriter is)

    from reports.renderers import csv as csv_renderer
    from reports.renderers import xlsx as xlsx_renderer

    frame = trades_frame(rows)
    directory = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    renderer = xlsx_renderer if case.endswith("xlsx") else csv_renderer
    document = trades_document(frame)
    with WritePeak() as write:
        started = time.perf_counter()
        if case == "pandas xlsx":
            path = directory / "trades.xlsx"
            frame.to_excel(path, engine="openpyxl", index=False, sheet_name="trades")
        elif case == "pandas csv":
            path = directory / "trades.csv"
            frame.to_csv(path, index=False)
        else:
            path = renderer.render(document, directory=directory).path
        seconds = time.perf_counter() - started
    return {
        "case": case,
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "write_peak_mb": write.mb,
        "write_peak_exact": write.exact,
        "bytes": path.stat().st_size,
    }


def _child(case: str, rows: int) -> dict:
    """Run one case in a fresh process; its result."""
    completed = subprocess.run(  # noqa: S603 (this script, by our own interpreter)
        [sys.executable, __file__, "--case", case, "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--case", choices=CASES + REPORT_CASES, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.case in REPORT_CASES:
        print(json.dumps(run_report_case(arguments.case)))
        return
    if arguments.case:
        print(json.dumps(run_case(arguments.case, arguments.rows)))
        return
    print("Monthly performance, 10 years of daily returns")
    reports = {}
    labels = {"ours pdf warm": "ours pdf (warm worker)", "ours pdf cold": "ours pdf (cold)"}
    for case in REPORT_CASES:
        reports[case] = result = _child(case, arguments.rows)
        print(
            f"{labels.get(case, case):22} {result['seconds']:7.2f} s"
            f"  peak {result['peak_mb']:5.0f} MB  {result['bytes'] / 1e6:5.1f} MB file"
            + (f"  {result['pages']} pages" if "pages" in result else "")
            + (f"  ({len(result['warnings'])} warnings)" if result.get("warnings") else "")
        )
        if "repeat_seconds" in result:
            print(
                f"{'  repeat':22} {result['repeat_seconds']:7.2f} s"
                f"  (warm-up before the first: {result['warm_up_seconds']:.2f} s)"
            )
    quantstats_seconds = reports["quantstats html"]["seconds"]
    warm = reports["ours pdf warm"]["seconds"] / quantstats_seconds
    cold = reports["ours pdf cold"]["seconds"] / quantstats_seconds
    print(f"PDF ours (warm worker) / quantstats: {warm:.2f}× (goal ≤ 1.00×); cold: {cold:.2f}×")
    print(f"\n{arguments.rows:,}-row trades table")
    results = {}
    for case in CASES:
        results[case] = result = _child(case, arguments.rows)
        marker = "" if result["write_peak_exact"] else " (growth of ru_maxrss)"
        print(
            f"{case:12} {result['seconds']:7.2f} s  write peak {result['write_peak_mb']:5.0f} MB"
            f"{marker}  process peak {result['peak_mb']:5.0f} MB"
            f"  {result['bytes'] / 1e6:5.1f} MB file"
        )
    xlsx_ratio = results["ours xlsx"]["seconds"] / results["pandas xlsx"]["seconds"]
    csv_ratio = results["ours csv"]["seconds"] / results["pandas csv"]["seconds"]
    peak = results["ours xlsx"]["write_peak_mb"]
    print(f"XLSX ours / pandas to_excel: {xlsx_ratio:.2f}× (goal ≤ 1.00×)")
    print(
        f"XLSX ours write peak: {peak:.0f} MB (goal < {XLSX_MEMORY_GOAL_MB} MB; pandas"
        f" {results['pandas xlsx']['write_peak_mb']:.0f} MB)"
    )
    print(f"CSV ours / pandas to_csv: {csv_ratio:.2f}× (goal ≤ 2.00×)")


if __name__ == "__main__":
    main()
