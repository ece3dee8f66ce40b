"""Hostile workbooks: a small XLSX file that expands to a gigabyte of shared
strings, or to ten million rows, is refused with a message that names the limit,
before the importing process's memory grows, whether it comes through
``data_import`` (the command line) or the upload API (queued to a worker, never
parsed in the request).

The bombs are built here, streamed into the zip file block by block, so the test
itself never holds more than one block of them."""

from __future__ import annotations

import io
import resource
import struct
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.ingest.xlsx import WorkbookError, _CappedPart
from analytics.models import ImportRun, ImportStatus, Trade
from analytics.services.imports.runs import data_import
from tests.analytics.ingest.conftest import table_counts

MEGABYTE = 1024 * 1024
MEMORY_BOUND = 50 * MEGABYTE  # what an import may allocate at its peak, far below a bomb

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEET}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SPREADSHEET}.worksheet+xml"/>'
    "{strings}</Types>"
)
STRINGS_TYPE = (
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SPREADSHEET}.sharedStrings+xml"/>'
)

HEADER = (
    '<row r="1">'
    + "".join(
        f'<c r="{column}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for column, name in zip(
            "ABCDEFG",
            ("portfolio", "instrument", "trade_date", "side", "quantity", "price", "external_id"),
            strict=True,
        )
    )
    + "</row>"
).encode()


def workbook(
    path: Path,
    *,
    sheet: Callable[[], Iterator[bytes]],
    shared_strings: Callable[[], Iterator[bytes]] | None = None,
    level: int = 6,
) -> Path:
    """Write a minimal workbook whose big parts are streamed from generators."""
    relations = [
        f'<Relationship Id="rId1" Type="{RELATIONS}/worksheet" Target="worksheets/sheet1.xml"/>'
    ]
    if shared_strings is not None:
        relations.append(
            f'<Relationship Id="rId2" Type="{RELATIONS}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as book:
        book.writestr(
            "[Content_Types].xml",
            CONTENT_TYPES.format(strings=STRINGS_TYPE if shared_strings is not None else ""),
        )
        book.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
            f'Type="{RELATIONS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        book.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONS}"><sheets>'
            f'<sheet name="Trades" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PACKAGE}">{"".join(relations)}</Relationships>',
        )
        parts = {"xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": shared_strings}
        for name, blocks in parts.items():
            if blocks is not None:
                with book.open(name, "w") as handle:
                    for block in blocks():
                        handle.write(block)
    return path


def strings_of(count: int, size: int) -> Callable[[], Iterator[bytes]]:
    """A shared-strings part of ``count`` strings of ``size`` letters each."""

    def blocks() -> Iterator[bytes]:
        yield f'<sst xmlns="{MAIN}" count="{count}" uniqueCount="{count}">'.encode()
        letters = b"A" * size
        for _ in range(count):
            yield b"<si><t>"
            yield letters
            yield b"</t></si>"
        yield b"</sst>"

    return blocks


def header_only() -> Iterator[bytes]:
    yield f'<worksheet xmlns="{MAIN}"><sheetData>'.encode() + HEADER + b"</sheetData></worksheet>"


def rows_of(count: int, *, declared: bool) -> Callable[[], Iterator[bytes]]:
    """A sheet of the header and ``count`` rows (each one cell, blank), with or
    without the range a spreadsheet program declares (``<dimension>``)."""

    def blocks() -> Iterator[bytes]:
        yield f'<worksheet xmlns="{MAIN}">'.encode()
        if declared:
            yield f'<dimension ref="A1:G{count + 1}"/>'.encode()
        yield b"<sheetData>" + HEADER
        block = b"<row><c><v></v></c></row>" * 10_000
        for _ in range(count // 10_000):
            yield block
        yield b"</sheetData></worksheet>"

    return blocks


def header_says(path: Path, part: str, size: int) -> None:
    """Make the zip directory lie: ``part`` declares ``size`` bytes uncompressed."""
    data = bytearray(path.read_bytes())
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + name_length] == part.encode():
            struct.pack_into("<I", data, position + 24, size)
        position = data.find(b"PK\x01\x02", position + 46)
    path.write_bytes(bytes(data))


@contextmanager
def memory_growth() -> Iterator[dict[str, int]]:
    """The peak of Python allocations (tracemalloc, numpy's buffers included) and
    the growth of the process's peak resident size (Linux: KB) inside the block."""
    figures: dict[str, int] = {}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        yield figures
    finally:
        figures["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        figures["rss"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) * 1024


@pytest.fixture(scope="module")
def strings_bomb(tmp_path_factory) -> Path:
    """About 1 MB on disk: 1,000 shared strings of 1 MB each (1,000 MB)."""
    path = tmp_path_factory.mktemp("bombs") / "strings.xlsx"
    return workbook(path, sheet=header_only, shared_strings=strings_of(1000, MEGABYTE))


@pytest.fixture(scope="module")
def row_bomb(tmp_path_factory) -> Path:
    """Well under 1 MB on disk: a sheet of ten million rows that says so."""
    path = tmp_path_factory.mktemp("bombs") / "rows.xlsx"
    return workbook(path, sheet=rows_of(10_000_000, declared=True), level=9)


@pytest.fixture(scope="module")
def quiet_row_bomb(tmp_path_factory) -> Path:
    """The same ten million rows, without the declared range."""
    path = tmp_path_factory.mktemp("bombs") / "quiet-rows.xlsx"
    return workbook(path, sheet=rows_of(10_000_000, declared=False), level=9)


def import_file(path: Path) -> ImportRun:
    with path.open("rb") as handle:
        return data_import(kind="trades", stream=handle, file_name=path.name, file_format="xlsx")


def test_the_bombs_are_small_files(strings_bomb, row_bomb, quiet_row_bomb):
    assert strings_bomb.stat().st_size < 1.5 * MEGABYTE
    assert row_bomb.stat().st_size < MEGABYTE
    assert quiet_row_bomb.stat().st_size < MEGABYTE
    with zipfile.ZipFile(strings_bomb) as book:
        assert book.getinfo("xl/sharedStrings.xml").file_size > 1000 * MEGABYTE


def test_a_shared_strings_bomb_is_refused_before_memory_grows(world, strings_bomb):
    before = table_counts()
    with memory_growth() as growth:
        run = import_file(strings_bomb)
    assert run.status == ImportStatus.REJECTED
    assert run.message == (
        "Nothing imported: the workbook's shared strings part takes 1,000 MB uncompressed; "
        "the limit is 50 MB."
    )
    assert run.errors[0]["message"].startswith("the workbook's shared strings part takes")
    assert growth["peak"] < MEMORY_BOUND
    assert growth["rss"] < 2 * MEMORY_BOUND
    assert table_counts() == before


def test_a_part_whose_header_lies_is_still_cut_short(world, tmp_path):
    # 100 strings of 1 MB, while the zip directory says the part takes 1 MB.
    path = workbook(
        tmp_path / "liar.xlsx", sheet=header_only, shared_strings=strings_of(100, MEGABYTE), level=1
    )
    header_says(path, "xl/sharedStrings.xml", MEGABYTE)
    with memory_growth() as growth:
        run = import_file(path)
    assert run.status == ImportStatus.REJECTED
    assert "more than 32,767 characters" in run.message  # the first string, read in 64 KB steps
    assert growth["peak"] < MEMORY_BOUND


def test_a_part_is_capped_as_it_is_decompressed_whatever_its_header_said():
    part = _CappedPart(io.BytesIO(b"x" * 300_000), limit=200_000, label="shared strings part")
    with pytest.raises(WorkbookError, match=r"shared strings part takes more than 0\.2 MB"):
        while part.read():
            pass


def test_a_row_bomb_that_declares_its_rows_is_refused_at_once(world, row_bomb):
    with memory_growth() as growth:
        run = import_file(row_bomb)
    assert run.status == ImportStatus.REJECTED
    assert run.message == (
        "Nothing imported: the workbook's first sheet has more than 2,000,000 rows; "
        "the limit is 2,000,000."
    )
    assert run.rows_total == 0  # refused before a row was read
    assert growth["peak"] < MEMORY_BOUND


def test_a_row_bomb_that_hides_its_rows_is_refused_at_the_row_limit(
    world, quiet_row_bomb, settings
):
    settings.INGEST_MAX_ROWS = 30_000  # the default (2 million) is as flat, only slower
    with memory_growth() as growth:
        run = import_file(quiet_row_bomb)
    assert run.status == ImportStatus.REJECTED
    assert "first sheet has more than 30,000 rows; the limit is 30,000" in run.message
    # Row 1 is the header: the 30,001st data row is row 30,002.
    assert run.errors[0]["row"] == 30_002
    assert growth["peak"] < MEMORY_BOUND
    assert Trade.objects.count() == 0


def test_a_csv_past_the_row_limit_is_refused(world, settings):
    settings.INGEST_MAX_ROWS = 2
    body = (
        "portfolio,instrument,trade_date,side,quantity,price,external_id\n"
        + "".join(f"GROWTH,AAA,2024-01-02,buy,1,1,T-{n}\n" for n in range(3))
    ).encode()
    run = data_import(kind="trades", stream=io.BytesIO(body), file_name="t.csv")
    assert run.status == ImportStatus.REJECTED
    assert "the file has more than 2 rows; the limit is 2" in run.message
    assert Trade.objects.count() == 0


# --- through the upload API: queued, never parsed in the request --------------


def api_upload(user, path: Path):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(
        reverse("api-import-list"),
        {"kind": "trades", "file": SimpleUploadedFile(path.name, path.read_bytes())},
        format="multipart",
    )


@pytest.fixture
def eager_tasks(settings):
    from portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.mark.parametrize(
    ("bomb", "message"),
    [
        ("strings_bomb", "the workbook's shared strings part takes 1,000 MB uncompressed"),
        ("row_bomb", "the workbook's first sheet has more than 2,000,000 rows"),
    ],
)
def test_an_uploaded_bomb_is_queued_and_refused_by_the_worker(
    world, alice, bomb, message, request, eager_tasks, django_capture_on_commit_callbacks
):
    path = request.getfixturevalue(bomb)
    with memory_growth() as growth, django_capture_on_commit_callbacks(execute=True):
        response = api_upload(alice, path)
    assert response.status_code == 202  # queued: its parts expand past the inline size
    run = ImportRun.objects.get(pk=response.json()["id"])
    assert run.status == ImportStatus.REJECTED
    assert message in run.message
    assert growth["peak"] < MEMORY_BOUND
    assert Trade.objects.count() == 0


def test_an_upload_above_the_inline_size_is_queued_not_parsed(
    world, alice, monkeypatch, settings, tmp_path
):
    from analytics.services.imports import runs, upload

    def no_parsing(*args, **kwargs):
        raise AssertionError("the request parsed the file")

    sent = []
    monkeypatch.setattr(runs, "read_chunks", no_parsing)
    monkeypatch.setattr(
        upload, "task_send_on_commit", lambda name, *args: sent.append((name, args))
    )
    assert settings.INGEST_INLINE_MAX_BYTES == MEGABYTE  # the default
    rows = "".join(f"GROWTH,AAA,2024-01-02,buy,1,1,T-{n}\n" for n in range(40_000))
    path = tmp_path / "trades.csv"
    path.write_text("portfolio,instrument,trade_date,side,quantity,price,external_id\n" + rows)
    assert path.stat().st_size > MEGABYTE

    response = api_upload(alice, path)

    assert response.status_code == 202
    run = ImportRun.objects.get(pk=response.json()["id"])
    assert (run.status, run.file_size) == (ImportStatus.PENDING, path.stat().st_size)
    assert sent == [("analytics.import_run_execute", (run.pk,))]
    assert Trade.objects.count() == 0


def test_a_small_workbook_that_expands_past_the_inline_size_is_queued(
    world, alice, monkeypatch, tmp_path
):
    from analytics.services.imports import runs, upload

    monkeypatch.setattr(runs, "read_chunks", lambda *a, **k: pytest.fail("parsed in the request"))
    sent = []
    monkeypatch.setattr(upload, "task_send_on_commit", lambda name, *args: sent.append(args))
    # 200 KB on disk at most, 2 MB of shared strings once uncompressed.
    path = workbook(
        tmp_path / "small.xlsx", sheet=header_only, shared_strings=strings_of(2, MEGABYTE)
    )
    assert path.stat().st_size < 200_000

    response = api_upload(alice, path)

    assert response.status_code == 202
    assert ImportRun.objects.get(pk=response.json()["id"]).status == ImportStatus.PENDING
    assert len(sent) == 1
