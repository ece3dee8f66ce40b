"""Return arithmetic: linking, cumulative and annualised returns, period and calendar returns.

Conventions (all functions):

* Returns are simple periodic returns as fractions (``0.01`` is 1 %), in time order along axis 0.
* Returns compound geometrically: linking ``r1, r2, …`` gives ``(1 + r1)(1 + r2)… − 1``.
* A missing value (NaN) is never a zero return: it makes the result of its column (or of the
  period it falls in) NaN. Drop or reject missing values before calling.
* Annualisation follows GIPS: a return for a period shorter than one year is never annualised;
  the cumulative return is returned instead and the result says so (:class:`AnnualisedReturn`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.engine._arrays import ArrayLike, as_matrix

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class AnnualisedReturn:
    """A return over ``years`` years, annualised only when ``years >= 1`` (GIPS).

    ``value`` is the annualised return when ``annualised`` is true, otherwise the cumulative
    return of the (shorter than one year) period, which GIPS forbids annualising.
    """

    value: float
    cumulative: float
    years: float
    annualised: bool


@dataclass(frozen=True)
class PeriodReturns:
    """Standard reporting periods ending on ``as_of`` (see :func:`period_returns`).

    ``three_years`` and ``five_years`` are annualised; every other field is cumulative.
    NaN means the history does not cover the whole period.
    """

    as_of: pd.Timestamp
    day: float
    month_to_date: float
    quarter_to_date: float
    year_to_date: float
    one_year: float
    three_years: float
    five_years: float
    since_inception: AnnualisedReturn


def periodic_rate(annual_rate: float, periods_per_year: int) -> float:
    """Convert an annual rate into the compounding-equivalent rate per period.

    ``(1 + annual_rate) ** (1 / periods_per_year) − 1``: 5 % a year is about 0.0194 % a day for
    252 periods. This is how the annual risk-free rate enters every ratio in the engine.
    """
    rate: float = (1.0 + annual_rate) ** (1.0 / periods_per_year) - 1.0
    return rate


def daily_rates_from_monthly(monthly_rates: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    """The risk-free return of each of ``dates`` from monthly rates.

    ``monthly_rates`` holds each month's rate as a fraction for the month (the Fama-French
    ``RF`` convention), indexed by monthly periods (or any date in the month). Every weekday
    of month m earns ``(1 + R_m)^(1 / W_m) − 1``, W_m the number of weekdays (Monday to Friday)
    in that month, so the month's weekdays compound to R_m whichever of them the returns are
    measured on. Dates after the last month carry its rate forward (a published series lags
    by a month or two); dates before the first month are NaN. The result is indexed by
    ``dates`` and named ``risk_free``.
    """
    if len(monthly_rates) == 0:
        return pd.Series(np.nan, index=dates, name="risk_free")
    index = monthly_rates.index
    months = index if isinstance(index, pd.PeriodIndex) else pd.DatetimeIndex(index).to_period("M")
    rates = pd.Series(monthly_rates.to_numpy(dtype=np.float64), index=months).sort_index()
    rates = rates[~rates.index.duplicated(keep="last")]
    wanted = pd.DatetimeIndex(dates).to_period("M")
    covering = pd.period_range(rates.index[0], max(rates.index[-1], wanted.max()), freq="M")
    filled = rates.reindex(covering).ffill()
    weekdays = pd.Series(
        [
            np.busday_count(m.start_time.date(), (m.end_time + pd.Timedelta(days=1)).date())
            for m in covering
        ],
        index=covering,
        dtype=np.float64,
    )
    per_day = (1.0 + filled) ** (1.0 / weekdays) - 1.0
    values = per_day.reindex(wanted).to_numpy()
    return pd.Series(values, index=dates, name="risk_free")


def cumulative_return(returns: ArrayLike) -> float | np.ndarray | pd.Series:
    """Linked (compounded) return of each column over its whole history: ``∏(1 + r) − 1``."""
    matrix, shape_result = as_matrix(returns)
    return shape_result(np.prod(1.0 + matrix, axis=0) - 1.0)


def link_returns(returns: ArrayLike) -> np.ndarray | pd.Series | pd.DataFrame:
    """Geometrically link periodic returns into the running cumulative return.

    Row ``t`` is ``∏_{s≤t}(1 + r_s) − 1``, the return from the start of the first period to the
    end of period ``t``; pandas input keeps its index. A NaN makes that row and all later ones NaN.
    """
    linked = np.cumprod(1.0 + np.asarray(returns, dtype=np.float64), axis=0) - 1.0
    if isinstance(returns, pd.DataFrame):
        return pd.DataFrame(linked, index=returns.index, columns=returns.columns)
    if isinstance(returns, pd.Series):
        return pd.Series(linked, index=returns.index, name=returns.name)
    return linked


def annualise(cumulative: float, years: float) -> AnnualisedReturn:
    """Annualise a cumulative return earned over ``years`` years, with the GIPS rule.

    ``(1 + cumulative) ** (1 / years) − 1`` when ``years >= 1``; for a shorter period the
    cumulative return itself is returned with ``annualised=False`` (GIPS: never annualise a
    period of less than one year, that would extrapolate a return not yet earned).
    """
    if years < 1.0:
        return AnnualisedReturn(
            value=cumulative, cumulative=cumulative, years=years, annualised=False
        )
    value = (1.0 + cumulative) ** (1.0 / years) - 1.0
    return AnnualisedReturn(value=value, cumulative=cumulative, years=years, annualised=True)


def annualised_return(returns: ArrayLike, periods_per_year: int = 252) -> AnnualisedReturn:
    """Annualised return of one return series with the GIPS rule (see :func:`annualise`).

    The length of the history in years is the number of observations divided by
    ``periods_per_year`` (252 trading days, 52 weeks, 12 months).
    """
    values = np.asarray(returns, dtype=np.float64).reshape(-1)
    cumulative = float(np.prod(1.0 + values) - 1.0)
    return annualise(cumulative, values.shape[0] / periods_per_year)


def compound_annual_growth_rate(
    returns: ArrayLike, periods_per_year: int = 252
) -> float | np.ndarray | pd.Series:
    """Compound annual growth rate ``(1 + cumulative) ** (N / n) − 1`` of each column.

    ``n`` is the number of observations, so the history is ``n / N`` years. Unlike
    :func:`annualised_return` this always annualises, even a history shorter than a year: it is
    the growth-rate statistic of empyrical's ``annual_return`` that ratios such as Calmar use,
    not a GIPS presentation figure.
    """
    matrix, shape_result = as_matrix(returns)
    growth = np.prod(1.0 + matrix, axis=0)
    return shape_result(growth ** (periods_per_year / matrix.shape[0]) - 1.0)


def period_returns(
    returns: pd.Series, *, as_of: pd.Timestamp | None = None, periods_per_year: int = 252
) -> PeriodReturns:
    """Day, MTD, QTD, YTD, trailing 1, 3 and 5 years and since-inception returns of a series.

    ``returns`` is indexed by the date at the end of each period. Windows end on ``as_of``
    (default: the last date) and include it. Month-, quarter- and year-to-date link the
    returns dated in the current month, quarter or year (from inception if it is later).
    The trailing windows link the returns dated after ``as_of`` minus 1, 3 or 5 calendar years;
    they are NaN unless the history reaches back to that start (a shorter history would not be a
    1-, 3- or 5-year return). Three and five years are annualised with exponents 1/3 and 1/5.
    Since inception is annualised with the GIPS rule, its length being the number of
    observations over ``periods_per_year``.
    """
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise ValueError("period_returns needs returns indexed by date (a DatetimeIndex)")
    end = returns.index[-1] if as_of is None else pd.Timestamp(as_of)
    history = returns.loc[:end]
    if history.empty:
        raise ValueError(f"no returns on or before {end.date()}")
    dates = history.index

    def linked_since(start: pd.Timestamp, *, inclusive: bool) -> float:
        window = history[dates >= start] if inclusive else history[dates > start]
        return float(np.prod(1.0 + window.to_numpy(dtype=np.float64)) - 1.0)

    def trailing(years: int) -> float:
        start = end - pd.DateOffset(years=years)
        if dates[0] > start:
            return float("nan")
        annualised: float = (1.0 + linked_since(start, inclusive=False)) ** (1.0 / years) - 1.0
        return annualised

    month_start = end.to_period("M").start_time
    quarter_start = end.to_period("Q").start_time
    year_start = end.to_period("Y").start_time
    observations = history.to_numpy(dtype=np.float64)
    return PeriodReturns(
        as_of=end,
        day=float(observations[-1]),
        month_to_date=linked_since(month_start, inclusive=True),
        quarter_to_date=linked_since(quarter_start, inclusive=True),
        year_to_date=linked_since(year_start, inclusive=True),
        one_year=trailing(1),
        three_years=trailing(3),
        five_years=trailing(5),
        since_inception=annualised_return(observations, periods_per_year),
    )


def calendar_table(returns: pd.Series) -> pd.DataFrame:
    """Monthly returns by year: rows are years, columns 1–12 and ``"year"``.

    Each cell links the returns dated in that month; ``"year"`` links the year's returns (for
    the first and last years, only the part of the year covered). A month with no observation,
    or with a missing (NaN) one, is NaN, and so is its year: a gap is never a zero return.
    """
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise ValueError("calendar_table needs returns indexed by date (a DatetimeIndex)")
    growth = 1.0 + returns.astype(np.float64)
    years = returns.index.year.rename("year")
    months = returns.index.month.rename("month")
    linked = _linked_by(growth, [years, months]).rename("linked").reset_index()
    monthly = linked.pivot_table(index="year", columns="month", values="linked", aggfunc="first")
    monthly = monthly.reindex(index=years.unique(), columns=range(1, 13))
    monthly["year"] = _linked_by(growth, [years])
    monthly.columns.name = None
    return monthly


def _linked_by(growth: pd.Series, keys: list[pd.Index]) -> pd.Series:
    """Link growth factors per group, NaN for a group with a missing value."""
    grouped = growth.groupby(keys)
    linked = grouped.prod() - 1.0
    return linked.where(grouped.count() == grouped.size())


def arithmetic_active_return(portfolio: ArrayLike, benchmark: ArrayLike) -> ArrayLike:
    """Arithmetic active return ``r_p − r_b``, elementwise (per period or over a whole period)."""
    return portfolio - benchmark


def geometric_active_return(portfolio: ArrayLike, benchmark: ArrayLike) -> ArrayLike:
    """Geometric active return ``(1 + r_p) / (1 + r_b) − 1`` (elementwise).

    Unlike the arithmetic difference it links over time: the geometric active returns of the
    sub-periods compound to the geometric active return of the whole period.
    """
    return (1.0 + portfolio) / (1.0 + benchmark) - 1.0
