"""Drawdowns of the TRIO book: wealth 1.01, 0.9898, 1.019494 — one drawdown of 2 %
from the end of January, recovered at the end of March."""

import pytest

from reports.blocks.drawdowns import BLOCK
from tests.reports.blocks.conftest import (
    FEB,
    FEBRUARY_TO_MARCH,
    JAN,
    MAR,
    SINCE_INCEPTION,
    context_for,
    table,
)


def test_worst_drawdown_follows_the_worked_example(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    [episode] = table(section, "worst_drawdowns")
    assert (episode["peak"], episode["trough"], episode["recovery"]) == (JAN, FEB, MAR)
    assert episode["depth"] == pytest.approx(-0.02)
    assert episode["length"] == 2  # valuation days, peak to recovery
    assert episode["calendar_days"] == 29 + 28  # 31 Jan → 29 Feb → 28 Mar 2024
    assert episode["time_to_recover"] == 1
    underwater = table(section, "underwater")
    assert [row["drawdown"] for row in underwater] == pytest.approx([0.0, -0.02, 0.0])
    kpis = {kpi.label: kpi.value for kpi in section.kpis}
    assert kpis["Maximum drawdown"] == pytest.approx(-0.02)
    assert kpis["Current drawdown"] == pytest.approx(0.0)


def test_a_period_drawdown_is_measured_from_the_start_of_the_period(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, FEBRUARY_TO_MARCH))

    [episode] = table(section, "worst_drawdowns")
    # The period opens on the January valuation, its peak; February falls 2 % from it.
    assert (episode["peak"], episode["trough"], episode["recovery"]) == (JAN, FEB, MAR)
    assert episode["depth"] == pytest.approx(-0.02)
    assert [row["date"] for row in table(section, "underwater")] == [FEB, MAR]


def test_unavailable_drawdowns_give_their_reason(alice, trio, trio_view):
    trio_view.snapshot.result["drawdowns"] = {"available": False, "reason": "Too few returns."}
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    assert section.unavailable == "Too few returns."
