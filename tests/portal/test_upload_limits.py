"""Upload limits on the import paths (API and admin): a size cap answered 413
before the file is read, only CSV, XLSX and JSON accepted (name, content type and
first bytes must agree), and a workbook's XML parsed by defusedxml within
uncompressed-size caps, each refusal with a message that says what was wrong."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.ingest.uploads import UploadRefused, upload_check
from analytics.models import ImportRun, Trade
from tests.factories import InstrumentFactory, UserFactory

TRADES = (
    "portfolio,instrument,trade_date,side,quantity,price,external_id\n"
    "GROWTH,AAA,2024-01-02,buy,100,10.5,T-1\n"
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"


@pytest.fixture
def world(growth):
    InstrumentFactory(identifier="AAA", currency="USD", exchange="XNYS")
    return growth


def upload(user, content: bytes, name: str, content_type: str = "text/csv", **fields):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(
        reverse("api-import-list"),
        {"kind": "trades", "file": SimpleUploadedFile(name, content, content_type), **fields},
        format="multipart",
    )


def workbook(*, shared_strings: bytes) -> bytes:
    """A minimal workbook: a header row of shared strings 0..6."""
    header = "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEFG"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
            f'Type="{RELATIONS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        book.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONS}"><sheets>'
            f'<sheet name="T" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PACKAGE}">'
            f'<Relationship Id="rId1" Type="{RELATIONS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{RELATIONS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        book.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{header}</row>'
            "</sheetData></worksheet>",
        )
        book.writestr("xl/sharedStrings.xml", shared_strings)
    return buffer.getvalue()


def strings(*texts: str) -> bytes:
    items = "".join(f"<si><t>{text}</t></si>" for text in texts)
    return f'<sst xmlns="{MAIN}">{items}</sst>'.encode()


HEADER_NAMES = ("portfolio", "instrument", "trade_date", "side", "quantity", "price", "external_id")

# "Billion laughs": ten levels of ten references, a gigabyte of text from 1 KB.
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY l0 "ha">'
    + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    + f']><sst xmlns="{MAIN}"><si><t>&l9;</t></si></sst>'
).encode()


# --- size ---------------------------------------------------------------------------


def test_a_file_over_the_cap_is_413_and_nothing_is_recorded(world, alice, settings):
    settings.INGEST_UPLOAD_MAX_BYTES = 100
    response = upload(alice, TRADES.encode() * 3, "trades.csv")
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The file is 309 bytes, over the limit of 100 bytes (0 MB, INGEST_UPLOAD_MAX_BYTES); "
        "split it into smaller files."
    )
    assert (ImportRun.objects.count(), Trade.objects.count()) == (0, 0)


def test_a_body_that_declares_more_than_the_cap_is_refused_unread(world, alice, settings):
    settings.INGEST_UPLOAD_MAX_BYTES = 1024 * 1024
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post(
        reverse("api-import-list"),
        {"kind": "trades", "file": SimpleUploadedFile("t.csv", TRADES.encode())},
        format="multipart",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert response.json()["limit_bytes"] == 1024 * 1024
    assert ImportRun.objects.count() == 0


def test_the_size_message_is_in_megabytes():
    with pytest.raises(
        UploadRefused, match=r"is 3,145,728 bytes, over the limit of 2,097,152 bytes \(2 MB,"
    ):
        upload_check(
            name="t.csv",
            content_type="text/csv",
            size=3 * 1024 * 1024,
            head=b"port",
            declared_format=None,
            max_bytes=2 * 1024 * 1024,
        )


# --- names, content types, first bytes -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type", "fields", "message"),
    [
        ("trades.exe", b"MZ\x90\x00", "application/x-msdownload", {}, "its name must end with"),
        ("trades.html", b"<html>", "text/html", {}, "its name must end with"),
        ("trades.csv", TRADES.encode(), "text/html", {}, "content type 'text/html'"),
        ("trades.csv", TRADES.encode(), "image/png", {}, "content type 'image/png'"),
        ("trades.xlsx", TRADES.encode(), XLSX_TYPE, {}, "is not an XLSX workbook"),
        ("trades.csv", b"PK\x03\x04rest", "text/csv", {}, "is a zip archive"),
        ("trades.csv", TRADES.encode(), "text/csv", {"format": "json"}, "format field says JSON"),
    ],
)
def test_files_the_importer_does_not_read_are_400_naming_the_field(
    world, alice, name, content, content_type, fields, message
):
    response = upload(alice, content, name, content_type, **fields)
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert ImportRun.objects.count() == 0


@pytest.mark.parametrize(
    "content_type", ["text/csv", "application/vnd.ms-excel", "application/octet-stream", ""]
)
def test_the_content_types_clients_send_for_csv_are_accepted(world, alice, content_type):
    response = upload(alice, TRADES.encode(), "trades.csv", content_type)
    assert response.status_code == 201, response.json()


# --- hostile workbooks ---------------------------------------------------------------


def test_a_good_workbook_still_imports(world, alice):
    content = workbook(shared_strings=strings(*HEADER_NAMES))
    response = upload(alice, content, "trades.xlsx", XLSX_TYPE)
    # A header and no rows: read fine, and nothing to commit.
    assert response.status_code in (200, 201), response.json()
    assert response.json()["rows_total"] == 0


def test_an_entity_expansion_bomb_is_refused_by_defusedxml(world, alice):
    response = upload(alice, workbook(shared_strings=LAUGHS), "trades.xlsx", XLSX_TYPE)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "rejected"
    assert "not an XLSX workbook" in body["message"] + str(body["errors"])
    assert Trade.objects.count() == 0


# --- the admin's import page -----------------------------------------------------------


def admin_import(client, content: bytes, name: str, format_index: int):
    return client.post(
        reverse("admin:analytics_trade_import"),
        {
            "resource": "0",
            "format": str(format_index),
            "import_file": SimpleUploadedFile(name, content),
        },
    )


@pytest.fixture
def root_client(client, world):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_the_admin_imports_only_csv_xlsx_and_json(root_client):
    page = root_client.get(reverse("admin:analytics_trade_import")).content.decode()
    assert [
        title
        for title in ("csv", "xlsx", "json", "xls", "tsv", "ods", "yaml")
        if f">{title}<" in page
    ] == ["csv", "xlsx", "json"]


def test_the_admin_reads_workbooks_within_the_part_cap(root_client, settings):
    settings.INGEST_XLSX_MAX_PART_BYTES = 10_000
    content = workbook(shared_strings=strings(*HEADER_NAMES, "A" * 20_000))
    response = admin_import(root_client, content, "trades.xlsx", format_index=1)
    assert response.status_code == 200
    assert "shared strings part" in response.content.decode()
    assert Trade.objects.count() == 0


def test_the_admin_refuses_an_entity_bomb(root_client):
    response = admin_import(root_client, workbook(shared_strings=LAUGHS), "t.xlsx", format_index=1)
    assert response.status_code == 200
    assert "not an XLSX workbook" in response.content.decode()


def test_the_admin_refuses_a_file_over_the_cap(root_client, settings):
    settings.INGEST_UPLOAD_MAX_BYTES = 100
    response = admin_import(root_client, TRADES.encode() * 3, "t.csv", format_index=0)
    assert response.status_code == 200
    assert "over the limit of 100 bytes" in response.content.decode()
