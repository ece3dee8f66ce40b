"""Attribution: Brinson-Fachler effects linked over the report period with Carino,
and the factor regression.

The stored monthly effects (hand-made, each month's effects adding up to its active
return): January Rp 1 %, Rb 0.5 %; February Rp 2 %, Rb 1 % (allocation 0.4 %,
selection 0.5 %, interaction 0.1 %); March Rp −1 %, Rb 0.5 % (−0.6 %, −0.8 %, −0.1 %).
"""

import datetime as dt
import math

import pytest

from reports.blocks.attribution import BLOCK
from tests.reports.blocks.conftest import (
    FEBRUARY_TO_MARCH,
    SINCE_INCEPTION,
    context_for,
    table,
)


def _month(period, rp, rb, allocation, selection, interaction):
    return {
        "period": period,
        "portfolio_return": rp,
        "benchmark_return": rb,
        "active_return": rp - rb,
        "allocation": allocation,
        "selection": selection,
        "interaction": interaction,
    }


MONTHLY = [
    _month("2024-01-31", 0.01, 0.005, 0.002, 0.002, 0.001),
    _month("2024-02-29", 0.02, 0.01, 0.004, 0.005, 0.001),
    _month("2024-03-28", -0.01, 0.005, -0.006, -0.008, -0.001),
]
SINCE_INCEPTION_WINDOW = {
    "start": "2024-01-31",
    "end": "2024-03-28",
    "months": 3,
    "portfolio_return": 1.01 * 1.02 * 0.99 - 1,
    "benchmark_return": 1.005 * 1.01 * 1.005 - 1,
    "active_return": 1.01 * 1.02 * 0.99 - 1.005 * 1.01 * 1.005,
    "portfolio_time_weighted_return": 0.0194,
    "trading_effect": 0.0194 - (1.01 * 1.02 * 0.99 - 1),
    "groups": [
        {
            "sector": "Energy",
            "allocation": 0.001,
            "selection": -0.002,
            "interaction": 0.0,
            "total": -0.001,
        },
        {
            "sector": "",
            "allocation": -0.0006,
            "selection": 0.0,
            "interaction": 0.0,
            "total": -0.0006,
        },
    ],
    "totals": {"allocation": 0.0004, "selection": -0.002, "interaction": 0.0, "total": -0.0016},
    "monthly": MONTHLY,
}
FACTORS = {
    "available": True,
    "frequency": "monthly",
    "start": "2021-01",
    "end": "2023-12",
    "observations": 36,
    "covariance": "OLS",
    "coefficients": {"alpha": 0.001, "Mkt-RF": 1.1, "SMB": 0.2, "HML": -0.1},
    "standard_errors": {"alpha": 0.0005, "Mkt-RF": 0.05, "SMB": 0.1, "HML": 0.1},
    "t_stats": {"alpha": 2.0, "Mkt-RF": 22.0, "SMB": 2.0, "HML": -1.0},
    "total_contributions": {"alpha": 0.036, "Mkt-RF": 0.3, "SMB": 0.01, "HML": -0.02},
    "r_squared": 0.9,
    "adjusted_r_squared": 0.89,
    "residual_volatility": 0.01,
}


@pytest.fixture
def attributed(trio_view):
    trio_view.snapshot.result["attribution"] = {
        "available": True,
        "benchmark": "BMK",
        "method": "Brinson-Fachler per month, linked with Carino",
        "groupings": {"sector": {"SI": SINCE_INCEPTION_WINDOW}},
    }
    trio_view.snapshot.result["factors"] = FACTORS
    return trio_view


def _carino(rp, rb):
    return (math.log(1 + rp) - math.log(1 + rb)) / (rp - rb)


def test_the_whole_history_is_the_stored_window_with_its_groups(alice, trio, attributed):
    [section] = BLOCK.build(context_for(alice, trio, attributed, SINCE_INCEPTION))

    summary = {row["item"]: row["value"] for row in table(section, "brinson_summary")}
    assert summary["Active return"] == pytest.approx(1.01 * 1.02 * 0.99 - 1.005 * 1.01 * 1.005)
    assert summary["Allocation"] == pytest.approx(0.0004)
    groups = {row["group"]: row["total"] for row in table(section, "brinson_groups")}
    assert groups == pytest.approx({"Energy": -0.001, "(none)": -0.0006})
    assert [row["month"] for row in table(section, "brinson_monthly")] == [
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 28),
    ]
    assert section.figures[0].name == "brinson_effects"


def test_the_months_of_the_period_are_linked_with_carino(alice, trio, attributed):
    [section] = BLOCK.build(context_for(alice, trio, attributed, FEBRUARY_TO_MARCH))

    summary = {row["item"]: row["value"] for row in table(section, "brinson_summary")}
    rp, rb = 1.02 * 0.99 - 1, 1.01 * 1.005 - 1
    assert summary["Portfolio return (holdings-based)"] == pytest.approx(rp)
    assert summary["Active return"] == pytest.approx(rp - rb)
    k_total = _carino(rp, rb)
    allocation = (0.004 * _carino(0.02, 0.01) + -0.006 * _carino(-0.01, 0.005)) / k_total
    assert summary["Allocation"] == pytest.approx(allocation)
    effects = sum(summary[name] for name in ("Allocation", "Selection", "Interaction"))
    assert effects == pytest.approx(rp - rb)  # the linked effects add up
    # The TRIO book's time-weighted return over February and March: −2 %, then +3 %.
    assert summary["Portfolio return (time-weighted)"] == pytest.approx(0.98 * 1.03 - 1)
    assert "brinson_groups" not in {t.name for t in section.tables}
    assert len(table(section, "brinson_monthly")) == 2


def test_factor_regression_table(alice, trio, attributed):
    [section] = BLOCK.build(context_for(alice, trio, attributed, SINCE_INCEPTION))

    rows = table(section, "factor_attribution")
    assert [row["factor"] for row in rows] == [
        "Alpha (monthly)",
        "Market (Mkt−RF)",
        "Value (HML)",
        "Size (SMB)",
    ]
    assert rows[1]["coefficient"] == 1.1
    assert any("36 months" in note and "R² 0.900" in note for note in section.notes)


def test_without_benchmark_weights_or_factors_the_reason_is_given(alice, trio, trio_view):
    [section] = BLOCK.build(context_for(alice, trio, trio_view, SINCE_INCEPTION))

    assert section.unavailable == (
        "Benchmark BMK has no constituent weights; holdings-based attribution needs them."
    )
    assert section.tables == []
