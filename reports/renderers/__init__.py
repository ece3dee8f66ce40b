"""The renderers: each turns a :class:`reports.document.Document` into one file
(``render(document, *, directory) -> RenderedFile``; see ``reports.renderers.base``).
``RENDERERS`` maps every format of ``FORMATS`` to its renderer."""

from collections.abc import Callable
from pathlib import Path

from reports.document import Document
from reports.renderers import csv, html, json, pdf, xlsx
from reports.renderers.base import RenderedFile

Renderer = Callable[..., RenderedFile]

RENDERERS: dict[str, Renderer] = {
    "pdf": pdf.render,
    "xlsx": xlsx.render,
    "csv": csv.render,
    "json": json.render,
    "html": html.render,
}
"""format → renderer; every format of ``FORMATS`` has one."""


def render(document: Document, *, file_format: str, directory: Path) -> RenderedFile:
    """``document`` rendered as ``file_format`` into ``directory``."""
    return RENDERERS[file_format](document, directory=directory)
