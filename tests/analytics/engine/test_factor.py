"""Factor regression on a hand-worked example, synthetic data with known betas and real
Fama-French factors."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from arch.data import frenchdata

from analytics.engine.factor import (
    CollinearFactorsError,
    InsufficientObservationsError,
    factor_regression,
)


def test_one_factor_regression_worked_by_hand():
    # x = 1..5, y = 2.1, 3.9, 6.2, 7.8, 10.0
    # mean x 3, Sxx 10, mean y 6, Sxy = 7.8 + 2.1 + 0 + 1.8 + 8.0 = 19.7
    # beta 1.97, alpha 6 - 1.97 * 3 = 0.09
    # residuals 0.04, -0.13, 0.20, -0.17, 0.06: SSR 0.091, sigma^2 = 0.091 / 3
    # se(beta) = sqrt(sigma^2 / 10); se(alpha) = sqrt(sigma^2 (1/5 + 9/10))
    # SST = 15.21 + 4.41 + 0.04 + 3.24 + 16 = 38.9, R^2 = 1 - 0.091 / 38.9
    factors = pd.DataFrame({"market": [1.0, 2.0, 3.0, 4.0, 5.0]})
    excess = pd.Series([2.1, 3.9, 6.2, 7.8, 10.0], name="alice")
    result = factor_regression(excess, factors)
    sigma2 = 0.091 / 3
    r2 = 1 - 0.091 / 38.9
    assert result.coefficients.loc["alice"].tolist() == pytest.approx([0.09, 1.97], abs=1e-12)
    assert result.standard_errors.loc["alice", "market"] == pytest.approx((sigma2 / 10) ** 0.5)
    assert result.standard_errors.loc["alice", "alpha"] == pytest.approx((sigma2 * 1.1) ** 0.5)
    assert result.t_stats.loc["alice", "market"] == pytest.approx(1.97 / (sigma2 / 10) ** 0.5)
    assert result.r_squared["alice"] == pytest.approx(r2)
    assert result.adjusted_r_squared["alice"] == pytest.approx(1 - (1 - r2) * 4 / 3)
    assert result.residual_volatility["alice"] == pytest.approx(sigma2**0.5)
    assert result.residuals["alice"].tolist() == pytest.approx(
        [0.04, -0.13, 0.20, -0.17, 0.06], abs=1e-12
    )
    # contributions: per period 1.97 * 3 = 5.91 and alpha 0.09 (adding to mean y = 6);
    # over the sample 1.97 * 15 = 29.55 and 5 * 0.09 = 0.45 (adding to sum y = 30)
    assert result.contributions.loc["alice"].tolist() == pytest.approx([0.09, 5.91])
    assert result.total_contributions.loc["alice"].tolist() == pytest.approx([0.45, 29.55])


def _synthetic_factors(observations: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.normal(0.005, 0.04, size=(observations, 3)),
        columns=["mkt", "smb", "hml"],
        index=pd.period_range("2000-01", periods=observations, freq="M"),
    )


def test_noise_free_returns_give_exact_betas_and_unit_r_squared():
    factors = _synthetic_factors(60, seed=1)
    excess = 0.002 + 1.2 * factors["mkt"] + 0.3 * factors["smb"] - 0.5 * factors["hml"]
    result = factor_regression(excess.rename("alice"), factors)
    assert result.coefficients.loc["alice"].tolist() == pytest.approx(
        [0.002, 1.2, 0.3, -0.5], abs=1e-12
    )
    assert result.r_squared["alice"] == pytest.approx(1.0, abs=1e-12)
    assert result.residual_volatility["alice"] == pytest.approx(0.0, abs=1e-12)


def test_noisy_betas_fall_within_their_standard_errors_for_several_portfolios():
    factors = _synthetic_factors(240, seed=2)
    rng = np.random.default_rng(3)
    true_betas = pd.DataFrame(
        {"mkt": [1.2, 0.8, 1.0], "smb": [0.3, -0.2, 0.0], "hml": [0.0, 0.5, -0.4]},
        index=["alice", "bob", "carol"],
    )
    noise = rng.normal(0, 0.01, size=(240, 3))
    excess = pd.DataFrame(
        factors.to_numpy() @ true_betas.to_numpy().T + noise,
        index=factors.index,
        columns=true_betas.index,
    )
    excess.iloc[10, 2] = np.nan  # carol misses a month: her own, smaller sample
    result = factor_regression(excess, factors)
    assert result.observations.tolist() == [240, 240, 239]
    estimation_error = (result.coefficients[true_betas.columns] - true_betas).abs()
    assert (estimation_error < 3 * result.standard_errors[true_betas.columns]).all().all()
    assert (result.coefficients["alpha"].abs() < 3 * result.standard_errors["alpha"]).all()
    assert result.residuals["carol"].isna().sum() == 1


def test_newey_west_standard_errors_match_statsmodels():
    factors = _synthetic_factors(120, seed=4)
    rng = np.random.default_rng(5)
    # autocorrelated noise, where Newey-West differs from classical
    shocks = rng.normal(0, 0.01, 121)
    noise = shocks[1:] + 0.6 * shocks[:-1]
    excess = (0.9 * factors["mkt"] + 0.2 * factors["hml"] + noise).rename("alice")
    result = factor_regression(excess, factors, newey_west_lags=4)
    reference = (
        sm.OLS(excess.to_numpy(), sm.add_constant(factors.to_numpy()))
        .fit(cov_type="HAC", cov_kwds={"maxlags": 4, "use_correction": False})
        .bse
    )
    assert result.standard_errors.loc["alice"].to_numpy() == pytest.approx(reference, rel=1e-10)
    assert "Newey-West" in result.covariance


def _fama_french_monthly() -> pd.DataFrame:
    """arch's monthly factors, in decimals, on a monthly PeriodIndex.

    arch parses the yyyymm integers as nanoseconds since 1970, so they are recovered
    from the raw int64 values of the index.
    """
    raw = frenchdata.load()
    yyyymm = raw.index.astype("int64").to_numpy()
    index = pd.PeriodIndex.from_fields(year=yyyymm // 100, month=yyyymm % 100, freq="M")
    return pd.DataFrame(raw.to_numpy() / 100.0, index=index, columns=raw.columns)


def test_regression_on_real_fama_french_factors():
    data = _fama_french_monthly()
    assert data.index[0] == pd.Period("1926-07", freq="M")
    factors = data[["Mkt-RF", "SMB", "HML"]]
    rng = np.random.default_rng(7)
    excess = 1.2 * factors["Mkt-RF"] + 0.3 * factors["SMB"] + rng.normal(0, 0.01, len(factors))
    result = factor_regression(excess.rename("alice"), factors)
    betas = result.coefficients.loc["alice"]
    errors = result.standard_errors.loc["alice"]
    truth = pd.Series({"alpha": 0.0, "Mkt-RF": 1.2, "SMB": 0.3, "HML": 0.0})
    assert ((betas - truth).abs() < 3 * errors).all()
    assert result.r_squared["alice"] > 0.9
    # contributions add up to the mean excess return (OLS residuals sum to zero)
    assert result.contributions.loc["alice"].sum() == pytest.approx(excess.mean(), abs=1e-12)
    assert result.total_contributions.loc["alice"].sum() == pytest.approx(excess.sum(), abs=1e-10)


def test_too_few_observations_is_a_clear_error():
    factors = _synthetic_factors(4, seed=8)
    excess = factors.sum(axis=1).rename("alice")
    # 4 observations cannot estimate an intercept and 3 betas with any residual freedom
    with pytest.raises(InsufficientObservationsError, match="4 observations"):
        factor_regression(excess, factors)


def test_mismatched_date_indexes_are_a_clear_error():
    factors = _synthetic_factors(24, seed=11)
    month_ends = factors["mkt"].rename("alice")
    month_ends.index = month_ends.index.to_timestamp(how="end")
    with pytest.raises(InsufficientObservationsError, match="share no dates"):
        factor_regression(month_ends, factors)


def test_collinear_factors_are_a_clear_error():
    factors = _synthetic_factors(60, seed=9)
    factors["mkt_plus_smb"] = factors["mkt"] + factors["smb"]
    excess = factors["mkt"].rename("alice")
    with pytest.raises(CollinearFactorsError, match="rank"):
        factor_regression(excess, factors)


def test_constant_factor_is_collinear_with_the_intercept():
    factors = _synthetic_factors(60, seed=10).assign(flat=0.01)
    with pytest.raises(CollinearFactorsError):
        factor_regression(factors["mkt"].rename("alice"), factors)
