"""The base of every django-import-export resource: what the admin exports goes
through ``portal.exports.cell_neutralise``, the one formula-neutralising function
of every file that leaves the system.

Each exported text cell and each header is neutralised, whatever the format: in
CSV a neutralised cell is text with a leading apostrophe, and in XLSX it is a
text cell (openpyxl writes any string that starts with ``=`` as a live formula,
so the raw value must never reach it). Native values (numbers, dates, booleans,
which import-export keeps for binary formats such as XLSX) are data, not
formulas, and pass unchanged.
"""

from __future__ import annotations

from typing import Any

from import_export import resources
from import_export.fields import Field

from portal.exports import cell_neutralise


class NeutralisedExportResource(resources.ModelResource):
    """A ``ModelResource`` whose export neutralises every text cell and header."""

    def export_field(self, field: Field, instance: Any, **kwargs: Any) -> Any:
        value = super().export_field(field, instance, **kwargs)
        return cell_neutralise(value) if isinstance(value, str) else value

    def get_export_headers(self, selected_fields: Any = None) -> list[str]:
        return [cell_neutralise(header) for header in super().get_export_headers(selected_fields)]
