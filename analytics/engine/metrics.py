"""The full metric table of many portfolios against one benchmark, in one vectorised pass.

``metric_table`` is what the ``metrics`` management command, reports and dashboards call. It
computes every metric for all portfolios at once on a dates × portfolios array, sharing the
expensive intermediates: one set of sample moments, one ``log(1 + r)`` matrix, one underwater
curve and one extraction of each column's tails for all historical quantiles.

Conventions: see :data:`METRICS` and the modules each metric comes from; in short simple
periodic returns, annual risk-free rate converted per period as ``(1 + rf)^(1/N) − 1``, ddof = 1
volatilities, negative drawdowns, positive VaR/CVaR loss fractions, √N annualisation.

Missing values: a portfolio may start later than the file (leading blanks are "not yet
incepted"); each portfolio's metrics use its own observations from its first return on, and
``n_obs`` says how many. A blank *after* a portfolio's first return is rejected: a missing
return is not a zero, and skipping it would silently link across the gap. The benchmark must
have a return on every date on which any portfolio has one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.engine import _quantiles, drawdown, ratios, relative, var
from analytics.engine.returns import periodic_rate

METRICS: dict[str, str] = {
    "n_obs": "number of returns used (the portfolio's own, from its first return)",
    "cumulative_return": "linked return over the whole history, ∏(1 + r) − 1",
    "cagr": "compound annual growth rate, (1 + cumulative)^(N / n_obs) − 1, always annualised",
    "annual_volatility": "std (ddof 1) × √N",
    "sharpe": "mean(r − rf) / std(r − rf) × √N, rf per period (constant or a series)",
    "sortino": "mean(r − rf) × N / downside deviation (target rf)",
    "downside_deviation": "√mean(min(r − rf, 0)²) over all observations × √N",
    "calmar": "cagr / |max_drawdown| (null without a drawdown)",
    "omega": "Σ gains above rf / Σ losses below rf",
    "max_drawdown": "deepest fall from a running peak, a negative fraction",
    "max_drawdown_duration": "periods of the longest drawdown, peak to recovery or to the end",
    "skew": "bias-corrected skewness (pandas)",
    "kurtosis": "bias-corrected excess kurtosis (pandas)",
    "tail_ratio": "|95th percentile| / |5th percentile|",
    "var_historical": "−(100(1 − c))-th percentile, numpy linear rule; a positive loss",
    "cvar_historical": "−mean of the worst ⌊(n − 1)(1 − c)⌋ + 1 returns",
    "var_normal": "−(μ + Φ⁻¹(1 − c) σ)",
    "cvar_normal": "−(μ − σ φ(Φ⁻¹(1 − c)) / (1 − c))",
    "var_cornish_fisher": "normal VaR with the Cornish-Fisher quantile (skew, excess kurtosis)",
    "beta": "cov(r, b) / var(b)",
    "alpha": "(1 + mean daily Jensen alpha)^N − 1",
    "correlation": "Pearson correlation with the benchmark",
    "tracking_error": "std(r − b, ddof 1) × √N",
    "information_ratio": "mean(r − b) / std(r − b) × √N",
    "up_capture": "CAGR(r) / CAGR(b) on dates with b > 0",
    "down_capture": "CAGR(r) / CAGR(b) on dates with b < 0",
}

# Portfolios computed together. A block of 2,520 daily returns × 200 portfolios (4 MB) and its
# two work arrays stay in the processor's cache through the dozen passes the metrics make over
# them, where the whole matrix would go to memory and back on each pass (1.5× slower for
# 1,000 portfolios); much smaller blocks pay the fixed cost of each numpy call too often.
COLUMNS_PER_BLOCK = 200

# A simple return below −100 % is impossible; when half of a column's values move 50 % or more
# a period, they are almost surely price levels (or percentages such as 1.2 for 1.2 %).
PRICE_LIKE_SIZE = 0.5


class ReturnsDataError(ValueError):
    """Input that the engine refuses, naming the column and row (a date) where known."""

    def __init__(self, problem: str, *, column: object = None, row: object = None) -> None:
        self.problem, self.column, self.row = problem, column, row
        where = ", ".join(
            part
            for part in (
                f"column {column!r}" if column is not None else "",
                f"row {_label(row)}" if row is not None else "",
            )
            if part
        )
        super().__init__(f"{where}: {problem}" if where else problem)


@dataclass(frozen=True)
class _Inception:
    """Portfolios whose first return is on the same row (they share one dense block)."""

    first_row: int
    columns: np.ndarray


def metric_table(
    returns: pd.DataFrame,
    benchmark: pd.Series,
    *,
    risk_free: float = 0.0,
    risk_free_returns: pd.Series | None = None,
    periods_per_year: int = 252,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Every metric in :data:`METRICS` for every column of ``returns``: portfolios × metrics.

    ``returns`` holds simple periodic returns, dates × portfolios; ``benchmark`` the benchmark's
    returns on the same dates. ``risk_free`` is annual; ``confidence`` is the VaR confidence.
    ``risk_free_returns``, when given, replaces ``risk_free``: the risk-free return of each
    period (a fraction per period, not annual) on the same dates as ``returns``. Sharpe,
    Sortino, the downside deviation and Omega are then computed on the periodic excess
    returns ``r_t − rf_t`` (Sharpe's spread is the excess return's, ddof 1), and alpha
    subtracts the mean periodic risk-free return of each portfolio's dates (beta is the raw
    returns' beta).
    Raises :class:`ReturnsDataError` for input that would give wrong numbers (module docstring).

    Columns are computed together; the only loop is over distinct inception dates (usually one),
    because portfolios starting on different dates have histories of different lengths.
    """
    _quantiles.tail_probability(confidence)  # validates confidence before any work
    if not returns.index.equals(benchmark.index):
        raise ReturnsDataError("benchmark dates differ from the portfolios' dates")
    if returns.shape[1] == 0:
        raise ReturnsDataError("no portfolio columns")
    check_returns(returns)
    name = benchmark.name if benchmark.name is not None else "benchmark"
    check_returns(benchmark.to_frame(name=name))
    values = returns.to_numpy(dtype=np.float64)
    bench = benchmark.to_numpy(dtype=np.float64)
    groups = _inceptions(values)
    _check_benchmark_covers(returns, bench, groups)
    rates: np.ndarray | None = None
    if risk_free_returns is not None:
        if not risk_free_returns.index.equals(returns.index):
            raise ReturnsDataError("risk-free dates differ from the portfolios' dates")
        rates = risk_free_returns.to_numpy(dtype=np.float64)
        if not np.isfinite(rates).all():
            raise ReturnsDataError("the risk-free series has a missing or infinite value")
    rate = periodic_rate(risk_free, periods_per_year)
    table = np.empty((returns.shape[1], len(METRICS)))
    for group in groups:
        for start in range(0, len(group.columns), COLUMNS_PER_BLOCK):
            columns = group.columns[start : start + COLUMNS_PER_BLOCK]
            # Columns stay contiguous (dates run down each column), as in the frame's memory.
            block = values.T[columns, group.first_row :].T
            metrics = _block_metrics(
                block,
                bench[group.first_row :],
                rate if rates is None else rates[group.first_row :],
                periods_per_year,
                confidence,
            )
            table[columns] = np.column_stack([metrics[name] for name in METRICS])
    result = pd.DataFrame(table, index=returns.columns, columns=list(METRICS))
    result["n_obs"] = result["n_obs"].astype(np.int64)
    result.index.name = "portfolio"
    return result


def check_returns(frame: pd.DataFrame) -> None:
    """Reject what cannot be a table of simple returns (raises :class:`ReturnsDataError`).

    Fewer than 2 dates; an infinite value; a column with fewer than 2 returns; a blank after a
    column's first return; a return below −100 %; a column in which at least half of the values
    are 0.5 or more in absolute value (price levels, or percentages such as 1.2 for 1.2 %, not
    fractions). All columns are checked at once; the first offending one is reported.
    """
    if len(frame) < 2:
        raise ReturnsDataError(f"need at least 2 dates of returns, got {len(frame)}")
    values = frame.to_numpy(dtype=np.float64)
    # One cheap pass settles the usual case: no blank and no infinity anywhere.
    if not np.isfinite(values.sum()):
        _check_missing(frame, values)
    lows, highs = np.fmin.reduce(values, axis=0), np.fmax.reduce(values, axis=0)  # skip NaN
    if (lows < -1.0).any():
        row, position = np.argwhere(values < -1.0)[0]
        raise ReturnsDataError(
            f"return {float(values[row, position]):g} is below -100 %",
            column=frame.columns[position],
            row=frame.index[row],
        )
    # Only columns with a move of 50 % or more can be price-like: count in those alone.
    flagged = np.flatnonzero(np.maximum(-lows, highs) >= PRICE_LIKE_SIZE)
    if flagged.size:
        magnitudes = np.abs(values[:, flagged])
        with np.errstate(invalid="ignore"):
            large = np.count_nonzero(magnitudes >= PRICE_LIKE_SIZE, axis=0)
        observed = np.count_nonzero(~np.isnan(magnitudes), axis=0)
        price_like = np.flatnonzero(2 * large >= observed)
        if price_like.size:
            first = price_like[0]
            raise ReturnsDataError(
                f"values look like price levels or percentages, not simple returns: "
                f"{large[first]} of {observed[first]} are {PRICE_LIKE_SIZE} or more in absolute "
                "value; give returns as fractions, 0.012 for 1.2 %",
                column=frame.columns[flagged[first]],
            )


def _check_missing(frame: pd.DataFrame, values: np.ndarray) -> None:
    """Reject infinities, gaps after a column's first return, and columns with < 2 returns."""
    columns, index = frame.columns, frame.index
    infinite = np.isinf(values)
    if infinite.any():
        row, position = np.argwhere(infinite)[0]
        raise ReturnsDataError("not a finite number", column=columns[position], row=index[row])
    present = ~np.isnan(values)
    count = np.count_nonzero(present, axis=0)
    too_short = np.flatnonzero(count < 2)
    if too_short.size:
        raise ReturnsDataError("need at least 2 returns", column=columns[too_short[0]])
    # Leading blanks are rows before the first return; any other blank is a gap.
    first = present.argmax(axis=0)
    gapped = np.flatnonzero(count + first < len(frame))
    if gapped.size:
        position = gapped[0]
        gap = first[position] + int(np.flatnonzero(~present[first[position] :, position])[0])
        raise ReturnsDataError(
            "missing return after the first one (a gap is not a zero return; fill it or "
            "drop the date)",
            column=columns[position],
            row=index[gap],
        )


def _inceptions(values: np.ndarray) -> list[_Inception]:
    """Group the columns by the row of their first return."""
    if np.isfinite(values.sum()):  # no blank anywhere: one group, without a pass per cell
        return [_Inception(first_row=0, columns=np.arange(values.shape[1]))]
    first = (~np.isnan(values)).argmax(axis=0)
    return [
        _Inception(first_row=int(row), columns=np.flatnonzero(first == row))
        for row in np.unique(first)
    ]


def _check_benchmark_covers(
    returns: pd.DataFrame, bench: np.ndarray, groups: list[_Inception]
) -> None:
    earliest = groups[0].first_row
    uncovered = np.flatnonzero(np.isnan(bench[earliest:]))
    if uncovered.size:
        row = earliest + int(uncovered[0])
        portfolio = returns.columns[groups[0].columns[0]]
        raise ReturnsDataError(
            f"benchmark has no return on a date where portfolio {portfolio!r} has one",
            column="benchmark",
            row=returns.index[row],
        )


def _block_metrics(
    block: np.ndarray,
    bench: np.ndarray,
    rate: float | np.ndarray,
    periods_per_year: int,
    confidence: float,
) -> dict[str, np.ndarray]:
    """All metrics of a dense (T, P) block of returns without missing values.

    ``rate`` is the risk-free return per period: one number, or one per date (T,).
    """
    n, portfolios = block.shape
    # Two (T, P) work arrays serve every step in turn: fresh arrays of this size would each cost
    # page faults comparable to the arithmetic done in them. Column-major views suit the
    # reductions over dates, row-major views of the same memory suit the scans along dates.
    first, second = np.empty((portfolios, n)), np.empty((portfolios, n))
    by_column = (first.T, second.T)
    by_date = (first.reshape(n, portfolios), second.reshape(n, portfolios))
    moments = ratios.sample_moments(block, scratch=by_column)
    if isinstance(rate, np.ndarray):
        # A risk-free return per date: the ratios over rf are the excess returns' ratios
        # over 0, and the mean rate is what a linear statistic (alpha) subtracts.
        excess = block - rate[:, np.newaxis]
        sharpe = ratios.sharpe_from_moments(
            ratios.sample_moments(excess, scratch=by_column), 0.0, periods_per_year
        )
        shortfall = ratios.shortfall_sums(excess, 0.0, scratch=by_column[0])
        mean_rate = float(rate.mean())
        excess_mean = moments.mean - mean_rate
        del excess
    else:
        sharpe = ratios.sharpe_from_moments(moments, rate, periods_per_year)
        shortfall = ratios.shortfall_sums(block, rate, scratch=by_column[0])
        mean_rate, excess_mean = rate, moments.mean - rate
    downside = shortfall.downside_deviation(periods_per_year)
    with np.errstate(divide="ignore"):  # a −100 % return is log(0) = −inf
        log_growth = np.log1p(block, out=by_column[1])
    total_log_growth = log_growth.sum(axis=0)
    cumulative = np.expm1(total_log_growth)
    cagr = np.expm1(total_log_growth * (periods_per_year / n))
    up_capture = relative.capture(log_growth, bench, bench > 0.0, periods_per_year)
    down_capture = relative.capture(log_growth, bench, bench < 0.0, periods_per_year)
    curve = drawdown.underwater_matrix(block, scratch=by_date)
    deepest = curve.min(axis=0)
    tail = _quantiles.tail_probability(confidence)
    count = _quantiles.lower_tail_count(n, tail)
    ranks = [count - 1]
    for q in (tail, *ratios.TAIL_RATIO_QUANTILES):
        ranks.extend(_quantiles.percentile_ranks(n, q))
    extremes = _quantiles.tails(block, ranks, moments.mean, moments.std)
    centred = bench - bench.mean()
    co_moment = centred @ block
    slope = relative.beta_from_co_moment(co_moment, centred @ centred, n)
    tracking, information = relative.active_statistics(
        block, bench, moments, co_moment, periods_per_year
    )
    spread = moments.std * np.sqrt(n - 1.0)
    return {
        "n_obs": np.full(block.shape[1], n),
        "cumulative_return": cumulative,
        "cagr": cagr,
        "annual_volatility": moments.std * np.sqrt(periods_per_year),
        "sharpe": sharpe,
        "sortino": ratios.sortino_from_parts(excess_mean, downside, 0.0, periods_per_year),
        "downside_deviation": downside,
        "calmar": ratios.calmar_from_parts(cagr, deepest),
        "omega": shortfall.omega(excess_mean + shortfall.target),
        "max_drawdown": deepest,
        "max_drawdown_duration": drawdown.durations_from_curve(curve),
        "skew": moments.skew,
        "kurtosis": moments.kurtosis,
        "tail_ratio": ratios.tail_ratio_from_tails(extremes),
        "var_historical": -extremes.percentile(tail),
        "cvar_historical": -extremes.lower_mean(count),
        "var_normal": var.normal_var_from_moments(moments, confidence),
        "cvar_normal": var.normal_cvar_from_moments(moments, confidence),
        "var_cornish_fisher": var.cornish_fisher_var_from_moments(moments, confidence),
        "beta": slope,
        "alpha": relative.alpha_from_parts(
            moments.mean, float(bench.mean()), slope, mean_rate, periods_per_year
        ),
        "correlation": relative.correlation_from_parts(
            co_moment, spread, float(np.sqrt(centred @ centred))
        ),
        "tracking_error": tracking,
        "information_ratio": information,
        "up_capture": up_capture,
        "down_capture": down_capture,
    }


def _label(row: object) -> str:
    """A date as ``2024-01-31``, anything else as itself."""
    if isinstance(row, pd.Timestamp):
        text: str = row.strftime("%Y-%m-%d") if row == row.normalize() else row.isoformat()
        return text
    return str(row)
