"""XLSX: read back with openpyxl (and the package's parts with zipfile)."""

import datetime as dt
import zipfile

import openpyxl
import pytest

from reports.document import Column, Section, Table
from reports.renderers import xlsx
from tests.reports.renderers.sample import sample_document


@pytest.fixture
def workbook_path(tmp_path):
    return xlsx.render(sample_document(), directory=tmp_path).path


def test_a_sheet_per_table_after_the_report_sheet(tmp_path):
    rendered = xlsx.render(sample_document(), directory=tmp_path)
    workbook = openpyxl.load_workbook(rendered.path)

    assert workbook.sheetnames == [
        "Report",
        "performance_summary-GEQ period",
        "monthly_returns-GEQ monthly",
        "trades-GEQ trades",
    ]
    assert rendered.sheets == 4
    assert all(len(name) <= 31 for name in workbook.sheetnames)


def test_values_are_numbers_with_native_formats(workbook_path):
    workbook = openpyxl.load_workbook(workbook_path)
    returns = workbook["performance_summary-GEQ period"]
    monthly = workbook["monthly_returns-GEQ monthly"]
    trades = workbook["trades-GEQ trades"]

    assert [cell.value for cell in returns[1]] == ["Period", "Portfolio", "Benchmark"]
    one_year = returns["B4"]
    assert one_year.value == 0.2999
    assert one_year.number_format == "0.00%"
    assert returns["B5"].value is None  # missing: an empty cell
    assert monthly["A3"].value.date() == dt.date(2024, 2, 29)
    assert monthly["A3"].number_format == "yyyy-mm-dd"
    assert trades["F1"].value == "Realised P&L (USD)"
    assert trades["F2"].value == -12.5
    assert trades["F2"].data_type == "n"
    assert trades["F2"].number_format == "#,##0.00"
    assert trades["D2"].value == 1000


def test_header_rows_are_frozen_and_columns_sized(workbook_path):
    workbook = openpyxl.load_workbook(workbook_path)
    trades = workbook["trades-GEQ trades"]

    assert trades.freeze_panes == "A2"
    assert trades.column_dimensions["B"].width > trades.column_dimensions["C"].width


def test_a_table_with_a_sheet_chart_gets_a_native_chart(workbook_path):
    with zipfile.ZipFile(workbook_path) as package:
        charts = [name for name in package.namelist() if name.startswith("xl/charts/chart")]
        chart = package.read(charts[0]).decode()

    assert len(charts) == 1
    assert "<c:lineChart>" in chart
    assert "'monthly_returns-GEQ monthly'!$B$2:$B$4" in chart


def test_the_report_sheet_carries_kpis_gaps_and_unavailable_sections(workbook_path):
    report = openpyxl.load_workbook(workbook_path)["Report"]
    cells = {
        cell.value: report.cell(row=cell.row, column=cell.column + 1)
        for row in report.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    }

    assert cells["Return (MTD)"].value == 0.0123
    assert cells["Return (MTD)"].number_format == "0.00%"
    assert cells["Sharpe ratio (1Y)"].value == 1.27
    assert cells["Incomplete data"].value.startswith("Global Equity Fund: no prices")
    assert cells["Unavailable"].value.startswith("The benchmark has no constituent")


def test_formulas_in_text_cells_are_neutralised_and_numbers_stay_numbers(workbook_path):
    trades = openpyxl.load_workbook(workbook_path)["trades-GEQ trades"]
    names = [trades.cell(row=row, column=2) for row in range(2, 6)]

    assert names[0].value == '\'=HYPERLINK("http://x","y")'
    assert names[2].value == "'-1+1"
    assert names[3].value == "'@SUM(A1)"
    # In a text column "+1" is a name, neutralised like the formulas.
    assert names[1].value == "'+1"
    assert all(cell.data_type == "s" for cell in names)
    assert trades["F2"].value == -12.5


def test_a_table_longer_than_a_sheet_continues_on_the_next(tmp_path):
    rows = xlsx.SHEET_ROWS + 1  # one more data row than a sheet holds under its header
    table = Table(
        name="n",
        title="Numbers",
        columns=[Column("n", "N", "integer")],
        rows=((n,) for n in range(1, rows + 1)),
    )
    document = sample_document(
        sections=[Section(key="big", block="trades", title="Big", tables=[table])]
    )

    rendered = xlsx.render(document, directory=tmp_path)

    workbook = openpyxl.load_workbook(rendered.path, read_only=True)
    assert workbook.sheetnames == ["Report", "big n", "big n (2)"]
    first, second = workbook["big n"], workbook["big n (2)"]
    assert first.max_row == xlsx.SHEET_ROWS
    (last_of_first,) = next(first.iter_rows(min_row=xlsx.SHEET_ROWS, values_only=True))
    assert last_of_first == xlsx.SHEET_ROWS - 1
    assert list(second.iter_rows(values_only=True)) == [("N",), (rows - 1,), (rows,)]
