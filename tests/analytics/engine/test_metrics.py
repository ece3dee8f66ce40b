"""The metric table: equal to empyrical-reloaded on real index data, and its input rules.

The data are the real daily S&P 500 and NASDAQ closes of 1999–2018 shipped with ``arch``;
NASDAQ and three derived columns are the "portfolios", the S&P 500 the benchmark.
"""

import math
import re
import warnings

import empyrical
import numpy as np
import pandas as pd
import pytest
from arch.data import nasdaq, sp500

from analytics.engine import drawdown, ratios, relative, var
from analytics.engine import metrics as metrics_module
from analytics.engine.metrics import METRICS, ReturnsDataError, metric_table
from analytics.engine.returns import compound_annual_growth_rate, cumulative_return

RISK_FREE = 0.02
PERIODS = 252
DAILY_RF = (1 + RISK_FREE) ** (1 / PERIODS) - 1
TOLERANCE = 1e-9
LATE_START = pd.Timestamp("2005-01-03")


@pytest.fixture(scope="module")
def index_returns():
    closes = pd.concat(
        {"nasdaq": nasdaq.load()["Adj Close"], "sp500": sp500.load()["Adj Close"]}, axis=1
    )
    returns = closes.pct_change().iloc[1:]
    assert not returns.isna().any().any()
    return returns


@pytest.fixture(scope="module")
def portfolios(index_returns):
    nq, sp = index_returns["nasdaq"], index_returns["sp500"]
    late = nq.where(nq.index >= LATE_START)  # incepted in 2005: blank before
    return pd.DataFrame(
        {
            "nasdaq": nq,
            "balanced": 0.5 * nq + 0.5 * sp,
            "levered_sp500": 1.5 * sp - 0.0001,
            "nasdaq_since_2005": late,
        }
    )


@pytest.fixture(scope="module")
def table(portfolios, index_returns):
    return metric_table(
        portfolios, index_returns["sp500"], risk_free=RISK_FREE, periods_per_year=PERIODS
    )


def _empyrical_reference(returns: pd.Series, benchmark: pd.Series) -> dict[str, float]:
    """Every shared metric from empyrical-reloaded (and pandas for skew and kurtosis)."""
    r, b = returns.to_numpy(), benchmark.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "cumulative_return": empyrical.cum_returns_final(r),
            "cagr": empyrical.annual_return(r, annualization=PERIODS),
            "annual_volatility": empyrical.annual_volatility(r, annualization=PERIODS),
            "sharpe": empyrical.sharpe_ratio(r, risk_free=DAILY_RF, annualization=PERIODS),
            "sortino": empyrical.sortino_ratio(r, required_return=DAILY_RF, annualization=PERIODS),
            "downside_deviation": empyrical.downside_risk(
                r, required_return=DAILY_RF, annualization=PERIODS
            ),
            "calmar": empyrical.calmar_ratio(r, annualization=PERIODS),
            "omega": empyrical.omega_ratio(r, risk_free=DAILY_RF),
            "max_drawdown": empyrical.max_drawdown(r),
            "skew": returns.skew(),
            "kurtosis": returns.kurt(),
            "tail_ratio": empyrical.tail_ratio(r),
            "var_historical": -empyrical.value_at_risk(r, cutoff=0.05),
            "cvar_historical": -empyrical.conditional_value_at_risk(r, cutoff=0.05),
            "beta": empyrical.beta(r, b, risk_free=DAILY_RF),
            "alpha": empyrical.alpha(r, b, risk_free=DAILY_RF, annualization=PERIODS),
            "information_ratio": empyrical.excess_sharpe(r, b) * math.sqrt(PERIODS),
            "up_capture": empyrical.up_capture(r, b),
            "down_capture": empyrical.down_capture(r, b),
        }


SHARED = list(_empyrical_reference(pd.Series([0.01, -0.01, 0.02, 0.0]), pd.Series([0.0] * 4)))


@pytest.mark.parametrize("column", ["nasdaq", "balanced", "levered_sp500", "nasdaq_since_2005"])
def test_metric_table_equals_empyrical_on_real_index_returns(
    table, portfolios, index_returns, column
):
    returns = portfolios[column].dropna()
    reference = _empyrical_reference(returns, index_returns["sp500"].loc[returns.index])
    differences = {name: abs(table.loc[column, name] - value) for name, value in reference.items()}
    assert max(differences.values()) <= TOLERANCE, differences
    assert table.loc[column, "n_obs"] == len(returns)


def test_the_real_data_exercises_every_shared_metric(table):
    assert set(SHARED) <= set(METRICS)
    assert table[SHARED].notna().all().all()


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda r, b: cumulative_return(r), lambda r, b: empyrical.cum_returns_final(r)),
        (lambda r, b: compound_annual_growth_rate(r), lambda r, b: empyrical.annual_return(r)),
        (lambda r, b: ratios.annual_volatility(r), lambda r, b: empyrical.annual_volatility(r)),
        (
            lambda r, b: ratios.sharpe_ratio(r, RISK_FREE),
            lambda r, b: empyrical.sharpe_ratio(r, risk_free=DAILY_RF),
        ),
        (
            lambda r, b: ratios.sortino_ratio(r, RISK_FREE),
            lambda r, b: empyrical.sortino_ratio(r, required_return=DAILY_RF),
        ),
        (
            lambda r, b: ratios.downside_deviation(r, RISK_FREE),
            lambda r, b: empyrical.downside_risk(r, required_return=DAILY_RF),
        ),
        (lambda r, b: ratios.calmar_ratio(r), lambda r, b: empyrical.calmar_ratio(r)),
        (
            lambda r, b: ratios.omega_ratio(r, RISK_FREE),
            lambda r, b: empyrical.omega_ratio(r, risk_free=DAILY_RF),
        ),
        (lambda r, b: drawdown.max_drawdown(r), lambda r, b: empyrical.max_drawdown(r)),
        (lambda r, b: ratios.tail_ratio(r), lambda r, b: empyrical.tail_ratio(r)),
        (
            lambda r, b: var.historical_var(r, 0.99),
            lambda r, b: -empyrical.value_at_risk(r, cutoff=0.01),
        ),
        (
            lambda r, b: var.historical_cvar(r, 0.99),
            lambda r, b: -empyrical.conditional_value_at_risk(r, cutoff=0.01),
        ),
        (relative.beta, empyrical.beta),
        (
            lambda r, b: relative.alpha(r, b, RISK_FREE),
            lambda r, b: empyrical.alpha(r, b, risk_free=DAILY_RF),
        ),
        (
            relative.information_ratio,
            lambda r, b: empyrical.excess_sharpe(r, b) * math.sqrt(PERIODS),
        ),
        (relative.up_capture, empyrical.up_capture),
        (relative.down_capture, empyrical.down_capture),
    ],
)
def test_single_metric_functions_equal_empyrical(index_returns, ours, theirs):
    r, b = index_returns["nasdaq"].to_numpy(), index_returns["sp500"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert abs(ours(r, b) - theirs(r, b)) <= TOLERANCE


def test_metric_table_agrees_with_the_single_metric_functions(table, portfolios, index_returns):
    r = portfolios["nasdaq"].to_numpy()
    b = index_returns["sp500"].to_numpy()
    row = table.loc["nasdaq"]
    singles = {
        "correlation": relative.correlation(r, b),
        "tracking_error": relative.tracking_error(r, b),
        "var_normal": var.normal_var(r, 0.95),
        "cvar_normal": var.normal_cvar(r, 0.95),
        "var_cornish_fisher": var.cornish_fisher_var(r, 0.95),
        "max_drawdown_duration": drawdown.max_drawdown_duration(r),
        "skew": ratios.skewness(r),
        "kurtosis": ratios.excess_kurtosis(r),
    }
    for name, value in singles.items():
        assert row[name] == pytest.approx(value, abs=TOLERANCE), name
    assert row["correlation"] == pytest.approx(np.corrcoef(r, b)[0, 1], abs=TOLERANCE)


def test_the_table_has_exactly_the_documented_metrics(table, portfolios):
    assert list(table.columns) == list(METRICS)
    assert list(table.index) == list(portfolios.columns)


def test_confidence_and_frequency_are_parameters(index_returns):
    monthly = (1 + index_returns).groupby(index_returns.index.to_period("M")).prod() - 1
    result = metric_table(
        monthly[["nasdaq"]], monthly["sp500"], periods_per_year=12, confidence=0.99
    )
    r = monthly["nasdaq"].to_numpy()
    assert result.loc["nasdaq", "var_historical"] == pytest.approx(
        -empyrical.value_at_risk(r, cutoff=0.01), abs=TOLERANCE
    )
    assert result.loc["nasdaq", "sharpe"] == pytest.approx(
        empyrical.sharpe_ratio(r, annualization=12), abs=TOLERANCE
    )


DATES = pd.bdate_range("2024-01-01", periods=6)
BENCHMARK = pd.Series([0.01, -0.01, 0.02, 0.0, 0.005, -0.002], index=DATES, name="bench")


def test_a_gap_after_the_first_return_is_rejected_with_column_and_date():
    frame = pd.DataFrame({"fund": [0.01, 0.02, np.nan, 0.01, 0.0, 0.01]}, index=DATES)
    with pytest.raises(ReturnsDataError, match=r"column 'fund', row 2024-01-03: missing return"):
        metric_table(frame, BENCHMARK)


def test_a_later_inception_uses_the_portfolios_own_returns():
    frame = pd.DataFrame(
        {
            "old": [0.01, 0.02, -0.01, 0.01, 0.0, 0.01],
            "new": [np.nan, np.nan, 0.03, -0.02, 0.01, 0.0],
        },
        index=DATES,
    )
    result = metric_table(frame, BENCHMARK)
    assert result.loc["new", "n_obs"] == 4 and result.loc["old", "n_obs"] == 6
    # 1.03 × 0.98 × 1.01 × 1.00 − 1 = 0.019494.
    assert result.loc["new", "cumulative_return"] == pytest.approx(0.019494, abs=1e-12)


def test_a_benchmark_missing_where_a_portfolio_has_a_return_is_rejected():
    frame = pd.DataFrame({"fund": [0.01, 0.02, -0.01, 0.01, 0.0, 0.01]}, index=DATES)
    benchmark = BENCHMARK.copy()
    benchmark.iloc[0] = np.nan
    with pytest.raises(ReturnsDataError, match="benchmark has no return"):
        metric_table(frame, benchmark)


def test_price_levels_are_rejected():
    frame = pd.DataFrame({"fund": [100.0, 101.2, 100.7, 102.0, 103.1, 102.5]}, index=DATES)
    with pytest.raises(ReturnsDataError, match=r"column 'fund'.*look like price levels"):
        metric_table(frame, BENCHMARK)


def test_a_return_below_minus_100_percent_is_rejected():
    frame = pd.DataFrame({"fund": [0.01, -1.5, 0.01, 0.01, 0.0, 0.01]}, index=DATES)
    with pytest.raises(
        ReturnsDataError, match=re.escape("row 2024-01-02: return -1.5 is below -100 %")
    ):
        metric_table(frame, BENCHMARK)


def test_a_single_date_is_rejected():
    frame = pd.DataFrame({"fund": [0.01]}, index=DATES[:1])
    with pytest.raises(ReturnsDataError, match="at least 2 dates"):
        metric_table(frame, BENCHMARK.iloc[:1])


def test_blocks_of_portfolios_give_the_same_table_as_one_block(
    portfolios, index_returns, table, monkeypatch
):
    monkeypatch.setattr(metrics_module, "COLUMNS_PER_BLOCK", 1)
    one_at_a_time = metric_table(
        portfolios, index_returns["sp500"], risk_free=RISK_FREE, periods_per_year=PERIODS
    )
    pd.testing.assert_frame_equal(one_at_a_time, table, rtol=1e-13)
