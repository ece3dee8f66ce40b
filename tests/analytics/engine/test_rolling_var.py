"""Rolling historical VaR: each value is the VaR of its own trailing window."""

import numpy as np
import pytest

from analytics.engine.var import rolling_historical_var


def test_each_value_is_minus_the_linear_percentile_of_its_window():
    returns = np.array([0.01, -0.02, 0.03, -0.04, 0.005, -0.01])
    result = rolling_historical_var(returns, window=4, confidence=0.75)
    assert np.isnan(result[:3]).all()
    # Window [0.01, -0.02, 0.03, -0.04] sorted: -0.04, -0.02, 0.01, 0.03; the 25th percentile
    # by the linear rule sits at rank 0.75: -0.04 + 0.75 × 0.02 = -0.025.
    assert result[3] == pytest.approx(0.025)
    for end in range(3, 6):
        expected = -np.percentile(returns[end - 3 : end + 1], 25)
        assert result[end] == pytest.approx(expected)


def test_too_short_a_history_gives_no_forecast():
    assert np.isnan(rolling_historical_var([0.01, 0.02], window=5)).all()
    with pytest.raises(ValueError, match="window"):
        rolling_historical_var([0.01, 0.02], window=1)
