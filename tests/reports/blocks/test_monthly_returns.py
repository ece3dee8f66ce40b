"""Monthly returns of the TRIO book: January +1 %, February −2 %, March +3 %."""

import pytest

from reports.blocks.monthly_returns import BLOCK
from tests.reports.blocks.conftest import FEBRUARY_TO_MARCH, SINCE_INCEPTION, context_for, table


def test_calendar_table_of_portfolio_and_benchmark(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    [year] = table(section, "portfolio_monthly")
    assert year["year"] == "2024"  # a label, never "2,024"
    assert [year["jan"], year["feb"], year["mar"]] == pytest.approx([0.01, -0.02, 0.03])
    assert year["apr"] is None  # not measured, not a zero
    assert year["year_return"] == pytest.approx(1.01 * 0.98 * 1.03 - 1)
    [bench] = table(section, "benchmark_monthly")
    assert [bench["jan"], bench["feb"], bench["mar"]] == pytest.approx([0.005, -0.01, 0.02])
    assert bench["year_return"] == pytest.approx(1.005 * 0.99 * 1.02 - 1)
    [figure] = section.figures
    assert figure.figure["data"][0]["type"] == "heatmap"


def test_a_period_slice_leaves_out_the_months_before_it(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, FEBRUARY_TO_MARCH))

    [year] = table(section, "portfolio_monthly")
    assert year["jan"] is None
    assert [year["feb"], year["mar"]] == pytest.approx([-0.02, 0.03])
    assert year["year_return"] == pytest.approx(0.98 * 1.03 - 1)


def test_unavailable_calendar_gives_its_reason(alice, trio, trio_view):
    trio_view.snapshot.result["calendar"] = {
        "available": False,
        "reason": "Fewer than two measured daily returns.",
    }
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    assert section.unavailable == "Fewer than two measured daily returns."
    assert section.tables == [] and section.figures == []
