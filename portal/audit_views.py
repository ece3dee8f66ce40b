"""The audit page, under /audit/: the audit log for administrators and compliance
officers (``portal.audit_selectors``; anyone else gets 403), filtered by user,
action, object, portfolio and date, sortable and paged on the server, and the
filtered events exported as CSV or XLSX.

An export holds exactly the events the filters select (every page, in the page's
order) and is itself audited: one ``audit.exported`` event per file, whose
details carry the filters, the row count and the file's format, size and SHA-256
(``portal.exports.download_response_audited``, which also sends the checksum
headers). Text cells go through ``cell_neutralise``; in XLSX the time is a real
date-time cell, in the portal's ``TIME_ZONE`` (named in the header), and in CSV
an ISO 8601 time with its UTC offset.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

import xlsxwriter
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.audit_selectors import (
    AUDIT_READERS_ONLY,
    audit_events_filtered,
    audit_readable_by,
    audit_target_types,
)
from portal.authenticated import AuthenticatedHttpRequest
from portal.exports import cell_neutralise, download_response_audited
from portal.models import AuditAction, AuditEvent
from portal.origins import RequestOrigin
from portal.sorting import Sort, SortColumn, SortError, queryset_sorted, sort_headers, sort_parse

EVENTS_PER_PAGE = 50

AUDIT_COLUMNS = (
    SortColumn("time", "Time", field="created_at", numeric=True),
    SortColumn("user", "Who", field="actor_username"),
    SortColumn("action", "Action"),
    SortColumn("object", "Object", field="target_type"),
    SortColumn("portfolio", "Portfolio", field="portfolio_id", numeric=True, css="wide-only"),
    SortColumn("ip", "IP address", field="ip_address", css="wide-only"),
)
AUDIT_DEFAULT_SORT = "-time"

EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def _portfolio_model():
    # The portal core refers to analytics' models by name only (the layers contract).
    return apps.get_model("analytics", "Portfolio")


class AuditFilterForm(forms.Form):
    """The page's filters; every field optional. Dates are inclusive, in the
    portal's time zone."""

    user = forms.CharField(required=False, label="User", help_text="Username")
    action = forms.ChoiceField(required=False, label="Action")
    target_type = forms.ChoiceField(required=False, label="Object type")
    target_id = forms.CharField(required=False, label="Object id", max_length=64)
    portfolio = forms.TypedChoiceField(
        required=False, label="Portfolio", coerce=int, empty_value=None
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", "Any action"),
            *AuditAction.choices,
        ]
        cast(forms.ChoiceField, self.fields["target_type"]).choices = [
            ("", "Any type"),
            *((label, label) for label in audit_target_types()),
        ]
        portfolios = _portfolio_model().objects.order_by("code").values_list("id", "code")
        cast(forms.ChoiceField, self.fields["portfolio"]).choices = [
            ("", "Any portfolio"),
            *portfolios,
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "“To” must not be before “From”.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The valid filters as ``audit_events_filtered`` keywords."""
        data = self.cleaned_data
        return {
            "user": data["user"].strip() or None,
            "action": data["action"] or None,
            "target_type": data["target_type"] or None,
            "target_id": data["target_id"].strip() or None,
            "portfolio_id": data["portfolio"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }


def details_summary(details: dict[str, Any]) -> str:
    """A one-line reading of an event's details: a file's format, size and the
    start of its SHA-256 first, then every other entry as ``key: value``."""
    parts = []
    if "format" in details:
        parts.append(str(details["format"]).upper())
    if isinstance(details.get("size"), int):
        parts.append(_size_text(details["size"]))
    if "sha256" in details:
        parts.append(f"SHA-256 {str(details['sha256'])[:12]}…")
    for key, value in details.items():
        if key in ("format", "size", "sha256"):
            continue
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        parts.append(f"{key}: {shown}")
    return " · ".join(parts)


def _size_text(size: int) -> str:
    """Bytes in binary units, as a person reads a file size (1 KiB = 1024 bytes)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _portfolio_codes(events: Iterable[AuditEvent]) -> dict[int, str]:
    ids = {event.portfolio_id for event in events if event.portfolio_id is not None}
    if not ids:
        return {}
    return dict(_portfolio_model().objects.filter(id__in=ids).values_list("id", "code"))


def _readable(request: AuthenticatedHttpRequest) -> None:
    if not audit_readable_by(request.user):
        raise PermissionDenied(AUDIT_READERS_ONLY)


@login_required
@require_GET
def audit_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The filtered log, newest first unless ``?sort=`` says otherwise, paged
    (``?page=``). Bad filters or an unknown sort get a 400 naming the field."""
    _readable(request)
    form = AuditFilterForm(request.GET)
    status = 200
    try:
        sort = sort_parse(request.GET, AUDIT_COLUMNS, default=AUDIT_DEFAULT_SORT)
    except SortError as error:
        form.is_valid()
        form.add_error(None, str(error))
        sort = Sort(key="time", descending=True)  # AUDIT_DEFAULT_SORT
    events: QuerySet[AuditEvent] = AuditEvent.objects.none()
    if form.is_valid():
        events = audit_events_filtered(viewer=request.user, **form.filters())
        if "sort" in request.GET:
            events = queryset_sorted(events, AUDIT_COLUMNS, sort)
    else:
        status = 400
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    codes = _portfolio_codes(page.object_list)
    rows = [
        {
            "event": event,
            "portfolio_code": codes.get(event.portfolio_id) if event.portfolio_id else None,
            "summary": details_summary(event.details),
        }
        for event in page.object_list
    ]
    export_query = request.GET.copy()
    export_query.pop("page", None)
    return render(
        request,
        "portal/audit.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "headers": sort_headers(request.GET, AUDIT_COLUMNS, sort),
            "sort_columns": AUDIT_COLUMNS,
            "sort": sort.param,
            "sort_asked": "sort" in request.GET,
            "export_query": export_query.urlencode(),
            "time_zone": settings.TIME_ZONE,
        },
        status=status,
    )


@login_required
@require_GET
def audit_export(request: AuthenticatedHttpRequest, file_format: str) -> HttpResponseBase:
    """Every event the filters select, as ``file_format`` (``csv`` or ``xlsx``),
    in the page's order; audited as ``audit.exported`` with the filters and rows."""
    _readable(request)
    if file_format not in EXPORT_FORMATS:
        return HttpResponse(f"Unknown export format “{file_format}”: use csv or xlsx.", status=400)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(
            f"{name}: {' '.join(str(text) for text in texts)}"
            for name, texts in form.errors.items()
        )
        return HttpResponse(f"Bad filters: {errors}", status=400, content_type="text/plain")
    try:
        sort = sort_parse(request.GET, AUDIT_COLUMNS, default=AUDIT_DEFAULT_SORT)
    except SortError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    filters = form.filters()
    events = audit_events_filtered(viewer=request.user, **filters)
    if "sort" in request.GET:
        events = queryset_sorted(events, AUDIT_COLUMNS, sort)
    listed = list(events)
    rows = _export_rows(listed)
    content = _csv_bytes(rows) if file_format == "csv" else _xlsx_bytes(rows)
    content_type, extension = EXPORT_FORMATS[file_format]
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return download_response_audited(
        content=content,
        file_name=f"audit-events-{stamp}.{extension}",
        content_type=content_type,
        file_format=file_format,
        actor=request.user,
        origin=RequestOrigin.of(request),
        action=AuditAction.AUDIT_EXPORTED,
        details={
            "filters": {key: _jsonable(value) for key, value in filters.items() if value},
            "rows": len(listed),
        },
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _export_header() -> list[str]:
    return [
        f"Time ({settings.TIME_ZONE})",
        "User",
        "Action",
        "Action label",
        "Object type",
        "Object id",
        "Object",
        "Portfolio id",
        "Portfolio",
        "IP address",
        "User agent",
        "Details",
    ]


def _export_rows(events: Sequence[AuditEvent]) -> list[list[Any]]:
    """One row per event: the time as an aware date-time in the portal's zone,
    the portfolio id as an int, everything else text (details as JSON)."""
    codes = _portfolio_codes(events)
    return [
        [
            timezone.localtime(event.created_at),
            event.actor_username,
            event.action,
            event.get_action_display(),
            event.target_type,
            event.target_id,
            event.target_repr,
            event.portfolio_id,
            codes.get(event.portfolio_id, "") if event.portfolio_id else "",
            event.ip_address or "",
            event.user_agent,
            json.dumps(event.details, sort_keys=True, default=str),
        ]
        for event in events
    ]


def _csv_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_export_header())
    for row in rows:
        writer.writerow(
            [
                cell.isoformat() if index == 0 else _text_or_number(cell)
                for index, cell in enumerate(row)
            ]
        )
    # A BOM so that spreadsheets read the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _text_or_number(cell: Any) -> Any:
    if cell is None:
        return ""
    return cell if isinstance(cell, int) else cell_neutralise(str(cell), text=True)


def _xlsx_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.BytesIO()
    # Never turn a string into a formula or a URL: text stays text.
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet("Audit events")
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, _export_header(), bold)
    for number, row in enumerate(rows, start=1):
        # Excel has no time zones: the local wall-clock time, named in the header.
        sheet.write_datetime(number, 0, row[0].replace(tzinfo=None), when)
        for column, cell in enumerate(row[1:], start=1):
            if isinstance(cell, int):
                sheet.write_number(number, column, cell)
            elif cell is None:
                sheet.write_blank(number, column, None)
            else:
                sheet.write_string(number, column, cell_neutralise(str(cell), text=True))
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 10, 18)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
