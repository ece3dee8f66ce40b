"""Sortable tables: the sort lives in the URL, missing values sort last both ways."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.http import QueryDict

from portal.sorting import Sort, SortColumn, SortError, rows_sorted, sort_headers, sort_parse


@dataclass
class Row:
    name: str
    value: float | None


COLUMNS = (SortColumn("name", "Name"), SortColumn("value", "Value", numeric=True))
ROWS = [Row("beta", 2.0), Row("Alpha", None), Row("gamma", -1.0), Row("delta", 5.0)]


def test_a_sort_reads_its_direction_from_a_leading_minus():
    assert sort_parse(QueryDict("sort=-value"), COLUMNS, default="name") == Sort("value", True)
    assert sort_parse(QueryDict(""), COLUMNS, default="name") == Sort("name", False)


def test_an_unknown_sort_names_the_valid_keys():
    with pytest.raises(SortError, match="name, value"):
        sort_parse(QueryDict("sort=secret"), COLUMNS, default="name")


def test_missing_values_come_last_in_either_direction():
    up = rows_sorted(ROWS, COLUMNS, Sort("value", False))
    down = rows_sorted(ROWS, COLUMNS, Sort("value", True))
    assert [r.name for r in up] == ["gamma", "beta", "delta", "Alpha"]
    assert [r.name for r in down] == ["delta", "beta", "gamma", "Alpha"]


def test_text_sorts_without_regard_to_case():
    assert [r.name for r in rows_sorted(ROWS, COLUMNS, Sort("name", False))] == [
        "Alpha",
        "beta",
        "delta",
        "gamma",
    ]


def test_headers_keep_other_parameters_toggle_the_active_column_and_reset_the_page():
    query = QueryDict("currency=EUR&sort=name&page=3")
    name, value = sort_headers(query, COLUMNS, Sort("name", False))
    assert name.aria_sort == "ascending" and "sort=-name" in name.href
    assert value.aria_sort == "none" and "sort=-value" in value.href  # numbers: largest first
    assert "currency=EUR" in value.href and "page=" not in value.href


def test_dates_sort_as_dates():
    column = (SortColumn("on", "On", lambda r: r),)
    days = [dt.date(2024, 3, 1), dt.date(2023, 12, 31), dt.date(2024, 1, 15)]
    assert rows_sorted(days, column, Sort("on", False)) == sorted(days)
