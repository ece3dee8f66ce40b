"""Value formatting: worked examples typed in by hand."""

import datetime as dt

import pytest

from reports.document import Column
from reports.renderers.formats import (
    column_label,
    csv_value,
    excel_number_format,
    value_text,
)


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [
        (0.2999, "29.99%"),  # never "30.0%"
        (0.29999, "30.00%"),
        (0.3, "30.00%"),
        (0.0123, "1.23%"),
        (-0.0022, "-0.22%"),
        (0.00001, "0.001%"),  # a non-zero value never reads 0.00%
        (1.2999, "130.0%"),  # one decimal from 100 %
        (1.2345, "123.5%"),  # half up on 123.45, though the float is 123.4499…
        (12.345, "1,235%"),  # none from 1,000 %, half up on 1,234.5
        (0.1 + 0.2, "30.00%"),
    ],
)
def test_percentages_keep_the_digits_that_matter(fraction, shown):
    assert value_text(fraction, "percent") == shown


def test_a_columns_decimals_are_used_as_given():
    assert value_text(0.2512, "percent", decimals=1) == "25.1%"
    assert value_text(0.2512, "percent", decimals=0) == "25%"


def test_other_formats():
    assert value_text(1234567.4, "currency", currency="USD") == "USD 1,234,567"
    assert value_text(-12.5, "number") == "-12.50"
    assert value_text(12.34, "bps") == "12.3 bp"
    assert value_text(1.0, "ratio") == "1.00"
    assert value_text(1234, "integer") == "1,234"
    assert value_text(dt.date(2024, 3, 31), "date") == "2024-03-31"
    assert value_text(None, "percent") == "–"
    assert value_text(float("nan"), "number") == "–"
    assert value_text(-0.00001, "number") == "0.00"  # not a loss of "-0.00"


def test_currency_goes_in_the_column_header():
    column = Column("mv", "Market value", "currency", currency="EUR")
    assert column_label(column) == "Market value (EUR)"


def test_excel_formats_match_the_screen():
    assert excel_number_format(Column("r", "R", "percent")) == "0.00%"
    assert excel_number_format(Column("r", "R", "percent", decimals=1)) == "0.0%"
    assert excel_number_format(Column("q", "Q", "integer")) == "#,##0"
    assert excel_number_format(Column("v", "V", "currency")) == "#,##0"
    assert excel_number_format(Column("s", "S", "ratio")) == "0.00"
    assert excel_number_format(Column("d", "D", "date")) == "yyyy-mm-dd"
    assert excel_number_format(Column("t", "T", "text")) is None


def test_csv_values_are_raw():
    assert csv_value(0.0123) == "0.0123"
    assert csv_value(dt.date(2024, 3, 31)) == "2024-03-31"
    assert csv_value(None) == ""
    assert csv_value(float("inf")) == ""
