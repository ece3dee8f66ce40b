"""The report as HTML: one set of templates for the screen and for print.

``templates/reports/document.html`` lays out the whole report (cover, contents,
header, "incomplete data" banner, sections, disclaimer); each section is drawn by
``templates/reports/blocks/<kind>.html`` when its block has a fragment of its own,
else by the generic ``templates/reports/blocks/_section.html`` (KPI tiles, tables,
figures, notes, or the "unavailable" note). ``static/css/report.css`` styles both
media: on screen a readable page, in print A4 pages with running headers and
footers (``@page`` margin boxes), page numbers and a table of contents with page
numbers (``target-counter``).

Two modes:

* ``screen`` (:func:`document_html` for the portal's pages, e.g. the builder's
  preview and the run page): charts are Plotly figures drawn by the page's
  plotly.js (``analytics.presentation.charts.Chart``; the page includes
  ``templates/_chart_scripts.html`` and ``css/report.css`` in its head).
* ``print`` (the HTML file, :func:`render`, and the PDF): charts are inline SVG
  drawn by kaleido (``reports.renderers.svg``); a chart that cannot be drawn is a
  note in its place and a warning on the file.

Tables show at most ``ROW_LIMIT`` rows on screen and in print, with a note saying
how many more there are (XLSX and CSV always carry every row). Everything from
the document is escaped by the template engine; the only markup passed through
is the SVG that kaleido serialised from the figure.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.contrib.staticfiles import finders
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from analytics.presentation.charts import Chart, chart
from reports.document import Column, Document, Section, Table
from reports.renderers import formats
from reports.renderers.base import CONTENT_TYPES, RenderedFile
from reports.renderers.svg import ChartExporter, ChartUnavailable, chart_exporter

Mode = Literal["screen", "print"]
Assets = Literal["static", "file", "inline"]
ROW_LIMIT = 2000
"""Rows of one table shown on screen and in print (about 50 A4 pages)."""
STYLESHEET = "css/report.css"
DEFAULT_ACCENT = "#1f4e79"
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
# Chart sizes in CSS pixels: the printed width of an A4 page's text block at
# 96 px per inch, so the chart's 12 px text prints at about 9 pt.
CHART_WIDTH = {"portrait": 700, "landscape": 1000}
CHART_HEIGHT = 300


@dataclass(frozen=True)
class CellView:
    text: str
    numeric: bool
    negative: bool


@dataclass(frozen=True)
class TableView:
    name: str
    title: str
    note: str
    headers: list[tuple[str, bool]]
    rows: list[list[CellView]]
    total_rows: int

    @property
    def omitted_rows(self) -> int:
        return self.total_rows - len(self.rows)


@dataclass(frozen=True)
class KpiView:
    label: str
    text: str
    note: str
    negative: bool


@dataclass(frozen=True)
class FigureView:
    name: str
    title: str
    description: str
    chart: Chart | None = None
    svg: SafeString | None = None
    unavailable: str = ""


@dataclass
class SectionView:
    anchor: str
    key: str
    block: str
    title: str
    portfolio: str
    portfolio_name: str
    kpis: list[KpiView]
    tables: list[TableView]
    figures: list[FigureView]
    notes: list[str]
    unavailable: str
    section: Section


@dataclass
class Rendering:
    """The context of ``reports/document.html`` and what a reader must know
    about the rendering (``warnings``)."""

    context: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def accent_colour(document: Document) -> str:
    """The template's accent colour when it is a CSS hex colour, else the default
    (the value goes into a stylesheet, so nothing else is let through)."""
    colour = document.layout.accent_colour
    return colour if _COLOUR.fullmatch(colour or "") else DEFAULT_ACCENT


def _negative(value: Any) -> bool:
    return formats.is_number(value) and not formats.is_missing(value) and value < 0


def _table_view(table: Table, *, row_limit: int | None) -> TableView:
    columns: Sequence[Column] = table.columns
    numeric = [formats.is_numeric(column.format) for column in columns]
    rows: list[list[CellView]] = []
    total = 0
    for row in table.rows:
        total += 1
        if row_limit is not None and total > row_limit:
            continue
        rows.append(
            [
                CellView(formats.column_text(value, column), is_number, _negative(value))
                for value, column, is_number in zip(row, columns, numeric, strict=False)
            ]
        )
    return TableView(
        name=table.name,
        title=table.title,
        note=table.note,
        headers=[
            (formats.column_label(column), is_number)
            for column, is_number in zip(columns, numeric, strict=True)
        ],
        rows=rows,
        total_rows=total,
    )


class _Charts:
    """Draws a document's figures for one mode, collecting what failed."""

    def __init__(self, mode: Mode, orientation: str, exporter: ChartExporter | None) -> None:
        self.mode = mode
        self.width = CHART_WIDTH.get(orientation, CHART_WIDTH["portrait"])
        self.exporter = exporter
        self.failures: list[str] = []

    def view(self, figure: Any, anchor: str, section_title: str) -> FigureView:
        label = figure.description or figure.title
        if self.mode == "screen":
            return FigureView(
                figure.name,
                figure.title,
                figure.description,
                chart=chart(f"{anchor}-{slugify(figure.name)}", label, figure.figure),
            )
        try:
            exporter = self.exporter or chart_exporter()
            svg = exporter.svg(figure.figure, width=self.width, height=CHART_HEIGHT)
        except ChartUnavailable as reason:
            self.failures.append(f"{section_title}: {figure.title}: {reason}")
            return FigureView(
                figure.name,
                figure.title,
                figure.description,
                unavailable=f"This chart could not be drawn. {reason}",
            )
        # kaleido serialises the chart's DOM, so text from the data is escaped.
        return FigureView(figure.name, figure.title, figure.description, svg=mark_safe(svg))  # noqa: S308


def _section_views(
    document: Document, charts: _Charts, row_limit: int | None
) -> Iterator[SectionView]:
    names = {portfolio.code: portfolio.name for portfolio in document.portfolios}
    for index, section in enumerate(document.sections, start=1):
        anchor = f"section-{index}-{slugify(section.key)}"[:80]
        yield SectionView(
            anchor=anchor,
            key=section.key,
            block=section.block,
            title=section.title,
            portfolio=section.portfolio or "",
            portfolio_name=names.get(section.portfolio or "", section.portfolio or ""),
            kpis=[
                KpiView(
                    kpi.label,
                    formats.value_text(kpi.value, kpi.format),
                    kpi.note,
                    _negative(kpi.value),
                )
                for kpi in section.kpis
            ],
            # A table marked not printed is the data behind a figure (a daily series):
            # the figure shows it here; the XLSX, CSV and JSON files hold its rows.
            tables=[
                _table_view(table, row_limit=row_limit) for table in section.tables if table.printed
            ],
            figures=[charts.view(figure, anchor, section.title) for figure in section.figures],
            notes=list(section.notes)
            + (
                ["The data behind the charts is in the XLSX, CSV and JSON files of this report."]
                if any(not table.printed for table in section.tables)
                else []
            ),
            unavailable=section.unavailable or "",
            section=section,
        )


_fragments: dict[str, str] = {}


def section_template(block: str) -> str:
    """The template that draws a section of ``block``: its own fragment
    ``reports/blocks/<kind>.html`` when there is one, else ``_section.html``."""
    if block not in _fragments:
        name = f"reports/blocks/{slugify(block)}.html"
        try:
            get_template(name)
        except TemplateDoesNotExist:
            name = "reports/blocks/_section.html"
        _fragments[block] = name
    return _fragments[block]


def document_rendering(
    document: Document,
    *,
    mode: Mode = "screen",
    standalone: bool = False,
    assets: Assets = "static",
    exporter: ChartExporter | None = None,
    row_limit: int | None = ROW_LIMIT,
) -> Rendering:
    """Everything ``reports/document.html`` needs. ``assets`` says how the
    stylesheet and logo are referenced: ``static`` by their static URLs (portal
    pages), ``file`` by ``file:`` URLs of the static files (the PDF, through its
    fetcher), ``inline`` inside the file itself (the HTML download)."""
    charts = _Charts(mode, document.layout.orientation, exporter)
    sections = list(_section_views(document, charts, row_limit))
    warnings = [f"Chart not drawn: {failure}" for failure in charts.failures]
    context = {
        "document": document,
        "mode": mode,
        "standalone": standalone,
        "stylesheet": _stylesheet(assets) if standalone else {},
        "accent": accent_colour(document),
        "orientation": "landscape" if document.layout.orientation == "landscape" else "portrait",
        "sections": [(view, section_template(view.block)) for view in sections],
        "portfolio_codes": ", ".join(portfolio.code for portfolio in document.portfolios),
        "generated_at": formats.datetime_text(document.generated_at),
        "as_of": formats.value_text(document.as_of, "date"),
        "period_start": formats.value_text(document.period_start, "date"),
        "period_end": formats.value_text(document.period_end, "date"),
        "logo": _logo_url(document.layout.logo, assets=assets) if document.layout.logo else "",
        "warnings": [*document.warnings, *warnings],
    }
    return Rendering(context, warnings)


def document_html(document: Document, *, mode: Mode = "screen", standalone: bool = False) -> str:
    """The report as HTML for a portal page (``standalone=False``: the
    ``<article>`` alone; the page links ``css/report.css`` and, in ``screen`` mode,
    includes ``templates/_chart_scripts.html``)."""
    rendering = document_rendering(document, mode=mode, standalone=standalone)
    return render_to_string("reports/document.html", rendering.context)


def _static_file(path: str) -> Path | None:
    found = finders.find(path)
    if not found:
        return None
    return Path(found if isinstance(found, str) else found[0]).resolve()


def _logo_url(logo: str, *, assets: Assets) -> str:
    """The logo's URL (see :func:`document_rendering`); "" when ``logo`` names no
    static file."""
    path = _static_file(logo)
    if path is None:
        return ""
    if assets == "static":
        return static(logo)
    if assets == "file":
        return path.as_uri()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{content_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _stylesheet(assets: Assets) -> dict[str, str]:
    path = _static_file(STYLESHEET)
    if path is None:
        raise FileNotFoundError(f"The report stylesheet {STYLESHEET} is missing.")
    if assets == "static":
        return {"href": static(STYLESHEET)}
    if assets == "file":
        return {"href": path.as_uri()}
    return {"inline": path.read_text(encoding="utf-8")}


def file_stem(document: Document) -> str:
    """The base name of a document's files: template slug, period end or the run
    time's date, and the run id when there is one (``risk-2024-03-31-r42``)."""
    day = document.period_end or document.generated_at.date()
    stem = f"{slugify(document.template_slug) or 'report'}-{day.isoformat()}"
    return f"{stem}-r{document.run_id}" if document.run_id is not None else stem


def render(document: Document, *, directory: Path) -> RenderedFile:
    """The report as one self-contained HTML file (print mode: the stylesheet
    inline, charts as SVG), which opens anywhere without the portal."""
    rendering = document_rendering(document, mode="print", standalone=True, assets="inline")
    path = Path(directory) / f"{file_stem(document)}.html"
    path.write_text(render_to_string("reports/document.html", rendering.context), encoding="utf-8")
    return RenderedFile(
        format="html",
        path=path,
        content_type=CONTENT_TYPES["html"],
        warnings=tuple(rendering.warnings),
    )
