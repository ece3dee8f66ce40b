"""The report's full data as JSON: the whole :class:`~reports.document.Document`.

The object has ``"format": "portfolio-portal.report"`` and ``"version": 1``,
then every field of the document (title, template and version, run, period,
portfolios with their data versions and snapshots, layout, gaps, warnings) and
its sections with KPIs, tables (columns with key, label, format, decimals and
currency; ``rows`` as arrays in column order), figures (the Plotly figure JSON)
and notes. Values keep the document's conventions: percentages are fractions,
dates and date-times ISO 8601, missing values (and NaN or infinities) ``null``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from plotly.utils import PlotlyJSONEncoder

from reports.document import Document, Section, Table
from reports.renderers.base import CONTENT_TYPES, RenderedFile
from reports.renderers.html import file_stem

SCHEMA = "portfolio-portal.report"
SCHEMA_VERSION = 1


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _table(table: Table) -> dict[str, Any]:
    return {
        "name": table.name,
        "title": table.title,
        "note": table.note,
        "columns": [dataclasses.asdict(column) for column in table.columns],
        "rows": [[_clean(value) for value in row] for row in table.rows],
        "chart": dataclasses.asdict(table.chart) if table.chart else None,
    }


def _section(section: Section) -> dict[str, Any]:
    return {
        "key": section.key,
        "block": section.block,
        "title": section.title,
        "portfolio": section.portfolio,
        "unavailable": section.unavailable,
        "kpis": [{**dataclasses.asdict(kpi), "value": _clean(kpi.value)} for kpi in section.kpis],
        "tables": [_table(table) for table in section.tables],
        "figures": [dataclasses.asdict(figure) for figure in section.figures],
        "notes": list(section.notes),
    }


def document_data(document: Document) -> dict[str, Any]:
    """``document`` as plain JSON types (see the module docstring)."""
    fields = {
        field.name: getattr(document, field.name)
        for field in dataclasses.fields(document)
        if field.name != "sections"
    }
    return {
        "format": SCHEMA,
        "version": SCHEMA_VERSION,
        **{
            key: _clean(value)
            for key, value in fields.items()
            if key not in ("portfolios", "layout")
        },
        "portfolios": [
            {key: _clean(value) for key, value in dataclasses.asdict(portfolio).items()}
            for portfolio in document.portfolios
        ],
        "layout": dataclasses.asdict(document.layout),
        "sections": [_section(section) for section in document.sections],
    }


def render(document: Document, *, directory: Path) -> RenderedFile:
    """The report's data as one JSON file in ``directory``."""
    path = Path(directory) / f"{file_stem(document)}.json"
    # json.dumps, not json.dump: Plotly's encoder turns NaN into null in encode()
    # only (numpy arrays and dates in figures become plain JSON too).
    text = json.dumps(document_data(document), cls=PlotlyJSONEncoder, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return RenderedFile(format="json", path=path, content_type=CONTENT_TYPES["json"])
