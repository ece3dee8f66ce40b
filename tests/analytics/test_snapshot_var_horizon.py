"""The snapshot's 10-day VaR scales the loss beyond the mean by √10 and the mean by 10."""

import pandas as pd
import pytest

from analytics.services.snapshots.risk import var_section


def test_the_ten_day_normal_var_subtracts_ten_days_of_drift():
    # Twenty daily returns alternating +1.1 % and −0.9 %: μ = 0.1 %, and the ddof = 1
    # deviation is 1 % × √(20/19) = 1.025978 %. At 95 % (z = −1.6448536) the 1-day normal
    # VaR is 1.6448536 × 0.01025978 − 0.001 = 0.0158758, and the 10-day one is
    # 1.6448536 × 0.01025978 × √10 − 10 × 0.001 = 0.0533661 − 0.01 = 0.0433661.
    returns = pd.Series(
        [0.011, -0.009] * 10, index=pd.bdate_range("2024-01-01", periods=20), dtype=float
    )

    rows = {
        (row["method"], row["confidence"], row["horizon"]): row
        for row in var_section(returns)["rows"]
    }

    assert rows[("normal", 0.95, 1)]["var"] == pytest.approx(0.0158758, abs=1e-7)
    assert rows[("normal", 0.95, 10)]["var"] == pytest.approx(0.0433661, abs=1e-7)
    assert rows[("normal", 0.95, 10)]["scaling"] == "square root of time, drift by time"
