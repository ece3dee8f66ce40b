"""CSV: one file per table, zipped when there are several, read back with csv."""

import csv
import io
import zipfile

from reports.document import Column, Table
from reports.renderers import csv as csv_renderer
from tests.reports.renderers.sample import HOSTILE_INSTRUMENTS, sample_document


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_several_tables_make_a_zip_with_one_file_per_table(tmp_path):
    rendered = csv_renderer.render(sample_document(), directory=tmp_path)

    assert rendered.path.suffix == ".zip"
    assert rendered.content_type == "application/zip"
    with zipfile.ZipFile(rendered.path) as archive:
        assert sorted(archive.namelist()) == [
            "monthly_returns-geq-monthly.csv",
            "performance_summary-geq-period-returns.csv",
            "trades-geq-trades.csv",
        ]
        returns = _rows(archive.read("performance_summary-geq-period-returns.csv").decode())
        trades = _rows(archive.read("trades-geq-trades.csv").decode())
        monthly = _rows(archive.read("monthly_returns-geq-monthly.csv").decode())

    assert returns[0] == ["period", "portfolio", "benchmark"]
    assert returns[3] == ["1Y", "0.2999", "0.2512"]  # percentages as fractions
    assert returns[4] == ["Since inception", "", "0.8"]  # missing is empty
    assert monthly[2] == ["2024-02-29", "-0.0105", "-0.0093"]  # ISO dates
    assert len(trades) == 1 + 150


def test_formulas_in_text_cells_are_neutralised_and_numbers_stay_numbers(tmp_path):
    rendered = csv_renderer.render(sample_document(), directory=tmp_path)
    with zipfile.ZipFile(rendered.path) as archive:
        trades = _rows(archive.read("trades-geq-trades.csv").decode("utf-8"))

    instruments = dict(zip(HOSTILE_INSTRUMENTS, (row[1] for row in trades[1:5]), strict=True))
    assert instruments['=HYPERLINK("http://x","y")'] == '\'=HYPERLINK("http://x","y")'
    assert instruments["-1+1"] == "'-1+1"
    assert instruments["@SUM(A1)"] == "'@SUM(A1)"
    # In a text column "+1" is a name: a spreadsheet would read it as the number 1.
    assert instruments["+1"] == "'+1"
    assert trades[1][5] == "-12.5"


def test_one_table_makes_one_csv(tmp_path):
    table = Table(
        name="holdings",
        title="Holdings",
        columns=[Column("name", "Name"), Column("weight", "Weight", "percent")],
        rows=[("Café Ltd", 0.25), ("=1+1", None)],
    )
    document = sample_document(sections=[sample_document().sections[0]])
    document.sections[0].tables = [table]

    rendered = csv_renderer.render(document, directory=tmp_path)

    assert rendered.path.suffix == ".csv"
    text = rendered.path.read_bytes().decode("utf-8")
    assert _rows(text) == [["name", "weight"], ["Café Ltd", "0.25"], ["'=1+1", ""]]
