"""The numbers in a rendered report's files are the stored snapshot's, and they
are right: the built-in ``monthly-performance`` and ``holdings`` templates are run
for a portfolio whose snapshot the analytics task computed, and each file is read
back with its own reader (pdftotext, openpyxl, csv).

The book, worked by hand: Alice's USD portfolio "QUAD" receives 1,000 USD on
Monday 25 March 2024 and buys 5 AAA at 100 and 50 BBB at 10 (no cash left).
AAA closes 100, 104, 101.92 and 107.016 from Monday to Thursday; BBB closes 10
every day. Net assets are 1,000, 1,020, 1,009.60 and 1,035.08, so:

* the return since inception is 1,035.08 / 1,000 − 1 = 3.508 % (shown 3.51%);
* the daily returns are r₁ = 1,020 / 1,000 − 1 = 2 %, r₂ = 1,009.6 / 1,020 − 1
  ≈ −1.0196 % and r₃ = 1,035.08 / 1,009.6 − 1 ≈ 2.5238 %; the annualised
  volatility is their sample standard deviation × √252 ≈ 30.36 %;
* the 95 % one-day historical VaR is minus the linear-rule 5th percentile of
  the sorted returns: −(r₂ + 0.1 (r₁ − r₂)) ≈ 0.72 %; the normal VaR is
  −(mean + z σ) with z = Φ⁻¹(0.05) ≈ 1.98 %;
* on Thursday AAA is worth 5 × 107.016 = 535.08 USD, 535.08 / 1,035.08 ≈ 51.69 %
  of net assets, and BBB 500 USD, ≈ 48.31 %.
"""

import csv
import datetime as dt
import io
import itertools
import math
import statistics
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from analytics.models import AnalyticsSnapshot, SnapshotStatus
from analytics.services.positions import portfolio_positions_rebuild
from portal.celery import app
from reports.models import ReportTemplate, RunStatus
from reports.renderers.formats import value_text
from reports.renderers.svg import chart_exporter
from reports.services.runs import report_render_sync
from reports.storage import report_storage
from tests.analytics.factories import CashFlowFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

MON, TUE, WED, THU = (dt.date(2024, 3, day) for day in (25, 26, 27, 28))
AAA_CLOSES = {MON: "100", TUE: "104", WED: "101.92", THU: "107.016"}
NET_ASSETS = (1000.0, 1020.0, 1009.6, 1035.08)
DAILY = [after / before - 1 for before, after in itertools.pairwise(NET_ASSETS)]

HAND_RETURN = (5 * 107.016 + 50 * 10) / 1000 - 1
HAND_VOLATILITY = statistics.stdev(DAILY) * math.sqrt(252)
_WORST, _NEXT = sorted(DAILY)[:2]
HAND_VAR_HISTORICAL = -(_WORST + 0.1 * (_NEXT - _WORST))
HAND_VAR_NORMAL = -(
    statistics.mean(DAILY) + statistics.NormalDist().inv_cdf(0.05) * statistics.stdev(DAILY)
)
HAND_AAA_VALUE = 5 * 107.016
HAND_AAA_WEIGHT = HAND_AAA_VALUE / 1035.08
HAND_BBB_WEIGHT = 500 / 1035.08


def _percent(fraction: float) -> str:
    """A fraction as the files print it, rounded here by hand: two decimals."""
    return f"{fraction * 100:.2f}%"


@pytest.fixture(scope="module", autouse=True)
def charts_closed():
    """The runs draw their charts with the process's exporter; stop its Chromium after."""
    yield
    chart_exporter().close()


@pytest.fixture
def quad(alice, django_capture_on_commit_callbacks):
    portfolio = PortfolioFactory(
        code="QUAD", name="Quad Fund", base_currency="USD", inception_date=MON, owner=alice
    )
    aaa = InstrumentFactory(identifier="AAA", name="Alpha", currency="USD", sector="Energy")
    bbb = InstrumentFactory(identifier="BBB", name="Bravo", currency="USD", sector="Utilities")
    CashFlowFactory(portfolio=portfolio, date=MON, amount=Decimal("1000"))
    TradeFactory(portfolio=portfolio, instrument=aaa, trade_date=MON, quantity=5, price=100)
    TradeFactory(portfolio=portfolio, instrument=bbb, trade_date=MON, quantity=50, price=10)
    for day, close in AAA_CLOSES.items():
        PriceFactory(instrument=aaa, date=day, close=Decimal(close))
        PriceFactory(instrument=bbb, date=day, close=Decimal("10"))
    # What every ingest path does after writing; the snapshot task runs as the worker would.
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            portfolio_positions_rebuild(portfolio=portfolio)
    finally:
        app.conf.task_always_eager = False
    portfolio.refresh_from_db()
    return portfolio


@pytest.fixture
def stored(quad):
    """The stored snapshot's figures, read from its row."""
    snapshot = AnalyticsSnapshot.objects.get(portfolio=quad, status=SnapshotStatus.DONE)
    assert snapshot.as_of == THU
    since_inception = snapshot.result["metrics"]["windows"]["SI"]
    var_rows = {
        (row["method"], row["confidence"], row["horizon"]): row
        for row in snapshot.result["var"]["rows"]
    }
    # One instrument per sector: a sector's exposure is that holding's weight.
    sectors = snapshot.result["exposures"]["dimensions"]["sector"]
    by_sector = {entry["sector"]: entry["net"] for entry in sectors}
    weights = {"AAA": by_sector["Energy"], "BBB": by_sector["Utilities"]}
    return {
        "snapshot": snapshot,
        "return": since_inception["portfolio"]["cumulative_return"],
        "volatility": since_inception["portfolio"]["annual_volatility"],
        "var_historical": var_rows[("historical", 0.95, 1)]["var"],
        "var_normal": var_rows[("normal", 0.95, 1)]["var"],
        "weights": weights,
        "net_assets": snapshot.result["series"]["net_assets"]["values"][-1],
    }


def test_the_stored_snapshot_follows_the_worked_example(stored):
    assert stored["return"] == pytest.approx(HAND_RETURN, abs=1e-12)
    assert stored["volatility"] == pytest.approx(HAND_VOLATILITY, rel=1e-12)
    assert stored["var_historical"] == pytest.approx(HAND_VAR_HISTORICAL, rel=1e-12)
    assert stored["var_normal"] == pytest.approx(HAND_VAR_NORMAL, rel=1e-9)
    assert stored["net_assets"] == pytest.approx(1035.08)
    assert stored["weights"]["AAA"] == pytest.approx(HAND_AAA_WEIGHT, rel=1e-12)
    assert stored["weights"]["BBB"] == pytest.approx(HAND_BBB_WEIGHT, rel=1e-12)


def _run(user, slug, file_format):
    template = ReportTemplate.objects.get(slug=slug)
    run = report_render_sync(
        user=user,
        template=template,
        formats=[file_format],
        parameters={"period": "since_inception"},
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    [stored_file] = run.files.all()
    return Path(report_storage().path(stored_file.storage_name))


def _pdf_lines(path: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [" ".join(line.split()) for line in text.splitlines()]


def _line_with(lines: list[str], *parts: str) -> str:
    """The one line that holds every one of ``parts`` (a table row as printed)."""
    found = [line for line in lines if all(part in line for part in parts)]
    assert found, f"no line with {parts}"
    return found[0]


def test_the_monthly_performance_pdf_shows_the_stored_numbers(alice, quad, stored):
    path = _run(alice, "monthly-performance", "pdf")
    lines = _pdf_lines(path)
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)

    shown_return = value_text(stored["return"], "percent")
    assert shown_return == _percent(HAND_RETURN) == "3.51%"
    assert shown_return in text
    # The metrics table's rows: label, portfolio (no benchmark, so "–").
    assert shown_return in _line_with(lines, "Cumulative return", "%")
    shown_volatility = value_text(stored["volatility"], "percent")
    assert shown_volatility == _percent(HAND_VOLATILITY) == "30.36%"
    assert shown_volatility in _line_with(lines, "Volatility (annualised)", "%")

    shown_var = value_text(stored["var_historical"], "percent")
    assert shown_var == _percent(HAND_VAR_HISTORICAL) == "0.72%"
    historical = _line_with(lines, "Historical", "one day", "95%")
    assert shown_var in historical
    shown_normal = value_text(stored["var_normal"], "percent")
    assert shown_normal == _percent(HAND_VAR_NORMAL) == "1.98%"
    assert shown_normal in _line_with(lines, "Normal", "one day", "95%")


def _sheet_with_header(workbook, *labels):
    for sheet in workbook.worksheets:
        header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
        if all(label in header for label in labels):
            return sheet, header
    raise AssertionError(f"no sheet with the columns {labels}")


def _rows_as_dicts(sheet, header):
    return [
        dict(zip(header, row, strict=False)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]


def test_the_monthly_performance_xlsx_holds_the_stored_numbers(alice, quad, stored):
    workbook = openpyxl.load_workbook(_run(alice, "monthly-performance", "xlsx"))

    report = workbook["Report"]
    kpis = {
        row[0].value: row[1] for row in report.iter_rows(max_col=2) if isinstance(row[0].value, str)
    }
    shown = kpis["Return over the period"]
    assert shown.value == pytest.approx(stored["return"], rel=1e-15)
    assert shown.value == pytest.approx(HAND_RETURN, abs=1e-12)
    assert shown.number_format == "0.00%"  # Excel shows 3.51%
    volatility = kpis["Volatility (annualised)"]
    assert volatility.value == pytest.approx(stored["volatility"], rel=1e-15)
    assert volatility.value == pytest.approx(HAND_VOLATILITY, rel=1e-12)
    assert volatility.number_format == "0.00%"

    sheet, header = _sheet_with_header(workbook, "Method", "Confidence", "VaR", "CVaR")
    rows = _rows_as_dicts(sheet, header)
    historical = next(
        row
        for row in rows
        if (row["Method"], row["Confidence"], row["Horizon (days)"]) == ("Historical", 0.95, 1)
    )
    assert historical["VaR"] == pytest.approx(stored["var_historical"], rel=1e-15)
    assert historical["VaR"] == pytest.approx(HAND_VAR_HISTORICAL, rel=1e-12)
    normal = next(
        row
        for row in rows
        if (row["Method"], row["Confidence"], row["Horizon (days)"]) == ("Normal", 0.95, 1)
    )
    assert normal["VaR"] == pytest.approx(stored["var_normal"], rel=1e-15)
    var_column = header.index("VaR") + 1
    assert sheet.cell(row=2, column=var_column).number_format == "0.00%"


def _csv_tables(path: Path) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))
            for name in archive.namelist()
        }


def test_the_monthly_performance_csv_holds_the_stored_numbers(alice, quad, stored):
    tables = _csv_tables(_run(alice, "monthly-performance", "csv"))

    returns_and_risk = tables["performance_summary-quad-metrics_returns_and_risk.csv"]
    metrics = {row["metric"]: row for row in returns_and_risk}
    # CSV cells are raw: percentages as fractions, written as Python writes the float.
    assert float(metrics["Cumulative return"]["portfolio"]) == stored["return"]
    assert float(metrics["Cumulative return"]["portfolio"]) == pytest.approx(HAND_RETURN, abs=1e-12)
    assert metrics["Cumulative return"]["benchmark"] == ""  # no benchmark: an empty cell
    assert float(metrics["Volatility (annualised)"]["portfolio"]) == stored["volatility"]

    var_rows = {
        (row["method"], row["confidence"], row["horizon"]): row
        for row in tables["risk-quad-value_at_risk.csv"]
    }
    historical = var_rows[("Historical", "0.95", "1")]
    assert float(historical["var"]) == stored["var_historical"]
    assert float(historical["var"]) == pytest.approx(HAND_VAR_HISTORICAL, rel=1e-12)
    assert float(var_rows[("Normal", "0.95", "1")]["var"]) == stored["var_normal"]


def test_the_holdings_files_show_the_values_and_weights(alice, quad, stored):
    lines = _pdf_lines(_run(alice, "holdings", "pdf"))
    aaa = _line_with(lines, "Alpha", "AAA")
    # Price with 4 decimals, market value with none (USD in the header), weight 2.
    assert "107.0160" in aaa
    assert "535" in aaa.split("107.0160", 1)[1]
    assert value_text(stored["weights"]["AAA"], "percent") == _percent(HAND_AAA_WEIGHT) == "51.69%"
    assert "51.69%" in aaa
    assert "48.31%" in _line_with(lines, "Bravo", "BBB")

    workbook = openpyxl.load_workbook(_run(alice, "holdings", "xlsx"))
    sheet, header = _sheet_with_header(workbook, "Identifier", "Market value (USD)", "Weight")
    rows = {row["Identifier"]: row for row in _rows_as_dicts(sheet, header)}
    assert rows["AAA"]["Market value (USD)"] == pytest.approx(HAND_AAA_VALUE, abs=1e-9)
    assert rows["AAA"]["Weight"] == pytest.approx(stored["weights"]["AAA"], rel=1e-12)
    assert rows["AAA"]["Weight"] == pytest.approx(HAND_AAA_WEIGHT, rel=1e-12)
    assert rows["BBB"]["Weight"] == pytest.approx(HAND_BBB_WEIGHT, rel=1e-12)

    tables = _csv_tables(_run(alice, "holdings", "csv"))
    assert "holdings-quad-holdings.csv" in tables, sorted(tables)
    holdings = {row["identifier"]: row for row in tables["holdings-quad-holdings.csv"]}
    assert float(holdings["AAA"]["market_value"]) == pytest.approx(HAND_AAA_VALUE, abs=1e-9)
    assert float(holdings["AAA"]["weight"]) == pytest.approx(stored["weights"]["AAA"], rel=1e-12)
    assert float(holdings["BBB"]["weight"]) == pytest.approx(HAND_BBB_WEIGHT, rel=1e-12)
