"""``render_report``: renders synchronously as a user, writes the files and prints
one JSON object; anything that stops the report exits non-zero and writes nothing."""

import datetime as dt
import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command

from reports.models import ReportRun, RunStatus
from reports.services.templates import report_template_create
from tests.reports.core_support import (
    probe_block,
    probe_install,
    renderers_install,
    snapshot_done,
)

AS_OF = dt.date(2024, 3, 28)


@pytest.fixture(autouse=True)
def probe(monkeypatch):
    return probe_install(monkeypatch)


@pytest.fixture(autouse=True)
def rendered(monkeypatch):
    return renderers_install(monkeypatch)


@pytest.fixture
def template(alice, growth, income):
    for portfolio in (growth, income):
        snapshot_done(portfolio, as_of=AS_OF)
    return report_template_create(
        user=alice,
        name="Book",
        slug="book",
        blocks=["probe"],
        parameters={"scope": "portfolios", "portfolios": ["GROWTH", "INCOME"]},
    )


def _render(*args):
    out = io.StringIO()
    call_command("render_report", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_files_are_written_and_described(template, tmp_path):
    folder = tmp_path / "out"

    summary = _render(
        "book", "--user", "alice", "--portfolio", "GROWTH", "--period", "1y",
        "--format", "pdf,xlsx,json", "--output", str(folder),
    )  # fmt: skip

    run = ReportRun.objects.get()
    assert (summary["run"], summary["template"], summary["version"]) == (run.pk, "book", 1)
    assert summary["status"] == RunStatus.SUCCEEDED
    assert summary["data_as_of"] == "2024-03-28"
    assert sorted(p.name for p in folder.iterdir()) == ["report.json", "report.pdf", "report.xlsx"]
    by_format = {f["format"]: f for f in summary["files"]}
    for described in by_format.values():
        content = (folder / described["name"]).read_bytes()
        assert described["bytes"] == len(content)
        assert described["sha256"] == hashlib.sha256(content).hexdigest()
        assert json.loads(content)["portfolios"] == ["GROWTH"]
        assert json.loads(content)["period"] == ["1y", "2023-03-29", "2024-03-28"]
    assert (by_format["pdf"]["pages"], by_format["xlsx"]["sheets"]) == (1, 2)
    assert run.parameters["period"] == "1y"


CUSTOM_BACKWARDS = ["--period", "custom", "--start", "2024-05-01", "--end", "2024-03-01"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such", "--user", "alice"], "no report template “no-such” that alice may see"),
        (["book", "--user", "nobody"], "There is no active user “nobody”"),
        (["book", "--user", "mallory"], "no report template “book” that mallory may see"),
        (
            ["book", "--user", "alice", "--portfolio", "HIDDEN"],
            "No portfolio “HIDDEN” that you may see",
        ),
        (["book", "--user", "alice", "--period", "2q"], "There is no period “2q”"),
        (
            ["book", "--user", "alice", *CUSTOM_BACKWARDS],
            "starts on 2024-05-01, after it ends on 2024-03-01",
        ),
    ],
)
def test_what_stops_a_report_exits_non_zero_and_writes_nothing(
    template, hidden, mallory, tmp_path, args, message
):
    folder = tmp_path / "out"

    with pytest.raises(CommandError, match=message):
        call_command("render_report", *args, "--format", "json", "--output", str(folder))

    assert not folder.exists()
    assert not ReportRun.objects.exists()


def test_an_unknown_format_exits_non_zero_and_writes_nothing(template, tmp_path):
    folder = tmp_path / "out"

    with pytest.raises(CommandError, match="There is no format “docx”"):
        call_command(
            "render_report", "book", "--user", "alice", "--format", "pdf,docx",
            "--output", str(folder),
        )  # fmt: skip

    assert not folder.exists()


def test_a_failed_run_exits_non_zero_and_writes_nothing(template, tmp_path, monkeypatch):
    def build(context):
        raise ValueError("the snapshot has no returns")

    probe_install(monkeypatch, probe_block(build))
    folder = tmp_path / "out"

    with pytest.raises(CommandError, match="The block “Probe” failed: the snapshot has no returns"):
        call_command(
            "render_report", "book", "--user", "alice", "--format", "json", "--output", str(folder)
        )

    assert not folder.exists()
    assert ReportRun.objects.get().status == RunStatus.FAILED
