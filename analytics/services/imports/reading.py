"""The input stream of a file import, counted and hashed as the parser reads it,
so the run records the size and SHA-256 of exactly what was imported without a
second pass over a CSV (a workbook, which is read by seeking, is hashed once
more at the end)."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO

SPOOL_MAX_BYTES = 64 * 1024 * 1024  # a non-seekable workbook stays in memory up to this
HASH_BLOCK_BYTES = 1024 * 1024


def seekable_stream(stream: IO[bytes]) -> IO[bytes]:
    """``stream`` itself when it can seek, else a spooled copy of it (a workbook is
    a zip file: its directory is at the end)."""
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool


class HashingReader:
    """Wraps a binary stream to count and hash what the parser reads. It is a
    duck-typed binary file (``read``, ``readline``, iteration, ``seek``)."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.rehash = False

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.stream.readline(size)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return getattr(self.stream, "seekable", lambda: False)()

    def seek(self, offset: int, whence: int = 0) -> int:
        # Only zip readers (XLSX) seek; the hash is then taken over the whole
        # file separately (see ``digest``).
        self.rehash = True
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()

    def digest(self) -> tuple[str, int]:
        """The hex SHA-256 and the size in bytes of the whole input."""
        if not self.rehash:
            return self.sha256.hexdigest(), self.size
        position = self.stream.tell()
        self.stream.seek(0)
        sha256, size = hashlib.sha256(), 0
        while block := self.stream.read(HASH_BLOCK_BYTES):
            sha256.update(block)
            size += len(block)
        self.stream.seek(position)
        return sha256.hexdigest(), size

    @property
    def closed(self) -> bool:
        return False

    def flush(self) -> None:
        return None
