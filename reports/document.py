"""The report document: what every block produces and every renderer reads.

A run turns a template version into one :class:`Document` (pure data, no Django
objects), then each renderer (HTML, PDF, XLSX, CSV, JSON; ``reports.renderers``)
turns the same document into a file, so the formats always agree.

Conventions of values in :class:`Table` rows and :class:`Kpi` (the renderers
format them, blocks never pre-format numbers):

* ``percent``: a fraction (0.0123 is 1.23 %); ``bps``: basis points as a number;
  ``currency``: an amount in the column's (or table's) ``currency``;
  ``number`` / ``integer`` / ``ratio``: plain numbers; ``days``: a count of days;
  ``date``: a ``datetime.date`` (ISO in CSV/JSON, a native date in XLSX);
  ``text``: a string. ``None`` is a missing value, shown as "–" (empty in CSV).
* ``decimals`` on a column overrides the format's default (percent 2, number 2,
  ratio 2, currency 0, bps 1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Format = Literal["text", "integer", "number", "ratio", "percent", "bps", "currency", "date", "days"]
ChartKind = Literal["line", "bar", "column", "area"]


@dataclass(frozen=True)
class Column:
    """One column of a table: its key (a stable identifier, the CSV/JSON header),
    its display label and how its values are formatted."""

    key: str
    label: str
    format: Format = "text"
    decimals: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class SheetChart:
    """A native spreadsheet chart of a table: ``x`` is the category/date column's
    key, ``series`` the keys of the value columns drawn."""

    kind: ChartKind
    title: str
    x: str
    series: tuple[str, ...]


@dataclass
class Table:
    """A table of a section. ``name`` is unique within the document once prefixed
    by its section's ``key`` (renderers use it for CSV file and sheet names).
    ``rows`` is any iterable of sequences in column order, so a large table can be
    streamed (a renderer iterates it once; :meth:`materialise` first if you need
    it twice). ``printed`` false marks the data behind a figure of the section (a
    daily series): the spreadsheet and data formats carry it, the page and the PDF
    may show the figure alone."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    note: str = ""
    chart: SheetChart | None = None
    printed: bool = True

    def materialise(self) -> Table:
        """The same table with its rows as a list (safe to read more than once)."""
        if not isinstance(self.rows, list):
            self.rows = [tuple(row) for row in self.rows]
        return self


@dataclass(frozen=True)
class Figure:
    """A Plotly figure (a plain-JSON dict from ``analytics.presentation.figures``)
    with its title and an accessible description."""

    name: str
    title: str
    figure: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Kpi:
    """A headline figure shown as a tile (value formatted as ``format``)."""

    label: str
    value: Any
    format: Format = "number"
    note: str = ""


@dataclass
class Section:
    """What one block produced for one portfolio (or, for cross-portfolio blocks,
    for all of them: ``portfolio`` is None). ``key`` is unique in the document
    (``"<block kind>-<portfolio code>"``) and names its files and sheets.
    ``unavailable`` holds the reason when the data cannot support the block (the
    section is then shown as that note, never as an empty table)."""

    key: str
    block: str
    title: str
    portfolio: str | None = None
    kpis: list[Kpi] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: str | None = None


@dataclass(frozen=True)
class PortfolioHeader:
    """A portfolio in the report, with the data it was rendered from."""

    id: int
    code: str
    name: str
    base_currency: str
    as_of: dt.date | None
    data_version: int
    snapshot_id: int | None
    stale: bool = False


@dataclass(frozen=True)
class Layout:
    """Layout options of a template (see ``reports.models``)."""

    orientation: Literal["portrait", "landscape"] = "portrait"
    accent_colour: str = "#1f4e79"
    logo: str = ""  # a path under static/, or "" for none
    cover_page: bool = True
    disclaimer: str = ""


@dataclass
class Document:
    """A whole report, ready for any renderer.

    ``period_start``/``period_end`` bound the report period (inclusive);
    ``as_of`` is the oldest as-of date of the portfolios' data; ``incomplete``
    lists the data gaps a reader must see (shown as a banner on every format)."""

    title: str
    template_slug: str
    template_version: int
    run_id: int | None
    generated_at: dt.datetime
    run_as: str  # the user's full name
    period_key: str
    period_label: str
    period_start: dt.date | None
    period_end: dt.date | None
    as_of: dt.date | None
    reporting_currency: str | None
    portfolios: list[PortfolioHeader]
    layout: Layout = field(default_factory=Layout)
    description: str = ""
    incomplete: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
