"""A bounded, streaming reader of a workbook's first sheet.

A workbook is a zip of XML parts, and a small file can hide huge parts: a 1 MB
workbook may hold a gigabyte of shared strings, or ten million rows. So nothing
here trusts the file, and memory stays bounded whatever it holds:

* every part is checked against a cap on its uncompressed size, first by the
  size its zip header declares and then while it is decompressed (a header can
  lie), before its bytes are parsed. The parts whose content is kept (the
  relationships, the workbook, the styles, the shared strings) share
  ``xlsx_part_bytes``; the sheet, which is only streamed, has ``xlsx_sheet_bytes``;
* XML is parsed as a stream of SAX events (``defusedxml``: no DTD, entity or
  external reference), fed 64 KB at a time; no element tree is built, so no
  element, text or row can pile up: a cell holds at most Excel's 32,767
  characters, a row at most its 16,384 columns, a workbook at most 65,536 cell
  styles, and past ``max_rows`` data rows the sheet is refused as the reader
  reaches them (or at once when its declared range says so);
* the shared strings are kept as a list of ``str``: a part of ``xlsx_part_bytes``
  of XML takes about as much memory, up to three times for one-letter strings.

Values come out as openpyxl's read-only mode gives them (``data_only``: a
formula's cached result): numbers as ``int``/``float``, cells whose style is a
date format as ``datetime`` (or ``timedelta``), booleans, and text. Rows are
``(row number, values)`` with the row number a spreadsheet shows.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from xml.sax import SAXException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import (
    CALENDAR_MAC_1904,
    CALENDAR_WINDOWS_1900,
    from_excel,
    from_ISO8601,
)

from analytics.ingest.limits import ReadLimits, megabytes

READ_BYTES = 64 * 1024  # fed to the XML parser at a time
# Excel's own limits (Microsoft's "Excel specifications and limits"): nothing a
# spreadsheet program writes goes past them.
MAX_CELL_CHARS = 32_767
MAX_COLUMNS = 16_384
MAX_CELL_STYLES = 65_536

_OFFICE_DOCUMENT = "/officeDocument"

Value = str | int | float | bool | dt.datetime | dt.timedelta | None


class WorkbookError(Exception):
    """The workbook cannot be read or goes past a limit; the message is for the
    user, ``row`` set when one row is to blame."""

    def __init__(self, message: str, *, row: int | None = None):
        super().__init__(message)
        self.row = row


def _local(name: str) -> str:
    """An element or attribute name without its prefix (``x:row`` → ``row``)."""
    return name.rpartition(":")[2]


def _attribute(attributes: AttributesImpl, local: str) -> str | None:
    """The attribute named ``local`` whatever its prefix (``r:id``)."""
    for name in attributes.getNames():
        if _local(name) == local:
            return attributes.getValue(name)
    return None


def _too_many_rows(max_rows: int) -> str:
    """The message for an input past ``max_rows`` data rows."""
    return f"the workbook's first sheet has more than {max_rows:,} rows; the limit is {max_rows:,}"


class _CappedPart:
    """A zip part being decompressed that refuses to give more than ``limit``
    bytes, whatever its header said."""

    def __init__(self, stream: IO[bytes], *, limit: int, label: str):
        self.stream = stream
        self.limit = limit
        self.label = label
        self.read_so_far = 0

    def read(self) -> bytes:
        data = self.stream.read(READ_BYTES)
        self.read_so_far += len(data)
        if self.read_so_far > self.limit:
            raise WorkbookError(
                f"the workbook's {self.label} takes more than {megabytes(self.limit)} "
                f"uncompressed; the limit is {megabytes(self.limit)}"
            )
        return data


class _Handler(ContentHandler):
    """A SAX handler that collects text only where asked, within ``MAX_CELL_CHARS``."""

    def __init__(self) -> None:
        super().__init__()
        self.capturing = False
        self.pieces: list[str] = []
        self.length = 0

    def capture(self) -> None:
        self.capturing = True

    def characters(self, content: str) -> None:
        if not self.capturing:
            return
        self.length += len(content)
        if self.length > MAX_CELL_CHARS:
            raise WorkbookError(
                f"a cell of the workbook holds more than {MAX_CELL_CHARS:,} characters "
                f"(Excel's limit)"
            )
        self.pieces.append(content)

    def taken(self) -> str:
        """The text collected since the last call, and stop collecting."""
        text = "".join(self.pieces)
        self.capturing, self.pieces, self.length = False, [], 0
        return text


def _parse(part: _CappedPart, handler: _Handler) -> Iterator[None]:
    """Feed ``part`` to ``handler``; yield after each block, so a caller can take
    what the handler gathered so far."""
    parser = DefusedExpatParser(forbid_dtd=True)
    parser.setContentHandler(handler)
    while data := part.read():
        parser.feed(data)
        yield
    parser.close()
    yield


class _Relations(_Handler):
    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder
        self.found: dict[str, tuple[str, str]] = {}

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        if _local(name) != "Relationship" or attrs.get("TargetMode") == "External":
            return
        target = attrs.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(self.folder, target)
        self.found[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(path))


class _WorkbookPart(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.first_sheet: str | None = None
        self.epoch = CALENDAR_WINDOWS_1900

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        local = _local(name)
        if local == "workbookPr" and attrs.get("date1904", "").lower() in ("1", "true"):
            self.epoch = CALENDAR_MAC_1904
        elif local == "sheet" and self.first_sheet is None:
            self.first_sheet = _attribute(attrs, "id")


class _Styles(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.custom: dict[int, str] = {}
        self.formats: list[int] = []
        self.in_cell_formats = False

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        local = _local(name)
        if local == "cellXfs":
            self.in_cell_formats = True
        elif local == "numFmt" or (local == "xf" and self.in_cell_formats):
            if len(self.custom) + len(self.formats) >= MAX_CELL_STYLES:
                raise WorkbookError(f"the workbook has more than {MAX_CELL_STYLES:,} cell styles")
            number_format = int(attrs.get("numFmtId", "0"))
            if local == "numFmt":
                self.custom[number_format] = attrs.get("formatCode", "")
            else:
                self.formats.append(number_format)

    def endElement(self, name: str) -> None:
        if _local(name) == "cellXfs":
            self.in_cell_formats = False


class _SharedStrings(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.strings: list[str] = []
        self.phonetic = False

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        local = _local(name)
        if local == "rPh":
            self.phonetic = True
        elif local == "t" and not self.phonetic:
            self.capture()

    def endElement(self, name: str) -> None:
        local = _local(name)
        if local == "t":
            self.capturing = False
        elif local == "rPh":
            self.phonetic = False
        elif local == "si":
            self.strings.append(self.taken())


@dataclass(frozen=True)
class _Layout:
    """Where the first sheet is and how to read its cells."""

    sheet: str
    shared_strings: list[str]
    date_styles: frozenset[int]
    timedelta_styles: frozenset[int]
    epoch: dt.datetime


class _Sheet(_Handler):
    """The rows of a sheet, gathered as its XML is fed (see ``xlsx_rows``)."""

    def __init__(self, layout: _Layout, max_rows: int) -> None:
        super().__init__()
        self.layout = layout
        self.max_rows = max_rows
        self.rows: list[tuple[int, list[Value]]] = []
        self.rows_read = 0
        self.number = 0
        self.values: list[Value] = []
        self.column = 0
        self.kind = "n"
        self.style = 0
        self.phonetic = False

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        local = _local(name) if ":" in name else name  # called per element: no call
        if local == "c":
            reference = attrs.get("r")
            self.column = _column(reference) if reference else len(self.values) + 1
            if self.column > MAX_COLUMNS:
                raise WorkbookError(
                    f"row {self.number} has a cell past column {MAX_COLUMNS:,} (Excel's last)",
                    row=self.number,
                )
            self.kind = attrs.get("t", "n")
            self.style = int(attrs.get("s", "0") or 0)
        elif local == "v" or (local == "t" and self.kind == "inlineStr" and not self.phonetic):
            self.capture()
        elif local == "rPh":
            self.phonetic = True
        elif local == "row":
            given = attrs.get("r")
            self.number = int(given) if given else self.number + 1
            self.rows_read += 1
            if self.rows_read > self.max_rows + 1:  # and the header
                raise WorkbookError(_too_many_rows(self.max_rows), row=self.number)
            self.values = []
        elif local == "dimension":
            _check_dimension(attrs.get("ref", ""), self.max_rows)

    def endElement(self, name: str) -> None:
        local = _local(name) if ":" in name else name
        if local in ("v", "t") and self.capturing:
            self.capturing = False
        elif local == "rPh":
            self.phonetic = False
        elif local == "c":
            text = self.taken()
            gap = self.column - len(self.values)
            if gap > 0:
                self.values.extend([None] * gap)
            self.values[self.column - 1] = self._value(text)
        elif local == "row" and self.values:
            self.rows.append((self.number, self.values))
            self.values = []

    def _value(self, text: str) -> Value:
        kind = self.kind
        if kind == "inlineStr":
            return text
        if not text:
            return None
        if kind == "n":
            number = _number(text)
            if self.style in self.layout.date_styles:
                try:
                    return from_excel(
                        number,
                        self.layout.epoch,
                        timedelta=self.style in self.layout.timedelta_styles,
                    )
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if kind == "s":
            try:
                return self.layout.shared_strings[int(text)]
            except (IndexError, ValueError):
                raise WorkbookError(f"not an XLSX workbook: no shared string {text}") from None
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":
            return from_ISO8601(text)
        return text  # "str" (a formula's text), "e" (an error such as #N/A)


def _number(text: str) -> int | float:
    try:
        if "." in text or "E" in text or "e" in text:
            return float(text)
        return int(text)
    except ValueError:
        raise WorkbookError(f"not an XLSX workbook: {text[:40]!r} is not a number") from None


def _column(reference: str) -> int:
    """The 1-based column of a cell reference such as ``AB12``."""
    try:
        return column_index_from_string(reference.rstrip("0123456789").lstrip("$"))
    except ValueError:
        raise WorkbookError(
            f"not an XLSX workbook: bad cell reference {reference[:20]!r}"
        ) from None


def _check_dimension(reference: str, max_rows: int) -> None:
    """Refuse at once a sheet whose declared range (``A1:H10000001``) has more
    rows than allowed; one that declares fewer is still counted as it is read."""
    last = reference.rpartition(":")[2].replace("$", "").lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if last.isdigit() and int(last) > max_rows + 1:
        raise WorkbookError(_too_many_rows(max_rows))


class _Workbook:
    """The zip archive of a workbook and the parts of it the reader needs."""

    def __init__(self, stream: IO[bytes], limits: ReadLimits):
        self.limits = limits
        self.archive = zipfile.ZipFile(stream)
        self.names = set(self.archive.namelist())

    def part(self, name: str, *, label: str, limit: int) -> _CappedPart:
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise WorkbookError(f"not an XLSX workbook: there is no part {name}") from None
        if info.file_size > limit:
            raise WorkbookError(
                f"the workbook's {label} takes {megabytes(info.file_size)} uncompressed; "
                f"the limit is {megabytes(limit)}"
            )
        return _CappedPart(self.archive.open(info), limit=limit, label=label)

    def read(self, name: str, handler: _Handler, *, label: str) -> None:
        """Parse a kept part (within ``xlsx_part_bytes``) into ``handler``."""
        for _ in _parse(self.part(name, label=label, limit=self.limits.xlsx_part_bytes), handler):
            pass

    def relations(self, owner: str) -> dict[str, tuple[str, str]]:
        """``owner``'s relationships: id → (type, part name)."""
        folder, base = posixpath.split(owner)
        name = posixpath.join(folder, "_rels", f"{base}.rels")
        handler = _Relations(folder)
        if name in self.names:
            self.read(name, handler, label="relationships part")
        return handler.found

    def layout(self) -> _Layout:
        main = next(
            (path for kind, path in self.relations("").values() if kind.endswith(_OFFICE_DOCUMENT)),
            "xl/workbook.xml",
        )
        workbook = _WorkbookPart()
        self.read(main, workbook, label="workbook part")
        relations = self.relations(main)
        if workbook.first_sheet is None or workbook.first_sheet not in relations:
            raise WorkbookError("not an XLSX workbook: it names no sheet")
        by_type = {kind.rpartition("/")[2]: path for kind, path in relations.values()}
        styles = _Styles()
        if by_type.get("styles") in self.names:
            self.read(by_type["styles"], styles, label="styles part")
        strings = _SharedStrings()
        if by_type.get("sharedStrings") in self.names:
            self.read(by_type["sharedStrings"], strings, label="shared strings part")
        dates, durations = set(), set()
        for style, number_format in enumerate(styles.formats):
            code = styles.custom.get(number_format, BUILTIN_FORMATS.get(number_format, ""))
            if code and is_date_format(code):
                dates.add(style)
                if is_timedelta_format(code):
                    durations.add(style)
        return _Layout(
            sheet=relations[workbook.first_sheet][1],
            shared_strings=strings.strings,
            date_styles=frozenset(dates),
            timedelta_styles=frozenset(durations),
            epoch=workbook.epoch,
        )


def xlsx_rows(stream: IO[bytes], *, limits: ReadLimits) -> Iterator[tuple[int, list[Value]]]:
    """The rows of the first sheet of the workbook ``stream`` (seekable), each
    ``(row number, values)``, the header (row 1) included; rows without any cell
    are left out. Raises ``WorkbookError`` for a file that is not a workbook or that
    goes past one of ``limits`` (see the module docstring)."""
    try:
        book = _Workbook(stream, limits)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise WorkbookError(f"not an XLSX workbook: {error}") from None
    try:
        layout = book.layout()
        sheet = _Sheet(layout, limits.max_rows)
        part = book.part(layout.sheet, label="first sheet", limit=limits.xlsx_sheet_bytes)
        for _ in _parse(part, sheet):
            yield from sheet.rows
            sheet.rows = []
    except (
        zipfile.BadZipFile,
        SAXException,
        DefusedXmlException,
        EOFError,
        OSError,
        ValueError,
    ) as error:
        raise WorkbookError(f"not an XLSX workbook: {error}") from None
    finally:
        book.archive.close()


def xlsx_expanded_bytes(stream: IO[bytes]) -> int | None:
    """The bytes the parts of the workbook ``stream`` (seekable) declare they take
    uncompressed, from the zip's directory alone (nothing is decompressed), or
    None when it is not a zip file. The stream is left where it was. The sizes
    may lie: the reader enforces its caps while decompressing all the same."""
    position = stream.tell()
    try:
        with zipfile.ZipFile(stream) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        stream.seek(position)
