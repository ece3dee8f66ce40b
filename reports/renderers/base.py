"""What a renderer returns, and the formats there are.

A renderer is ``render(document, *, directory) -> RenderedFile``: it writes one
file for the document into ``directory`` (a local temporary folder; the run then
saves it through Django's storage API) and describes it. Renderers are looked up
by format in ``reports.renderers.RENDERERS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("pdf", "xlsx", "csv", "json", "html")
"""Every output format, in the order pages list them."""

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class RenderedFile:
    """A file a renderer wrote: ``format`` is the requested format (``csv`` even
    when several tables made it a zip: ``path``'s suffix tells), ``pages`` for PDF,
    ``sheets`` for XLSX, ``warnings`` for what a reader should know (e.g. charts
    replaced by a note because no browser was available to draw them)."""

    format: str
    path: Path
    content_type: str
    pages: int | None = None
    sheets: int | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.path.name
