"""Cumulative return of the TRIO book against its benchmark."""

import datetime as dt

import pytest

from analytics.models import Benchmark, BenchmarkReturn
from reports.blocks.cumulative_return import BLOCK
from tests.reports.blocks.conftest import (
    DEC,
    FEB,
    FEBRUARY_TO_MARCH,
    JAN,
    MAR,
    SINCE_INCEPTION,
    context_for,
    table,
)


def test_cumulative_series_links_the_daily_returns(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    rows = table(section, "cumulative_return")
    assert [row["date"] for row in rows] == [JAN, FEB, MAR]
    assert all(isinstance(row["date"], dt.date) for row in rows)
    assert [row["portfolio"] for row in rows] == pytest.approx(
        [0.01, 1.01 * 0.98 - 1, 1.01 * 0.98 * 1.03 - 1]
    )
    assert [row["benchmark"] for row in rows] == pytest.approx(
        [0.005, 1.005 * 0.99 - 1, 1.005 * 0.99 * 1.02 - 1]
    )
    chart = section.tables[0].chart
    assert (chart.kind, chart.x, chart.series) == ("line", "date", ("portfolio", "benchmark"))
    assert not section.tables[0].printed  # the chart shows it on paper
    assert [trace["name"] for trace in section.figures[0].figure["data"]] == [
        "Portfolio",
        "Benchmark (BMK)",
    ]


def test_a_period_slice_starts_at_zero_on_its_first_day(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, FEBRUARY_TO_MARCH))

    rows = table(section, "cumulative_return")
    assert [row["date"] for row in rows] == [FEB, MAR]
    assert [row["portfolio"] for row in rows] == pytest.approx([-0.02, 0.98 * 1.03 - 1])
    assert [row["benchmark"] for row in rows] == pytest.approx([-0.01, 0.99 * 1.02 - 1])
    assert section.kpis[0].value == pytest.approx(0.98 * 1.03 - 1)


def test_a_benchmark_override_is_linked_over_the_same_valuation_intervals(alice, trio, trio_view):
    other = Benchmark.objects.create(code="ALT", name="Another benchmark", currency="USD")
    # Daily returns: January's month is two days of +0.5 %, February is flat, March +1 %.
    for day, value in (
        (DEC, 0.0),
        (dt.date(2024, 1, 30), 0.005),
        (JAN, 0.005),
        (FEB, 0.0),
        (MAR, 0.01),
    ):
        BenchmarkReturn.objects.create(benchmark=other, date=day, value=value)

    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION, benchmark="ALT"))

    rows = table(section, "cumulative_return")
    assert [row["benchmark"] for row in rows] == pytest.approx(
        [1.005**2 - 1, 1.005**2 - 1, 1.005**2 * 1.01 - 1]
    )
    labels = {column.key: column.label for column in section.tables[0].columns}
    assert labels["benchmark"] == "Benchmark (ALT)"


def test_no_snapshot_gives_a_reason(alice, trio, empty_view):
    [section] = BLOCK.build(context_for(alice, trio, empty_view, SINCE_INCEPTION))

    assert section.unavailable and section.tables == []
