"""Hostile values are row errors, never a database error half way through a bulk
load: a NUL byte in a CSV cell or a pushed value, a lone surrogate from JSON's
``"\\ud800"``, and dates outside the plausible range, for every field of every
kind. The rejected-rows report shows refused characters as U+FFFD and
neutralises formulas, its header row's included."""

import csv
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.ingest.kinds import REFUSED_CHARACTER_MESSAGE, SPECS, Context
from analytics.ingest.parsers import ROW, cell_text, read_json_rows
from analytics.models import ImportStatus, Trade
from analytics.services.imports.runs import data_import
from tests.analytics.ingest.conftest import table_counts

HEADER = "portfolio,instrument,trade_date,side,quantity,price,external_id"
GOOD_ROW = "GROWTH,AAA,2024-01-02,buy,100,10.5,T-1"

DATE_FIELDS = [
    ("trades", "trade_date"),
    ("trades", "settle_date"),
    ("positions", "date"),
    ("prices", "date"),
    ("fx", "date"),
    ("cashflows", "date"),
]


def one_row(kind: str, cells: dict[str, str]) -> pd.DataFrame:
    """A parsed chunk of one row (spreadsheet row 2) of ``kind``: every column
    blank but ``cells``, as the readers give it (arrow-backed strings)."""
    values = {column: [cells.get(column, "")] for column in SPECS[kind].columns}
    frame = pd.DataFrame(values).astype(str)
    frame[ROW] = [2]
    return frame


def errors_on(kind: str, column: str, cells: dict[str, str]) -> list[str]:
    _, errors = SPECS[kind].validate(one_row(kind, cells), Context(source="file"))
    return [error.message for error in errors if error.field == column]


def csv_import(*lines: str, **options):
    data = ("\n".join(lines) + "\n").encode()
    return data_import(kind="trades", stream=io.BytesIO(data), file_name="t.csv", **options)


# --- every field of every kind ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "column"), [(kind, column) for kind, spec in SPECS.items() for column in spec.columns]
)
def test_a_nul_in_any_field_of_any_kind_is_that_field_s_one_error(kind, column):
    assert errors_on(kind, column, {column: "GROWTH\x00"}) == [REFUSED_CHARACTER_MESSAGE]


@pytest.mark.parametrize(("kind", "column"), DATE_FIELDS)
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_date_outside_the_plausible_range_is_a_row_error(kind, column, day):
    assert errors_on(kind, column, {column: day}) == [
        f"date {day} is outside the plausible range 1900-01-01 to 2100-12-31"
    ]


@pytest.mark.parametrize(("kind", "column"), DATE_FIELDS)
def test_the_range_s_own_ends_are_plausible(kind, column):
    assert errors_on(kind, column, {column: "1900-01-01"}) == []
    assert errors_on(kind, column, {column: "2100-12-31"}) == []


@override_settings(INGEST_DATE_MIN="2000-01-01", INGEST_DATE_MAX="2030-12-31")
def test_the_plausible_range_comes_from_the_settings():
    assert errors_on("prices", "date", {"date": "1999-12-31"}) == [
        "date 1999-12-31 is outside the plausible range 2000-01-01 to 2030-12-31"
    ]
    assert errors_on("prices", "date", {"date": "2000-01-01"}) == []


def test_the_default_range_is_1900_to_2100():
    assert (settings.INGEST_DATE_MIN, settings.INGEST_DATE_MAX) == ("1900-01-01", "2100-12-31")


def test_a_lone_surrogate_reads_as_nul_and_is_refused_like_one():
    assert cell_text("ab\ud800") == "ab\x00"
    [chunk] = read_json_rows([{"instrument": "AAA", "date": "2024-01-02", "close": "\udfff1"}])
    assert errors_on("prices", "close", chunk.iloc[0].drop(ROW).to_dict()) == [
        REFUSED_CHARACTER_MESSAGE
    ]


def test_a_frame_of_plain_python_strings_is_checked_too():
    # The admin's resources build their frame from Python strings (object dtype).
    frame = pd.DataFrame({"instrument": ["AAA\x00"], "date": ["2024-01-02"]}, dtype=object)
    frame[ROW] = [2]
    _, errors = SPECS["prices"].validate(frame, Context(source="file"))
    assert [
        (e.row, e.field, e.value) for e in errors if e.message == REFUSED_CHARACTER_MESSAGE
    ] == [(2, "instrument", "AAA\ufffd")]


# --- through the database ----------------------------------------------------------


def test_a_nul_in_a_csv_cell_rejects_the_run_naming_the_row_and_field(world, alice):
    before = table_counts()
    run = csv_import(HEADER, GOOD_ROW, "GROWTH,AAA,2024-01-03,buy,5,10,T-\x002", actor=alice)
    assert run.status == ImportStatus.REJECTED
    assert run.errors == [
        {
            "row": 3,
            "field": "external_id",
            "value": "T-\ufffd2",
            "message": REFUSED_CHARACTER_MESSAGE,
        }
    ]
    assert table_counts() == before


def test_with_skip_invalid_the_good_rows_load_and_the_report_shows_the_cell(world, alice):
    run = csv_import(
        HEADER, GOOD_ROW, "GR\x00OWTH,AAA,2024-01-03,buy,5,10,T-2", actor=alice, skip_invalid=True
    )
    assert run.status == ImportStatus.PARTIAL
    assert list(Trade.objects.values_list("external_id", flat=True)) == ["T-1"]
    with (Path(settings.MEDIA_ROOT) / run.report).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][:3] == ["3", f"portfolio: {REFUSED_CHARACTER_MESSAGE}", "GR\ufffdOWTH"]


def test_dates_9999_and_0001_in_a_file_are_row_errors(world, alice):
    run = csv_import(
        HEADER,
        "GROWTH,AAA,9999-12-31,buy,100,10.5,T-1",
        "GROWTH,AAA,0001-01-01,buy,100,10.5,T-2",
        actor=alice,
    )
    assert run.status == ImportStatus.REJECTED
    assert [(e["row"], e["field"], e["value"]) for e in run.errors] == [
        (2, "trade_date", "9999-12-31"),
        (3, "trade_date", "0001-01-01"),
    ]
    assert Trade.objects.count() == 0


def test_the_report_neutralises_its_header_row_as_well_as_its_cells(world, alice):
    formula = '=HYPERLINK("http://evil.example","ok")'
    quoted = '"' + formula.replace('"', '""') + '"'
    run = csv_import(
        f"{HEADER},{quoted}",
        f"GROWTH,AAA,2024-01-02,buy,-1,10.5,T-1,{quoted}",
        actor=alice,
    )
    assert run.status == ImportStatus.REJECTED
    with (Path(settings.MEDIA_ROOT) / run.report).open(encoding="utf-8", newline="") as handle:
        header, row = list(csv.reader(handle))
    # The parser lower-cases column names; the cell keeps its case.
    assert header[-1] == "'" + formula.lower()
    assert row[-1] == "'" + formula
    assert not any(cell.startswith(("=", "+", "@")) for cell in header + row)


# --- through the API ------------------------------------------------------------------


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_nul_in_an_uploaded_csv_is_a_400_with_the_row_error(world, alice):
    data = f"{HEADER}\n{GOOD_ROW}\nGROWTH,AA\x00A,2024-01-03,buy,5,10,T-2\n".encode()
    response = api_as(alice).post(
        reverse("api-import-list"),
        {"kind": "trades", "file": SimpleUploadedFile("t.csv", data)},
        format="multipart",
    )
    assert response.status_code == 400
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(3, "instrument")]
    assert Trade.objects.count() == 0


def test_a_nul_and_a_lone_surrogate_in_pushed_values_are_400_row_errors(world, alice):
    rows = [
        {
            "portfolio": "GROWTH",
            "instrument": "AAA",
            "trade_date": "2024-01-02",
            "side": "buy",
            "quantity": 100,
            "price": 10,
            "external_id": external_id,
        }
        for external_id in ("P-1", "P-\x002", "P-\ud8003")
    ]
    # json.dumps writes them as the escapes \u0000 and \ud800, as a client would.
    body = json.dumps({"source": "oms", "rows": rows})
    assert "\\u0000" in body and "\\ud800" in body
    before = table_counts()
    response = api_as(alice).post(
        reverse("api-push-trades"), data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert [(e["row"], e["field"], e["value"]) for e in response.json()["errors"]] == [
        (2, "external_id", "P-\ufffd2"),
        (3, "external_id", "P-\ufffd3"),
    ]
    assert table_counts() == before


def test_a_nul_in_the_pushed_source_is_a_400_field_error(world, alice):
    body = json.dumps({"source": "o\x00ms", "rows": [{"portfolio": "GROWTH"}]})
    response = api_as(alice).post(
        reverse("api-push-trades"), data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["source"]


def test_a_workbook_with_an_illegal_character_is_rejected_not_a_server_error(world, alice):
    # XML cannot carry a NUL: a workbook that tries (&#0;) is refused as a whole.
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER.split(","))
    workbook.active.append(["GROWTH", "AAA", "2024-01-02", "buy", 1, 10, "MARK"])
    plain, hostile = io.BytesIO(), io.BytesIO()
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(hostile, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data.replace(b"MARK", b"T-&#0;1"))
    response = api_as(alice).post(
        reverse("api-import-list"),
        {"kind": "trades", "file": SimpleUploadedFile("t.xlsx", hostile.getvalue())},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["status"] == "rejected"
    assert Trade.objects.count() == 0
