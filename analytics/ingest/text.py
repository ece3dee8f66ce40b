"""Characters that text storage refuses, and how imports deal with them.

PostgreSQL refuses NUL (U+0000) in ``text`` and in ``jsonb``, and no database can
store a lone UTF-16 surrogate (U+D800 to U+DFFF, what JSON's ``"\\ud800"``
decodes to): it has no UTF-8 encoding. Such a cell is a row error, never a
database error half way through a bulk load, so:

* the readers pass each cell through ``text_marked``, which turns every lone
  surrogate into NUL: the frames hold UTF-8 (arrow) strings, which cannot hold a
  surrogate at all, and NUL then stands for every refused character;
* validation (``analytics.ingest.kinds``) refuses each cell that holds a NUL
  (``cells_holding_nul``), for every field of every kind;
* what is shown or written back to the user (error values, the rejected-rows
  report) goes through ``text_printable``, which shows each refused character
  as U+FFFD.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa

NUL = "\x00"
REPLACEMENT = "\ufffd"  # shown in place of a refused character
_SURROGATE = re.compile("[\ud800-\udfff]")
_REFUSED = re.compile("[\x00\ud800-\udfff]")


def text_marked(text: str) -> str:
    """``text`` with each lone surrogate turned into NUL (see the module
    docstring); ASCII text, the common case, is returned as it is."""
    if text.isascii():
        return text
    return _SURROGATE.sub(NUL, text)


def text_printable(text: str) -> str:
    """``text`` with each refused character (NUL, lone surrogates) shown as
    U+FFFD, safe to store, encode as UTF-8 and show."""
    if NUL not in text and text.isascii():
        return text
    return _REFUSED.sub(REPLACEMENT, text)


def cells_holding_nul(values: pd.Series) -> pd.Series | None:
    """Which cells of ``values`` (a column of strings) hold a NUL, or None when
    none does (the usual answer, found without looking at each cell)."""
    if not _may_hold_nul(values):
        return None
    holding = values.astype(str).str.contains(NUL, regex=False)
    return holding if holding.any() else None


def _may_hold_nul(values: pd.Series) -> bool:
    """False only when no cell of ``values`` holds a NUL. An arrow-backed column
    is answered by one byte search over its UTF-8 buffers (50,000 cells in tens
    of microseconds, where a per-cell search takes milliseconds); the buffers may
    hold bytes outside a sliced column, which can only send it to the exact check."""
    arrow_array = getattr(values.array, "__arrow_array__", None)
    if arrow_array is None:
        return True
    arrow = arrow_array()
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    for chunk in chunks:
        if not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            return True
        data = chunk.buffers()[2]
        if data is not None and data.to_pybytes().find(b"\x00") >= 0:
            return True
    return False
