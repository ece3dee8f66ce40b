"""The optional watermark of a downloaded report PDF: who downloaded it, and when.

:func:`pdf_watermark` stamps one line of text (``Downloaded by <name> on
2024-03-31 14:05 UTC``) at the foot of every page, in grey 7 pt Helvetica, over
the existing content, with pypdf: the stored file is never changed, the stamped
bytes are what the download sends (and what its audit event's SHA-256 is of).

The stamp is a small content stream appended to each page with the standard
Helvetica font (no font file embedded, WinAnsi encoding): a character outside
Latin-1 in a name is written as ``?``. The text stays extractable, so whoever
holds a copy can read who it was made for.
"""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ContentStream,
    DictionaryObject,
    NameObject,
)

FONT_SIZE = 7
MARGIN_POINTS = 14
"""Distance of the line from the page's bottom-left corner (in PDF points)."""
_FONT_RESOURCE = "/PortalWatermarkFont"


def watermark_text(*, name: str, at: dt.datetime) -> str:
    """The stamped sentence: ``Downloaded by <name> on YYYY-MM-DD HH:MM UTC``."""
    moment = at.astimezone(dt.UTC) if at.tzinfo is not None else at
    return f"Downloaded by {name} on {moment:%Y-%m-%d %H:%M} UTC"


def _pdf_string(text: str) -> bytes:
    raw = text.encode("latin-1", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_watermark(content: bytes, *, text: str) -> bytes:
    """``content`` (a PDF) with ``text`` stamped at the foot of every page."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(content)))
    font = writer._add_object(  # an indirect object shared by every page
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    for page in writer.pages:
        box = page.mediabox
        x, y = float(box.left) + MARGIN_POINTS, float(box.bottom) + MARGIN_POINTS / 2
        resources = page.setdefault(NameObject("/Resources"), DictionaryObject()).get_object()
        fonts = resources.setdefault(NameObject("/Font"), DictionaryObject()).get_object()
        fonts[NameObject(_FONT_RESOURCE)] = font
        # q/Q keep the page's own graphics state out of the stamp and back after it.
        stamp = (
            b"q 0.45 g BT "
            + f"{_FONT_RESOURCE} {FONT_SIZE} Tf 1 0 0 1 {x:.2f} {y:.2f} Tm ".encode()
            + _pdf_string(text)
            + b" Tj ET Q"
        )
        contents = ContentStream(page.get_contents(), writer)
        contents.set_data(b"q\n" + contents.get_data() + b"\nQ\n" + stamp)
        page.replace_contents(contents)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
