"""The sections of a snapshot's ``result``, computed from loaded frames and returns.

Each section is computed on its own; a section that the data cannot support holds
``{"available": false, "reason": ...}`` instead of failing the snapshot (see
:mod:`analytics.services.snapshots` for the list of sections).
"""

from collections.abc import Callable

import numpy as np
import pandas as pd

from analytics.engine.metrics import ReturnsDataError
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
    """Every section of a snapshot (``risk_free``: annual rate, decimal; ``confidence``
    of the headline VaR metrics)."""
    daily, benchmark = returns.portfolio, returns.benchmark
    values = frames.net_assets
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
        "risk_free_rate": risk_free,
        "periods_per_year": performance.PERIODS_PER_YEAR,
        "flow_timing": "end of day",
    }
    result = {"data": clean(data), "series": _series(values, daily, benchmark)}
    if len(daily) < 2:
        reason = {"available": False, "reason": "Fewer than two measured daily returns."}
        for name in RETURN_SECTIONS:
            result[name] = reason
    else:
        result["metrics"] = _section(
            lambda: performance.metrics_section(
                daily, benchmark, risk_free=risk_free, confidence=confidence
            )
        )
        result["period_returns"] = _section(
            lambda: performance.period_returns_section(daily, benchmark)
        )
        result["calendar"] = _section(lambda: performance.calendar_section(daily, benchmark))
        result["drawdowns"] = _section(lambda: performance.drawdowns_section(daily))
        result["rolling"] = _section(
            lambda: performance.rolling_section(daily, benchmark, risk_free=risk_free)
        )
        result["var"] = _section(lambda: risk.var_section(daily))
    result["exposures"] = _section(lambda: risk.exposures_section(frames.holdings))
    result["attribution"] = _section(
        lambda: attribution.brinson_section(portfolio=portfolio, frames=frames, returns=daily)
    )
    result["factors"] = _section(lambda: attribution.factor_section(frames, daily))
    result["risk_values"] = clean(
        risk.risk_values(
            var_rows=result["var"].get("rows", []),
            metrics=result["metrics"] if "windows" in result["metrics"] else {"windows": {}},
            exposures=result["exposures"],
            relative=performance.relative_values(daily, benchmark) if len(daily) > 1 else {},
        )
    )
    return result


def _series(values: pd.Series, daily: pd.Series, benchmark: pd.Series | None) -> dict:
    growth = (1.0 + daily).cumprod() - 1.0
    payload = {
        "net_assets": series(values),
        "returns": series(daily),
        "cumulative": series(growth),
    }
    if benchmark is not None:
        covered = benchmark.fillna(0.0)
        cumulative = (1.0 + covered).cumprod() - 1.0
        payload["benchmark_cumulative"] = series(cumulative.where(benchmark.notna(), np.nan))
    return payload
