"""Exports written once: formula cells are neutralised, checksums are the
published SHA-256 values, and an audited download writes its event and headers."""

import base64
import hashlib

import pytest
from django.http import FileResponse

from portal.exports import (
    bytes_sha256,
    cell_neutralise,
    download_response_audited,
    file_sha256,
)
from portal.models import AuditAction, AuditEvent
from portal.origins import RequestOrigin

# FIPS 180-2, appendix B.1: SHA-256("abc"); and SHA-256 of the empty message.
ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    "cell",
    ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", "=HYPERLINK(x)"],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(cell):
    assert cell_neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-12.5", "+3", "-0", "1e-3", "AAA", "", "a=b", "GROWTH"])
def test_numbers_and_plain_text_are_left_alone(cell):
    assert cell_neutralise(cell) == cell


@pytest.mark.parametrize("cell", ["+1", "-12.5", "=1+1", "@SUM(A1)"])
def test_in_a_text_column_number_like_cells_are_neutralised_too(cell):
    assert cell_neutralise(cell, text=True) == "'" + cell
    assert cell_neutralise("GROWTH", text=True) == "GROWTH"


def test_sha256_of_a_known_string_is_the_published_value(tmp_path):
    assert bytes_sha256(b"abc") == ABC_SHA256
    assert bytes_sha256(b"") == EMPTY_SHA256
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")
    assert file_sha256(path) == ABC_SHA256


def test_a_large_file_is_hashed_in_blocks(tmp_path):
    data = bytes(range(256)) * 10_000  # 2.56 MB: several 1 MiB blocks
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


@pytest.mark.django_db
def test_an_audited_download_writes_one_event_and_the_checksum_headers(alice, growth):
    origin = RequestOrigin(ip_address="10.0.0.7", user_agent="pytest")
    response = download_response_audited(
        content=b"abc",
        file_name="report.csv",
        content_type="text/csv",
        file_format="csv",
        actor=alice,
        origin=origin,
        target=growth,
        details={"rows": 1},
    )
    assert response.content == b"abc"
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="report.csv"'
    assert response["X-Content-SHA256"] == ABC_SHA256
    expected = base64.b64encode(bytes.fromhex(ABC_SHA256)).decode()
    assert response["Repr-Digest"] == f"sha-256=:{expected}:"
    [event] = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert (event.actor, event.action, event.target_id) == (
        alice,
        AuditAction.EXPORT,
        str(growth.pk),
    )
    assert event.details == {"rows": 1, "format": "csv", "size": 3, "sha256": ABC_SHA256}
    assert event.ip_address == "10.0.0.7"


@pytest.mark.django_db
def test_a_file_on_disk_is_streamed_and_audited(alice, tmp_path):
    path = tmp_path / "rejected.csv"
    path.write_bytes(b"abc")
    response = download_response_audited(
        content=path,
        file_name=path.name,
        content_type="text/csv",
        file_format="csv",
        actor=alice,
    )
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content) == b"abc"
    assert response["X-Content-SHA256"] == ABC_SHA256
    assert "rejected.csv" in response["Content-Disposition"]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.details["size"], event.details["sha256"]) == (3, ABC_SHA256)
