"""Tables that sort by any column, with the sort in the URL.

A page declares its sortable columns once (:class:`SortColumn`: the URL key, the
header label, and how to read the value from a row); ``sort_parse`` reads
``?sort=<key>`` or ``?sort=-<key>`` (descending) and refuses an unknown key with
:class:`SortError` (the page answers 400 naming the valid keys), so a link always
reproduces the view. ``rows_sorted`` sorts in Python with missing values last in
either direction (for tables already in memory); ``queryset_sorted`` hands the
order to the database (for tables paged on the server). ``sort_headers`` gives
each header its link (the current query string with the new sort, page reset)
and its ``aria-sort`` state for ``templates/_sortable_th.html``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet
from django.http import QueryDict


class SortError(ValueError):
    """An unknown sort key in the URL."""


@dataclass(frozen=True)
class SortColumn:
    """A sortable column: ``key`` in the URL, ``label`` in the header, ``value``
    reads a row's value (rows in memory) and ``field`` names the model field
    (querysets; defaults to ``key``). ``numeric`` columns sort descending first."""

    key: str
    label: str
    value: Callable[[Any], Any] | None = None
    field: str | None = None
    numeric: bool = False
    css: str = ""


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool

    @property
    def param(self) -> str:
        return f"-{self.key}" if self.descending else self.key


def sort_parse(
    query: QueryDict, columns: Sequence[SortColumn], *, default: str, param: str = "sort"
) -> Sort:
    """The sort asked for in ``query`` (``default`` when absent, same syntax)."""
    raw = query.get(param) or default
    key = raw.removeprefix("-")
    if key not in {column.key for column in columns}:
        valid = ", ".join(column.key for column in columns)
        raise SortError(f"Unknown sort “{raw}”: sort by one of {valid} (prefix “-” to reverse).")
    return Sort(key=key, descending=raw.startswith("-"))


def rows_sorted(rows: Iterable[Any], columns: Sequence[SortColumn], sort: Sort) -> list[Any]:
    """``rows`` ordered by the sort's column; missing values (None) last both ways."""
    column = next(c for c in columns if c.key == sort.key)
    read = column.value or (lambda row: getattr(row, column.key))
    present: list[Any] = []
    missing: list[Any] = []
    for row in rows:
        (missing if read(row) is None else present).append(row)
    present.sort(key=lambda row: _comparable(read(row)), reverse=sort.descending)
    return present + missing


def _comparable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def queryset_sorted(queryset: QuerySet, columns: Sequence[SortColumn], sort: Sort) -> QuerySet:
    """``queryset`` ordered in the database by the sort's column (nulls last), then
    by primary key so pages never overlap."""
    column = next(c for c in columns if c.key == sort.key)
    expression = F(column.field or column.key)
    ordered = (
        expression.desc(nulls_last=True) if sort.descending else expression.asc(nulls_last=True)
    )
    return queryset.order_by(ordered, "pk")


@dataclass(frozen=True)
class SortHeader:
    key: str
    label: str
    href: str
    aria_sort: str  # "ascending", "descending" or "none"
    css: str


def sort_headers(
    query: QueryDict, columns: Sequence[SortColumn], sort: Sort, *, param: str = "sort"
) -> list[SortHeader]:
    """Each column's header link: the active column toggles its direction; any
    other sorts descending first when numeric, ascending otherwise. The rest of
    the query string is kept, except the page (a new order starts on page 1)."""
    headers = []
    for column in columns:
        if column.key == sort.key:
            target = Sort(column.key, not sort.descending)
            state = "descending" if sort.descending else "ascending"
        else:
            target = Sort(column.key, column.numeric)
            state = "none"
        params = query.copy()
        params[param] = target.param
        params.pop("page", None)
        headers.append(
            SortHeader(column.key, column.label, f"?{params.urlencode()}", state, column.css)
        )
    return headers
