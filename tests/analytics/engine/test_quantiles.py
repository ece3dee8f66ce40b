"""The tail extraction behind historical VaR, CVaR and the tail ratio is exact for any shape.

Its candidate threshold comes from a normal approximation; these distributions defeat that
approximation (skew, point masses, outliers, tiny samples) and must still give numpy's answer.
"""

import numpy as np
import pytest

from analytics.engine import _quantiles
from analytics.engine.var import historical_cvar, historical_var


def awkward_columns(n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    mostly_flat = np.full(n, 0.001)
    mostly_flat[::97] = -0.3  # a point mass with rare crashes
    return np.column_stack(
        [
            rng.normal(0, 0.01, n),
            rng.lognormal(0, 1.5, n) - 1,  # strongly right-skewed
            -(rng.lognormal(0, 1.5, n) - 1),  # strongly left-skewed
            mostly_flat,
            np.where(rng.random(n) < 0.5, -0.02, 0.03) + rng.normal(0, 1e-4, n),  # bimodal
            np.full(n, 0.002),  # constant
            rng.standard_t(1.5, n) * 0.01,  # very fat tails
        ]
    )


@pytest.mark.parametrize("n", [5, 40, 2520])
def test_tails_hold_the_exact_order_statistics(n):
    matrix = awkward_columns(n)
    ranks = list(range(min(n, 6))) + list(range(max(n - 6, 0), n))
    extremes = _quantiles.tails(matrix, ranks, matrix.mean(axis=0), matrix.std(axis=0, ddof=1))
    ordered = np.sort(matrix, axis=0)
    for rank in ranks:
        np.testing.assert_array_equal(extremes.order_statistic(rank), ordered[rank])


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_historical_estimates_match_numpy_on_awkward_distributions(confidence):
    matrix = awkward_columns(2520)
    tail = round(1 - confidence, 12)
    expected_var = -np.percentile(matrix, 100 * tail, axis=0)
    worst = int((2520 - 1) * tail) + 1
    expected_cvar = -np.sort(matrix, axis=0)[:worst].mean(axis=0)
    np.testing.assert_allclose(historical_var(matrix, confidence), expected_var, atol=1e-15)
    np.testing.assert_allclose(historical_cvar(matrix, confidence), expected_cvar, atol=1e-15)


def test_ranks_outside_the_extracted_tails_are_refused():
    matrix = awkward_columns(100)
    extremes = _quantiles.tails(matrix, [2], matrix.mean(axis=0), matrix.std(axis=0))
    with pytest.raises(ValueError, match="outside the tails"):
        extremes.order_statistic(50)
