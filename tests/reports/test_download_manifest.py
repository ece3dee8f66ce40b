"""A run's files as one ZIP with a ``manifest.json``, and the row counts the
audit records for every file that leaves.

The run (tests/reports/export_support.py) has a two-page PDF, a CSV of three
data rows (one with a quoted comma) and a JSON document whose tables hold two
rows; the manifest's figures are those, counted by hand."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse

from portal.exports import bytes_sha256
from portal.models import AuditAction, AuditEvent, ExportRestriction
from reports.file_exports import report_file_rows
from reports.storage import report_file_save
from tests.reports.export_support import CSV_CONTENT, JSON_CONTENT, body, run_with_files


@pytest.fixture
def run(bob, growth):
    return run_with_files(bob, portfolio=growth)


def _zip(response) -> tuple[zipfile.ZipFile, bytes]:
    content = body(response)
    return zipfile.ZipFile(io.BytesIO(content)), content


def test_the_zip_holds_every_file_and_a_manifest_of_them(client, bob, run):
    client.force_login(bob)

    response = client.get(reverse("api-report-run-files-zip", args=[run.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="report-{run.pk}.zip"'
    archive, content = _zip(response)
    assert archive.namelist() == ["manifest.json", "report.pdf", "report.csv", "report.json"]
    assert archive.read("report.csv") == CSV_CONTENT
    manifest = json.loads(archive.read("manifest.json"))
    files = {entry["name"]: entry for entry in manifest["files"]}
    assert files["report.csv"] == {
        "name": "report.csv",
        "format": "csv",
        "size": len(CSV_CONTENT),
        "sha256": bytes_sha256(CSV_CONTENT),
        "rows": 3,
        "pages": None,
        "sheets": None,
    }
    assert files["report.json"]["rows"] == 2
    assert files["report.json"]["sha256"] == bytes_sha256(JSON_CONTENT)
    assert (files["report.pdf"]["rows"], files["report.pdf"]["pages"]) == (None, 2)
    assert files["report.pdf"]["sha256"] == bytes_sha256(archive.read("report.pdf"))
    assert manifest["run"]["id"] == run.pk
    assert manifest["template"] == {"slug": None, "name": "Quarterly review", "version": None}
    assert manifest["portfolios"] == ["GROWTH"]
    assert manifest["period"] == {"key": "custom", "start": "2024-01-01", "end": "2024-03-31"}
    assert manifest["generated_at"] == "2024-04-02T07:30:00+00:00"
    assert manifest["downloaded_by"] == "Bob (bob)"
    assert manifest["withheld"] == []

    # audited once, with the checksum of the ZIP itself in the event and header
    [event] = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert response["X-Content-SHA256"] == bytes_sha256(content) == event.details["sha256"]
    assert (event.details["format"], event.details["size"]) == ("zip", len(content))
    assert [entry["name"] for entry in event.details["files"]] == [
        "report.pdf",
        "report.csv",
        "report.json",
    ]
    assert event.actor == bob


def test_the_run_page_offers_the_zip_and_it_downloads(client, bob, run):
    client.force_login(bob)

    response = client.get(reverse("reports:run-files-zip", args=[run.pk]))

    assert response.status_code == 200
    archive, _ = _zip(response)
    assert "manifest.json" in archive.namelist()


def test_files_the_policy_forbids_are_withheld_and_named(client, bob, run, desk):
    ExportRestriction.objects.create(team=desk, file_format="csv")
    client.force_login(bob)

    archive, _ = _zip(client.get(reverse("api-report-run-files-zip", args=[run.pk])))

    assert "report.csv" not in archive.namelist()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["withheld"] == [
        {
            "name": "report.csv",
            "format": "csv",
            "reason": "Members of the team Equity desk may not export CSV files.",
        }
    ]


def test_the_zip_is_refused_when_the_policy_forbids_every_file(client, bob, run, desk):
    ExportRestriction.objects.create(team=desk, report_kind="holdings")
    client.force_login(bob)

    response = client.get(reverse("api-report-run-files-zip", args=[run.pk]))

    assert response.status_code == 403
    [event] = AuditEvent.objects.filter(action=AuditAction.DOWNLOAD_REFUSED)
    assert event.details["format"] == "zip"
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_another_users_run_is_not_found(client, mallory, run):
    client.force_login(mallory)

    assert client.get(reverse("api-report-run-files-zip", args=[run.pk])).status_code == 404


def test_a_single_download_records_the_rows_it_carried(client, bob, run):
    client.force_login(bob)

    client.get(reverse("api-report-run-file", args=[run.pk, "report.csv"]))
    client.get(reverse("api-report-run-file", args=[run.pk, "report.pdf"]))

    csv_event, pdf_event = AuditEvent.objects.filter(action=AuditAction.EXPORT).order_by("id")
    assert csv_event.details["rows"] == 3
    assert "rows" not in pdf_event.details  # a PDF's rows are not known


def test_rows_of_a_zipped_csv_are_summed_over_its_tables(bob, growth, tmp_path):
    run = run_with_files(bob, portfolio=growth, formats=("csv",), key="zipped")
    file = run.files.get()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", "x\r\n1\r\n2\r\n")
        archive.writestr("b.csv", "y\r\n3\r\n")
    stored = tmp_path / "report.zip"
    stored.write_bytes(buffer.getvalue())
    file.name, file.storage_name = (
        "report.zip",
        report_file_save(run_id=run.pk, attempt=2, path=stored),
    )
    file.save()

    assert report_file_rows(file) == 3
