"""The sections of a snapshot's ``result``, computed from loaded frames and returns.

Each section is computed on its own; a section that the data cannot support holds
``{"available": false, "reason": ...}`` instead of failing the snapshot (see
:mod:`analytics.services.snapshots` for the list of sections).
"""

from collections.abc import Callable

import numpy as np
import pandas as pd

from analytics.engine.metrics import ReturnsDataError
from analytics.engine.returns import daily_rates_from_monthly
from analytics.models import Portfolio
from analytics.services.snapshots import attribution, performance, risk
from analytics.services.snapshots.frames import PortfolioFrames
from analytics.services.snapshots.jsonify import clean, series
from analytics.services.snapshots.returns import ReturnSeries

RETURN_SECTIONS = ("metrics", "period_returns", "calendar", "drawdowns", "rolling", "var")
"""Sections computed from the daily return series (need at least two returns)."""


def _section(compute: Callable[[], dict]) -> dict:
    """Run a section; data it cannot support becomes a reason, not a failed snapshot."""
    try:
        return compute()
    except (ReturnsDataError, ValueError) as error:
        return {"available": False, "reason": str(error)}


def snapshot_sections(
    *,
    portfolio: Portfolio,
    frames: PortfolioFrames,
    returns: ReturnSeries,
    risk_free: float,
    confidence: float,
) -> dict:
    """Every section of a snapshot (``risk_free``: the constant annual rate, decimal,
    used when the portfolio has no risk-free series; ``confidence`` of the headline
    VaR metrics)."""
    daily, benchmark = returns.portfolio, returns.benchmark
    values = frames.net_assets
    risk_free_daily, risk_free_description = risk_free_series(
        frames, daily.index, constant=risk_free
    )
    data = {
        "base_currency": frames.base_currency,
        "benchmark": frames.benchmark_code,
        "first_valuation": values.index[0] if len(values) else None,
        "last_valuation": values.index[-1] if len(values) else None,
        "valuations": int(values.notna().sum()),
        "unvalued_dates": int(values.isna().sum()),
        "returns": len(daily),
        "gaps": returns.gaps,
        "benchmark_uncovered": int(benchmark.isna().sum()) if benchmark is not None else None,
        "risk_free_rate": risk_free_description["annual_rate"],
        "risk_free": risk_free_description,
        "periods_per_year": performance.PERIODS_PER_YEAR,
        "flow_timing": "end of day",
    }
    result = {"data": clean(data), "series": _series(values, daily, benchmark, risk_free_daily)}
    if len(daily) < 2:
        reason = {"available": False, "reason": "Fewer than two measured daily returns."}
        for name in RETURN_SECTIONS:
            result[name] = reason
    else:
        # Ratios over a risk-free series that misses dates would be wrong, not partial.
        uncovered = (
            {
                "available": False,
                "reason": f"The risk-free series {frames.risk_free_factor} does not cover "
                f"{int(risk_free_daily.isna().sum())} of the measured returns' dates.",
            }
            if risk_free_daily is not None and risk_free_daily.isna().any()
            else None
        )
        result["metrics"] = uncovered or _section(
            lambda: performance.metrics_section(
                daily,
                benchmark,
                risk_free=risk_free,
                confidence=confidence,
                risk_free_returns=risk_free_daily,
            )
        )
        result["period_returns"] = _section(
            lambda: performance.period_returns_section(daily, benchmark)
        )
        result["calendar"] = _section(lambda: performance.calendar_section(daily, benchmark))
        result["drawdowns"] = _section(lambda: performance.drawdowns_section(daily))
        result["rolling"] = uncovered or _section(
            lambda: performance.rolling_section(
                daily, benchmark, risk_free=risk_free, risk_free_returns=risk_free_daily
            )
        )
        result["var"] = _section(lambda: risk.var_section(daily))
    result["exposures"] = _section(lambda: risk.exposures_section(frames.holdings))
    result["attribution"] = _section(
        lambda: attribution.brinson_section(portfolio=portfolio, frames=frames, returns=daily)
    )
    result["factors"] = _section(lambda: attribution.factor_section(frames, daily))
    result["risk_values"] = clean(
        risk.risk_values(returns=daily, benchmark=benchmark, exposures=result["exposures"])
    )
    return result


def risk_free_series(
    frames: PortfolioFrames, dates: pd.DatetimeIndex, *, constant: float
) -> tuple[pd.Series | None, dict]:
    """The risk-free return of each return date and how it was obtained.

    With a risk-free factor on the portfolio, the factor's monthly rates spread over
    each month's weekdays (:func:`~analytics.engine.returns.daily_rates_from_monthly`;
    months after the last published one carry it forward); otherwise None and the
    constant annual rate. The description holds ``kind`` (``series`` or
    ``constant``), ``annual_rate`` (the constant, or the series' mean over the
    history annualised as ``(1 + mean)^252 − 1``) and, for a series, the factor, its
    source, its first and last month and the month it is carried forward from.
    """
    if not frames.risk_free_factor:
        return None, {"kind": "constant", "annual_rate": constant}
    monthly = frames.risk_free_monthly
    description: dict = {
        "kind": "series",
        "factor": frames.risk_free_factor,
        "source": frames.risk_free_source,
        "annual_rate": None,
        "first_month": None,
        "last_month": None,
        "carried_forward_from": None,
    }
    if monthly is None or monthly.empty:
        return pd.Series(np.nan, index=dates, name="risk_free"), description
    daily = daily_rates_from_monthly(monthly, dates)
    last = monthly.index.max()
    description.update(
        first_month=str(monthly.index.min()),
        last_month=str(last),
        carried_forward_from=str(last) if len(dates) and dates[-1].to_period("M") > last else None,
        annual_rate=performance.annual_rate_of(daily.dropna()) if daily.notna().any() else None,
    )
    return daily, description


def _series(
    values: pd.Series,
    daily: pd.Series,
    benchmark: pd.Series | None,
    risk_free_daily: pd.Series | None,
) -> dict:
    """Stored daily series; ``risk_free`` (the periodic rate on each return's date)
    only for a portfolio with a risk-free series, so that ratios over any period
    (``analytics.services.period_analysis``) use the same rates as the snapshot."""
    growth = (1.0 + daily).cumprod() - 1.0
    payload = {
        "net_assets": series(values),
        "returns": series(daily),
        "cumulative": series(growth),
    }
    if risk_free_daily is not None:
        payload["risk_free"] = series(risk_free_daily.reindex(daily.index))
    if benchmark is not None:
        covered = benchmark.fillna(0.0)
        cumulative = (1.0 + covered).cumprod() - 1.0
        payload["benchmark_cumulative"] = series(cumulative.where(benchmark.notna(), np.nan))
    return payload
