"""Performance sections of a snapshot: metrics per window, period returns,
calendar table, drawdowns and rolling ratios (daily data, 252 periods a year).

Windows end on the snapshot's as-of date: ``SI`` (since inception), ``5Y``, ``3Y``
and ``1Y`` (returns dated after as-of minus that many calendar years; only when
the history reaches back that far) and ``YTD``. Benchmark-relative metrics of a
window are null when the benchmark does not cover every date of it.
"""

import numpy as np
import pandas as pd

from analytics.engine import drawdown, ratios
from analytics.engine.metrics import METRICS, metric_table
from analytics.engine.returns import (
    arithmetic_active_return,
    calendar_table,
    geometric_active_return,
    period_returns,
)
from analytics.services.snapshots.jsonify import clean, series

PERIODS_PER_YEAR = 252
WINDOWS = ("SI", "5Y", "3Y", "1Y", "YTD")
RELATIVE_METRICS = (
    "beta",
    "alpha",
    "correlation",
    "tracking_error",
    "information_ratio",
    "up_capture",
    "down_capture",
)
ROLLING_WINDOWS = (63, 252)
RETURN_KEYS = ("day", "mtd", "qtd", "ytd", "1y", "3y", "5y", "since_inception")
DRAWDOWN_EPISODES = 5


def window_slices(returns: pd.Series) -> dict[str, pd.Series]:
    """The returns of each window that has at least two observations."""
    end = returns.index[-1]
    windows = {"SI": returns}
    for years in (5, 3, 1):
        start = end - pd.DateOffset(years=years)
        if returns.index[0] <= start + pd.Timedelta(days=7):  # history reaches back far enough
            windows[f"{years}Y"] = returns[returns.index > start]
    windows["YTD"] = returns[returns.index >= end.to_period("Y").start_time]
    return {name: windows[name] for name in WINDOWS if name in windows and len(windows[name]) > 1}


def annual_rate_of(per_period: pd.Series) -> float:
    """The annual rate equivalent to the mean of per-period rates, ``(1 + mean)^252 − 1``
    (the inverse of how an annual rate enters the engine per period)."""
    return float((1.0 + per_period.mean()) ** PERIODS_PER_YEAR - 1.0)


def metrics_section(
    returns: pd.Series,
    benchmark: pd.Series | None,
    *,
    risk_free: float,
    confidence: float,
    risk_free_returns: pd.Series | None = None,
) -> dict:
    """``{window: {"portfolio": {metric: value}, "benchmark": {...} | None, "notes": [...],
    "risk_free_rate": annual}}``.

    Ratios over the risk-free rate (Sharpe, Sortino, downside deviation, Omega, alpha)
    use the periodic excess returns over ``risk_free_returns`` (one rate per date of
    ``returns``) when given, else the constant annual ``risk_free``; each window states
    the annual rate it used (for a series, its mean over the window, annualised).
    """
    result = {}
    for name, window in window_slices(returns).items():
        window_rates = (
            risk_free_returns.reindex(window.index) if risk_free_returns is not None else None
        )
        bench = benchmark.reindex(window.index) if benchmark is not None else None
        covered = bench is not None and not bench.isna().any()
        frame = window.to_frame("portfolio")
        if covered:
            frame["benchmark"] = bench
        table = metric_table(
            frame,
            bench if covered else pd.Series(0.0, index=window.index, name="none"),
            risk_free=risk_free,
            risk_free_returns=window_rates,
            periods_per_year=PERIODS_PER_YEAR,
            confidence=confidence,
        )
        notes = []
        if not covered:
            table.loc[:, list(RELATIVE_METRICS)] = np.nan
            notes.append(
                "no benchmark"
                if bench is None
                else "benchmark-relative metrics omitted: the benchmark does not cover "
                f"{int(bench.isna().sum())} of the window's dates"
            )
        result[name] = {
            "start": window.index[0],
            "end": window.index[-1],
            "portfolio": table.loc["portfolio"].to_dict(),
            "benchmark": table.loc["benchmark"].to_dict() if covered else None,
            "notes": notes,
            "risk_free_rate": risk_free if window_rates is None else annual_rate_of(window_rates),
        }
    return clean({"definitions": METRICS, "windows": result})


def period_returns_section(returns: pd.Series, benchmark: pd.Series | None) -> dict:
    """Day, MTD, QTD, YTD, 1Y, 3Y and 5Y (annualised), since inception (GIPS) and active."""
    rows = {"portfolio": period_returns(returns, periods_per_year=PERIODS_PER_YEAR)}
    if benchmark is not None and not benchmark.isna().all():
        covered = benchmark.dropna()
        rows["benchmark"] = period_returns(covered, periods_per_year=PERIODS_PER_YEAR)
    table = {name: _period_row(value) for name, value in rows.items()}
    if "benchmark" in table:
        portfolio, bench = table["portfolio"], table["benchmark"]
        for name, function in (
            ("active_arithmetic", arithmetic_active_return),
            ("active_geometric", geometric_active_return),
        ):
            table[name] = {key: function(portfolio[key], bench[key]) for key in RETURN_KEYS}
    return clean(table)


def _period_row(value) -> dict:
    return {
        "day": value.day,
        "mtd": value.month_to_date,
        "qtd": value.quarter_to_date,
        "ytd": value.year_to_date,
        "1y": value.one_year,
        "3y": value.three_years,
        "5y": value.five_years,
        "since_inception": value.since_inception.value,
        "since_inception_annualised": value.since_inception.annualised,
        "since_inception_years": value.since_inception.years,
    }


def calendar_section(returns: pd.Series, benchmark: pd.Series | None) -> dict:
    """Monthly and yearly returns: ``{"portfolio": {year: [12 months..., year]}, ...}``."""
    tables = {"portfolio": calendar_table(returns)}
    if benchmark is not None and not benchmark.isna().all():
        tables["benchmark"] = calendar_table(benchmark.dropna())
    return clean(
        {
            name: {int(year): [*row[list(range(1, 13))], row["year"]] for year, row in t.iterrows()}
            for name, t in tables.items()
        }
    )


def drawdowns_section(returns: pd.Series) -> dict:
    """Underwater series (≤ 0), the deepest episodes, the current drawdown and recovery."""
    curve = drawdown.underwater(returns)
    episodes = drawdown.drawdown_episodes(returns, top=DRAWDOWN_EPISODES)
    return clean(
        {
            "underwater": series(curve),
            "max_drawdown": drawdown.max_drawdown(returns),
            "current_drawdown": drawdown.current_drawdown(returns),
            "max_drawdown_duration": drawdown.max_drawdown_duration(returns),
            "time_to_recover": drawdown.time_to_recover(returns),
            "episodes": episodes,
        }
    )


def rolling_section(
    returns: pd.Series,
    benchmark: pd.Series | None,
    *,
    risk_free: float,
    risk_free_returns: pd.Series | None = None,
) -> dict:
    """Rolling annualised volatility, Sharpe and beta over 63 and 252 trading days
    (Sharpe over ``risk_free_returns`` per date when given, else the annual ``risk_free``)."""
    windows = {}
    for window in ROLLING_WINDOWS:
        if len(returns) < window:
            continue
        values = {
            "volatility": ratios.rolling_volatility(returns, window, PERIODS_PER_YEAR),
            "sharpe": ratios.rolling_sharpe(
                returns,
                window,
                risk_free,
                PERIODS_PER_YEAR,
                risk_free_returns=risk_free_returns,
            ),
        }
        if benchmark is not None:
            values["beta"] = ratios.rolling_beta(returns, benchmark, window)
        windows[str(window)] = {name: clean(v.to_numpy()) for name, v in values.items()}
    return {"dates": clean(returns.index), "windows": windows}
