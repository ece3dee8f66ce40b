"""Analytics of a stored snapshot over a report period.

A snapshot stores its series and most sections since inception (or trailing as of
its as-of date). A report asks for a period: month to date, a previous quarter, a
custom range. This service slices the snapshot's stored daily series to the period
and calls the same section builders the snapshot uses
(:mod:`analytics.services.snapshots.performance`, which call
:mod:`analytics.engine`), so a period's figures are computed exactly as the
snapshot's own windows are; nothing here computes a metric itself. Every function
returns a dict shaped like the stored section it replaces (JSON-ready: ISO dates,
``None`` for missing values), or ``{"available": false, "reason": ...}``, so the
display tables and figures of :mod:`analytics.presentation` read both alike.

Conventions:

* **The period** is inclusive: the returns *dated* from ``start`` to ``end``
  (``start`` None: since inception). A return is dated at the end of its valuation
  interval, so a period starting on 1 March includes the return from the last
  February valuation to the first March one, as month-to-date returns do.
* **Returns** are the snapshot's time-weighted daily returns in the portfolio's base
  currency (flows at the end of the day). The benchmark's daily returns are
  recovered from the stored ``benchmark_cumulative`` series (linked over the same
  valuation intervals): ``(1 + C_t) / (1 + C_{t−1}) − 1`` on covered dates, ``None``
  where the benchmark does not cover the interval.
* **Reuse.** Where the period's returns are exactly a stored window (the same first
  and last return dates, e.g. ``1Y`` or ``YTD`` ending on the as-of date), the
  stored figures are returned as they are (``source`` says which); otherwise they
  are computed on the slice.
* **Drawdowns** within a period are measured from the wealth at the start of the
  period (the first return of the period can already be a drawdown).
* **A benchmark override** (a report comparing with another benchmark than the
  portfolio's own) replaces the stored benchmark series by the other benchmark's
  daily returns in the portfolio's base currency, linked over the same valuation
  intervals as the snapshot links its own (:func:`benchmark_override`); stored
  figures that involve the benchmark are then never reused.
* Risk-free rate, periods per year and the VaR confidence are the snapshot's own
  (``result["data"]``, :data:`analytics.services.snapshots.CONFIDENCE`). A snapshot
  whose ratios use a risk-free *series* stores its description, not its daily
  rates, so a period that is not a stored window leaves the ratios over the
  risk-free rate (:data:`RISK_FREE_METRICS`) empty and says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.engine.attribution.brinson import EFFECTS, BrinsonAttribution
from analytics.engine.attribution.carino import link_carino
from analytics.engine.metrics import ReturnsDataError
from analytics.engine.returns import cumulative_return, link_returns
from analytics.models import Benchmark, Portfolio
from analytics.services.snapshots import CONFIDENCE, performance
from analytics.services.snapshots.frames import _benchmark_returns
from analytics.services.snapshots.jsonify import clean, series
from analytics.services.snapshots.returns import link_over_intervals
from analytics.services.snapshots.risk import window_risk_values

FEWER_THAN_TWO = "Fewer than two measured daily returns in the report period."
RISK_FREE_METRICS = frozenset({"sharpe", "sortino", "downside_deviation", "omega", "alpha"})
"""Metrics measured over the risk-free rate (see ``analytics.engine.metrics.METRICS``)."""


@dataclass(frozen=True)
class PeriodSlice:
    """The snapshot's daily returns within a report period.

    ``returns``: the portfolio's returns dated in the period (DatetimeIndex);
    ``benchmark``: the benchmark's on the same dates (NaN where not covered), or
    None without a benchmark; ``history`` and ``history_benchmark``: everything
    stored up to the period's end (for figures that run from inception, such as
    the period-returns table); ``whole_history``: the period holds every stored
    return; ``reaches_as_of``: the period ends on the snapshot's last return."""

    start: dt.date | None
    end: dt.date | None
    returns: pd.Series
    benchmark: pd.Series | None
    history: pd.Series
    history_benchmark: pd.Series | None
    whole_history: bool
    reaches_as_of: bool
    benchmark_code: str | None = None
    benchmark_overridden: bool = False

    @property
    def first(self) -> str | None:
        """The ISO date of the first return in the period."""
        return clean(self.returns.index[0]) if len(self.returns) else None

    @property
    def last(self) -> str | None:
        """The ISO date of the last return in the period."""
        return clean(self.returns.index[-1]) if len(self.returns) else None


def _unavailable(reason: str) -> dict:
    return {"available": False, "reason": reason}


def _stored_series(values: Mapping[str, Sequence[Any]]) -> pd.Series:
    index = pd.DatetimeIndex(pd.to_datetime(list(values["dates"])), name="date")
    data = [np.nan if v is None else float(v) for v in values["values"]]
    return pd.Series(data, index=index, dtype=np.float64)


def benchmark_from_cumulative(cumulative: Mapping[str, Sequence[Any]]) -> pd.Series:
    """Daily benchmark returns from a stored cumulative series (see the module
    docstring): NaN on the dates the benchmark does not cover. An uncovered date
    keeps the level of the covered date before it (as the snapshot stores it)."""
    level = 1.0 + _stored_series(cumulative)
    previous = level.ffill().shift(1).fillna(1.0)
    return (level / previous - 1.0).where(level.notna())


def benchmark_override(
    result: Mapping[str, Any], *, portfolio: Portfolio, code: str
) -> pd.Series | None:
    """The daily returns of benchmark ``code`` over the snapshot's valuation intervals
    (the dates of its stored returns), in the portfolio's base currency, loaded as the
    snapshot loads the portfolio's own benchmark and linked in the same way
    (:func:`analytics.services.snapshots.returns.link_over_intervals`); NaN where the
    benchmark does not cover an interval. None when there is no such benchmark."""
    benchmark = Benchmark.objects.filter(code=code).first()
    if benchmark is None:
        return None
    series_section = result.get("series") or {}
    net_assets = _stored_series(series_section.get("net_assets") or {"dates": [], "values": []})
    returns = _stored_series(series_section.get("returns") or {"dates": [], "values": []})
    if returns.empty:
        return pd.Series(dtype=np.float64, name=code)
    # An unsaved stand-in: the loader reads only the benchmark and the base currency.
    stand_in = Portfolio(
        pk=portfolio.pk, base_currency=portfolio.base_currency, benchmark=benchmark
    )
    daily = _benchmark_returns(stand_in, returns.index[-1].date())
    if daily is None or daily.empty:
        return pd.Series(np.nan, index=returns.index, name=code)
    valued = net_assets.dropna().index
    return link_over_intervals(daily, valued).reindex(returns.index)


def period_slice(
    result: Mapping[str, Any],
    *,
    start: dt.date | None,
    end: dt.date | None,
    benchmark: pd.Series | None = None,
    benchmark_code: str | None = None,
) -> PeriodSlice:
    """The stored returns of ``result`` (a snapshot's result) dated from ``start`` to
    ``end`` inclusive (None: unbounded on that side). ``benchmark``: daily returns of
    an override benchmark ``benchmark_code`` on the stored dates (see
    :func:`benchmark_override`) instead of the stored benchmark."""
    stored = (result.get("series") or {}).get("returns") or {"dates": [], "values": []}
    returns = _stored_series(stored)
    overridden = benchmark is not None
    if not overridden:
        cumulative = (result.get("series") or {}).get("benchmark_cumulative")
        benchmark = benchmark_from_cumulative(cumulative) if cumulative else None
        benchmark_code = (result.get("data") or {}).get("benchmark")
    dates = returns.index
    upper = np.ones(len(dates), dtype=bool) if end is None else dates <= pd.Timestamp(end)
    lower = np.ones(len(dates), dtype=bool) if start is None else dates >= pd.Timestamp(start)
    inside = upper & lower
    return PeriodSlice(
        start=start,
        end=end,
        returns=returns[inside],
        benchmark=None if benchmark is None else benchmark.reindex(dates[inside]),
        history=returns[upper],
        history_benchmark=None if benchmark is None else benchmark.reindex(dates[upper]),
        whole_history=bool(inside.all()),
        reaches_as_of=bool(upper.all()),
        benchmark_code=benchmark_code,
        benchmark_overridden=overridden,
    )


def period_metrics(result: Mapping[str, Any], period: PeriodSlice) -> dict:
    """The metrics of the period, shaped like one window of the stored ``metrics``
    section (``start``, ``end``, ``portfolio``, ``benchmark``, ``notes``) plus
    ``source``: the stored window reused, or ``"period"`` when computed on the
    slice (:func:`analytics.services.snapshots.performance.metrics_section`)."""
    stored = result.get("metrics") or {}
    windows = {} if period.benchmark_overridden else stored.get("windows") or {}
    for name, window in windows.items():
        if (window.get("start"), window.get("end")) == (period.first, period.last):
            return {**window, "source": name, "definitions": stored.get("definitions", {})}
    if len(period.returns) < 2:
        return _unavailable(FEWER_THAN_TWO)
    data = result.get("data") or {}
    risk_free = data.get("risk_free") or {}
    series_rate = risk_free.get("kind") == "series"
    stored_rates = (result.get("series") or {}).get("risk_free")
    rates = (
        _stored_series(stored_rates).reindex(period.returns.index)
        if series_rate and stored_rates
        else None
    )
    try:
        section = performance.metrics_section(
            period.returns,
            period.benchmark,
            risk_free=0.0 if series_rate else float(data.get("risk_free_rate") or 0.0),
            confidence=CONFIDENCE,
            risk_free_returns=rates,
        )
    except (ReturnsDataError, ValueError) as error:
        return _unavailable(str(error))
    window = {**section["windows"]["SI"], "source": "period", "definitions": section["definitions"]}
    if series_rate and (rates is None or rates.isna().any()):
        # A snapshot stored before it kept the daily rates (or rates that miss a
        # date): ratios over the series are shown for the stored windows only,
        # never over a wrong rate.
        for side in ("portfolio", "benchmark"):
            if window.get(side):
                window[side] = {
                    key: None if key in RISK_FREE_METRICS else value
                    for key, value in window[side].items()
                }
        window["notes"] = [
            *window.get("notes", []),
            f"Ratios over the risk-free series {risk_free.get('factor')} are shown for the "
            "stored windows only (since inception, 5, 3 and 1 years, year to date).",
        ]
    return window


def period_risk(period: PeriodSlice) -> dict:
    """The return-based risk figures of the period (VaR and CVaR 1-day historical,
    volatility and tracking error annualised, beta, maximum and current drawdown),
    keyed by :class:`~analytics.models.RiskLimitMetric` as one window of the stored
    ``risk_values``, computed on the slice as the snapshot computes its windows."""
    if len(period.returns) < 2:
        return _unavailable(FEWER_THAN_TWO)
    return clean(window_risk_values(period.returns, period.benchmark))


def period_cumulative(period: PeriodSlice) -> dict:
    """Cumulative return from the start of the period, shaped like the stored
    ``series`` section (``cumulative`` and, with a benchmark, ``benchmark_cumulative``),
    linked with :func:`analytics.engine.returns.link_returns`. The benchmark's
    uncovered dates are ``None`` and count as no change in the linked level."""
    if period.returns.empty:
        return _unavailable("No measured daily returns in the report period.")
    payload = {"cumulative": series(pd.Series(link_returns(period.returns)))}
    if period.benchmark is not None and period.benchmark.notna().any():
        linked = pd.Series(link_returns(period.benchmark.fillna(0.0)))
        payload["benchmark_cumulative"] = series(linked.where(period.benchmark.notna()))
    return payload


def period_drawdowns(result: Mapping[str, Any], period: PeriodSlice) -> dict:
    """The stored ``drawdowns`` section when the period is the whole history, else
    the same section computed on the period's returns."""
    if period.whole_history and result.get("drawdowns") is not None:
        return dict(result["drawdowns"])
    if len(period.returns) < 2:
        return _unavailable(FEWER_THAN_TWO)
    return performance.drawdowns_section(period.returns)


def period_calendar(result: Mapping[str, Any], period: PeriodSlice) -> dict:
    """Monthly and calendar-year returns within the period (the stored ``calendar``
    section when the period is the whole history). A month or year cut by the
    period's bounds links only the returns inside the period."""
    reusable = period.whole_history and not period.benchmark_overridden
    if reusable and result.get("calendar") is not None:
        return dict(result["calendar"])
    if period.returns.empty:
        return _unavailable("No measured daily returns in the report period.")
    benchmark = period.benchmark
    covered = benchmark.dropna() if benchmark is not None else None
    return performance.calendar_section(
        period.returns, None if covered is None or covered.empty else covered
    )


def period_returns_to_end(result: Mapping[str, Any], period: PeriodSlice) -> dict:
    """The standard period-returns table (day, MTD, QTD, YTD, 1Y, 3Y and 5Y
    annualised, since inception with the GIPS rule, active) ending on the period's
    last return: the stored section when that is the snapshot's as-of date."""
    stored = result.get("period_returns")
    if stored is not None and period.reaches_as_of and not period.benchmark_overridden:
        return dict(stored)
    if period.history.empty:
        return _unavailable("No measured daily returns up to the end of the report period.")
    try:
        return performance.period_returns_section(period.history, period.history_benchmark)
    except ValueError as error:
        return _unavailable(str(error))


def period_rolling(result: Mapping[str, Any], period: PeriodSlice) -> dict:
    """The stored rolling ratios on the period's dates. Each value keeps its trailing
    window (e.g. 63 valuation days), which may reach back before the period. With a
    benchmark override the stored rolling beta (against the portfolio's own
    benchmark) is left out."""
    stored = result.get("rolling")
    if stored is None or stored.get("available") is False:
        return dict(stored) if stored is not None else _unavailable("No rolling ratios stored.")
    low = period.start.isoformat() if period.start else None
    high = period.end.isoformat() if period.end else None
    keep = [
        i
        for i, day in enumerate(stored.get("dates", []))
        if (low is None or day >= low) and (high is None or day <= high)
    ]
    windows = {
        window: {
            name: [values[i] for i in keep]
            for name, values in ratios.items()
            if not (period.benchmark_overridden and name == "beta")
        }
        for window, ratios in (stored.get("windows") or {}).items()
    }
    if not keep or not windows:
        return _unavailable(
            "No rolling ratios in the report period (a window needs at least 63 daily returns)."
        )
    return {"dates": [stored["dates"][i] for i in keep], "windows": windows}


def period_attribution(section: Mapping[str, Any], period: PeriodSlice, *, by: str) -> dict:
    """Brinson-Fachler attribution by ``by`` linked over the months of the period.

    The months are the stored monthly attributions whose whole month lies in the
    period (a month is from the previous month end to this one). When they are a
    stored window (since inception, 3 or 1 year), that window is returned as stored,
    groups included (``source``: its name). Otherwise the stored monthly totals are
    linked with Carino (:func:`analytics.engine.attribution.carino.link_carino`) into
    the period's totals; the per-group split is stored only for the stored windows,
    so ``groups`` is empty. ``portfolio_time_weighted_return`` links the period's
    daily returns over the same months and ``trading_effect`` is its difference
    from the holdings-based return, as in the stored windows."""
    windows = (section.get("groupings") or {}).get(by)
    if not windows:
        return _unavailable(f"No attribution by {by} is stored.")
    monthly = max(windows.values(), key=lambda window: window["months"])["monthly"]
    chosen = [row for row in monthly if _month_inside(row["period"], period)]
    if not chosen:
        return _unavailable("No whole month of attribution lies in the report period.")
    first, last = chosen[0]["period"], chosen[-1]["period"]
    for name, window in windows.items():
        if (window["start"], window["end"], window["months"]) == (first, last, len(chosen)):
            return {**window, "source": name}
    linked = link_carino(
        {
            row["period"]: BrinsonAttribution(
                groups=pd.DataFrame(
                    {
                        **{effect: [row[effect]] for effect in EFFECTS},
                        "total": [sum(row[effect] for effect in EFFECTS)],
                    },
                    index=pd.Index(["total"], name="group"),
                ),
                portfolio_return=row["portfolio_return"],
                benchmark_return=row["benchmark_return"],
                active_return=row["active_return"],
            )
            for row in chosen
        }
    )
    opening = (pd.Timestamp(first).to_period("M") - 1).end_time.normalize()
    dates = period.history.index
    inside = period.history[(dates > opening) & (dates <= pd.Timestamp(last))]
    twr = float(cumulative_return(inside.to_numpy())) if len(inside) else None
    return clean(
        {
            "source": "period",
            "start": first,
            "end": last,
            "months": len(chosen),
            "portfolio_return": linked.portfolio_return,
            "benchmark_return": linked.benchmark_return,
            "active_return": linked.active_return,
            "portfolio_time_weighted_return": twr,
            "trading_effect": None if twr is None else twr - linked.portfolio_return,
            "groups": [],
            "totals": linked.totals.to_dict(),
            "monthly": chosen,
        }
    )


def _month_inside(month_end: str, period: PeriodSlice) -> bool:
    month = pd.Timestamp(month_end).to_period("M")
    opens_in = period.start is None or month.start_time.date() >= period.start
    closes_in = period.end is None or pd.Timestamp(month_end).date() <= period.end
    return opens_in and closes_in
