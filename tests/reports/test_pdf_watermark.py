"""The optional watermark: a downloaded report PDF carries the downloading
user's name and the time on every page, and the audited SHA-256 and the checksum
header are of the stamped bytes that were sent."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.urls import reverse
from pypdf import PdfReader

from portal.exports import bytes_sha256
from portal.models import AuditAction, AuditEvent
from reports import file_exports
from reports.watermark import pdf_watermark, watermark_text
from tests.reports.export_support import body, pdf_blank, run_with_files

MOMENT = dt.datetime(2024, 5, 6, 9, 41, 30, tzinfo=dt.UTC)


@pytest.fixture
def run(bob, growth):
    bob.first_name, bob.last_name = "Bob", "Trader"
    bob.save()
    return run_with_files(bob, portfolio=growth)


@pytest.fixture
def at_moment(monkeypatch):
    monkeypatch.setattr(file_exports.timezone, "now", lambda: MOMENT)


def _pages_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_the_stamp_names_the_person_and_the_time_on_every_page():
    stamped = pdf_watermark(pdf_blank(3), text=watermark_text(name="Zoë (zoe)", at=MOMENT))

    assert _pages_text(stamped) == ["Downloaded by Zoë (zoe) on 2024-05-06 09:41 UTC"] * 3


def test_watermark_text_is_in_utc():
    paris = dt.timezone(dt.timedelta(hours=2))
    at = dt.datetime(2024, 5, 6, 11, 41, tzinfo=paris)

    assert watermark_text(name="bob", at=at) == "Downloaded by bob on 2024-05-06 09:41 UTC"


def test_a_download_asking_for_it_is_stamped_and_audited_as_sent(client, bob, run, at_moment):
    client.force_login(bob)

    response = client.get(
        reverse("api-report-run-file", args=[run.pk, "report.pdf"]), {"watermark": "1"}
    )

    assert response.status_code == 200
    content = body(response)
    assert _pages_text(content) == ["Downloaded by Bob Trader (bob) on 2024-05-06 09:41 UTC"] * 2
    [event] = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    stored = run.files.get(name="report.pdf")
    assert response["X-Content-SHA256"] == bytes_sha256(content) == event.details["sha256"]
    assert event.details["sha256"] != stored.sha256
    assert event.details["stored_sha256"] == stored.sha256
    assert event.details["size"] == len(content)
    assert event.details["watermarked"] is True


def test_without_the_setting_or_the_parameter_the_stored_file_is_sent(client, bob, run):
    client.force_login(bob)

    response = client.get(reverse("reports:run-file", args=[run.pk, "report.pdf"]))

    content = body(response)
    assert bytes_sha256(content) == run.files.get(name="report.pdf").sha256
    assert _pages_text(content) == ["", ""]


def test_the_setting_stamps_every_pdf_download(client, bob, run, settings, at_moment):
    settings.REPORTS_PDF_WATERMARK = True
    client.force_login(bob)

    page_download = client.get(reverse("reports:run-file", args=[run.pk, "report.pdf"]))
    csv_download = client.get(reverse("reports:run-file", args=[run.pk, "report.csv"]))

    assert "Bob Trader (bob)" in _pages_text(body(page_download))[0]
    # only PDFs are stamped
    assert bytes_sha256(body(csv_download)) == run.files.get(name="report.csv").sha256


def test_the_zip_stamps_its_pdf_when_asked(client, bob, run, at_moment):
    client.force_login(bob)

    response = client.get(reverse("api-report-run-files-zip", args=[run.pk]), {"watermark": "true"})

    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    pdf = archive.read("report.pdf")
    assert "2024-05-06 09:41 UTC" in _pages_text(pdf)[1]
    manifest = json.loads(archive.read("manifest.json"))
    [entry] = [e for e in manifest["files"] if e["name"] == "report.pdf"]
    assert entry["sha256"] == bytes_sha256(pdf)
