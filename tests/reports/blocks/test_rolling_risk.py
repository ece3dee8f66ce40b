"""Rolling risk: the stored rolling ratios on the report period's dates."""

import datetime as dt

import pytest

from reports.blocks.rolling_risk import BLOCK
from tests.reports.blocks.conftest import (
    FEB,
    FEBRUARY_TO_MARCH,
    MAR,
    SINCE_INCEPTION,
    context_for,
    table,
)

STORED = {
    "dates": ["2024-01-31", "2024-02-29", "2024-03-28"],
    "windows": {
        "63": {
            "volatility": [0.10, 0.12, 0.11],
            "sharpe": [1.5, 0.9, 1.1],
            "beta": [1.0, 1.1, 1.2],
        },
        "252": {
            "volatility": [None, None, 0.14],
            "sharpe": [None, None, 0.8],
            "beta": [None, None, 0.95],
        },
    },
}


def test_three_months_are_too_short_for_a_63_day_window(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    assert "63 daily returns" in section.unavailable
    assert section.tables == []


def test_the_period_keeps_its_own_dates_of_the_stored_ratios(alice, trio, trio_view):
    trio_view.snapshot.result["rolling"] = STORED
    [section] = BLOCK.build(context_for(alice, trio, trio_view, FEBRUARY_TO_MARCH))

    rows = table(section, "rolling_risk")
    assert [row["date"] for row in rows] == [FEB, MAR]
    assert [row["volatility_63"] for row in rows] == pytest.approx([0.12, 0.11])
    assert [row["beta_252"] for row in rows] == [None, 0.95]  # not enough history yet: empty
    formats = {column.key: column.format for column in section.tables[0].columns}
    assert (formats["volatility_63"], formats["sharpe_63"]) == ("percent", "ratio")
    chart = section.tables[0].chart
    assert chart.series == ("volatility_63", "volatility_252")
    assert section.figures[0].figure["data"][0]["x"] == ["2024-02-29", "2024-03-28"]


def test_a_period_with_no_stored_date_says_so(alice, trio, trio_view):
    trio_view.snapshot.result["rolling"] = STORED
    period = FEBRUARY_TO_MARCH.__class__(
        "custom", "Custom", dt.date(2024, 4, 1), dt.date(2024, 4, 30)
    )
    [section] = BLOCK.build(context_for(alice, trio, trio_view, period))

    assert section.unavailable
