"""A finished report run with stored files, for the tests of downloads: a real
(blank, two-page) PDF, a CSV of three data rows and a JSON document of two table
rows, stored through the reports storage like a run's own files."""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from pathlib import Path

from pypdf import PdfWriter

from portal.exports import bytes_sha256
from reports.models import ReportFile, ReportRun, RunStatus
from reports.renderers.base import CONTENT_TYPES
from reports.storage import report_file_save

CSV_CONTENT = b'code,name\r\nAAA,Alpha\r\nBBB,"Beta, with a comma"\r\nCCC,Gamma\r\n'
JSON_CONTENT = json.dumps(
    {
        "format": "portfolio-portal.report",
        "sections": [
            {"tables": [{"rows": [["GROWTH", 1.5]]}]},
            {"tables": [{"rows": [["GROWTH", 2.5]]}, {"rows": []}]},
        ],
    }
).encode()
FINISHED_AT = dt.datetime(2024, 4, 2, 7, 30, tzinfo=dt.UTC)


def pdf_blank(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def run_with_files(
    user, *, portfolio, kinds=("holdings",), formats=("pdf", "csv", "json"), key="export-run"
) -> ReportRun:
    """A succeeded ad hoc run by ``user`` over ``portfolio`` with blocks of
    ``kinds`` and a stored file per format."""
    run = ReportRun.objects.create(
        key=key,
        title="Quarterly review",
        definition={"name": "Quarterly review", "blocks": [{"kind": k} for k in kinds]},
        run_as=user,
        requested_by=user,
        parameters={"period": "custom", "start": "2024-01-01", "end": "2024-03-31"},
        formats=list(formats),
        status=RunStatus.SUCCEEDED,
        data={
            portfolio.code: {
                "data_version": 1,
                "as_of": "2024-03-31",
                "period_start": "2024-01-01",
                "period_end": "2024-03-31",
            }
        },
        data_as_of=dt.date(2024, 3, 31),
        started_at=FINISHED_AT - dt.timedelta(seconds=5),
        finished_at=FINISHED_AT,
    )
    contents = {"pdf": pdf_blank(), "csv": CSV_CONTENT, "json": JSON_CONTENT}
    with tempfile.TemporaryDirectory() as folder:
        for file_format in formats:
            path = Path(folder) / f"report.{file_format}"
            path.write_bytes(contents[file_format])
            ReportFile.objects.create(
                run=run,
                name=path.name,
                format=file_format,
                storage_name=report_file_save(run_id=run.pk, attempt=1, path=path),
                content_type=CONTENT_TYPES[file_format],
                size=len(contents[file_format]),
                sha256=bytes_sha256(contents[file_format]),
                pages=2 if file_format == "pdf" else None,
            )
    return run


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content
