"""Helpers for the reports core's tests: a probe block put in the catalog, a
renderer that writes what it was given as JSON, and stored snapshots.

The probe block lists, per portfolio it is given, the portfolio's code and name
in a one-row table, so a test can read from a rendered file exactly which
portfolios a run showed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from analytics.models import AnalyticsSnapshot, SnapshotStatus
from reports.blocks import CATALOG
from reports.blocks.base import Block, BlockContext, Option, section_key
from reports.document import Column, Document, Section, Table
from reports.renderers.base import CONTENT_TYPES, RenderedFile
from reports.services import runs

PROBE = "probe"


def probe_build(context: BlockContext) -> list[Section]:
    return [
        Section(
            key=section_key(PROBE, item.portfolio),
            block=PROBE,
            title=f"Probe {context.options['label']}",
            portfolio=item.portfolio.code,
            tables=[
                Table(
                    name="portfolios",
                    title="Portfolios",
                    columns=[Column("code", "Code"), Column("name", "Name")],
                    rows=[(item.portfolio.code, item.portfolio.name)],
                )
            ],
        )
        for item in context.portfolios
    ]


def probe_block(
    build: Callable[[BlockContext], list[Section]] = probe_build, *, kind: str = PROBE
) -> Block:
    return Block(
        kind=kind,
        title=kind.replace("_", " ").capitalize(),
        description="Lists the portfolios it is given.",
        build=build,
        options=(Option("label", "Label", "one", choices=(("one", "One"), ("two", "Two"))),),
        per_portfolio=True,
    )


def probe_install(monkeypatch, block: Block | None = None) -> Block:
    block = block or probe_block()
    monkeypatch.setitem(CATALOG, block.kind, block)
    return block


def document_json(document: Document) -> dict:
    return {
        "title": document.title,
        "template": document.template_slug,
        "version": document.template_version,
        "run": document.run_id,
        "period": [document.period_key, str(document.period_start), str(document.period_end)],
        "portfolios": [header.code for header in document.portfolios],
        "incomplete": document.incomplete,
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "rows": [list(row) for table in section.tables for row in table.rows],
            }
            for section in document.sections
        ],
    }


class RecordingRenderers:
    """Stands in for ``reports.renderers.RENDERERS``: every format is written as
    the document's JSON (see :func:`document_json`), each call recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Document]] = []

    def get(self, file_format: str):
        def render(document: Document, *, directory: Path) -> RenderedFile:
            self.calls.append((file_format, document))
            path = directory / f"report.{file_format}"
            path.write_text(json.dumps(document_json(document)), encoding="utf-8")
            return RenderedFile(
                format=file_format,
                path=path,
                content_type=CONTENT_TYPES.get(file_format, "application/octet-stream"),
                pages=1 if file_format == "pdf" else None,
                sheets=2 if file_format == "xlsx" else None,
            )

        return render


def renderers_install(monkeypatch) -> RecordingRenderers:
    recording = RecordingRenderers()
    monkeypatch.setattr(runs, "renderer_get", recording.get)
    return recording


def snapshot_done(portfolio, *, as_of: dt.date, stale: bool = False) -> AnalyticsSnapshot:
    """A finished snapshot of the portfolio's current data version."""
    return AnalyticsSnapshot.objects.create(
        portfolio=portfolio,
        as_of=as_of,
        data_version=portfolio.data_version,
        status=SnapshotStatus.DONE,
        stale=stale,
        result={"metrics": {"available": True}},
    )
