"""Market data of the demo: the real index and factor series shipped by ``arch``,
and the synthetic instrument prices and FX rates anchored on them. Pure
numpy/pandas: nothing here touches the database.

* Calendar: the S&P 500 trading days from 2013-01-02 to 2018-12-31 (1,510 days,
  the NYSE calendar). Every demo instrument, whatever its exchange, is priced on
  these days; local exchange holidays are not modelled (a simplification: the
  positions then have no gaps that the demo did not mean to show).
* Equity returns (local currency): ``r = beta × r_S&P500 + sector factor +
  country factor + idiosyncratic noise + drift``, with the real S&P 500 daily
  return. A second share class repeats its twin's returns plus a little noise.
  Bonds follow a low-volatility random walk with a small carry and a slightly
  negative equity beta; index ETFs track the real S&P 500 / NASDAQ returns.
* FX rates (**synthetic**): seeded random walks of the logarithm of EURUSD,
  GBPUSD, USDCHF, USDJPY and USDCAD from their end-2012 levels (1.32, 1.63, 0.92,
  86.8, 0.99) with realistic daily volatilities (0.40–0.58 %) and a weak pull back
  towards the start level (a half-life of about a year) so that six years later
  the rates are still in realistic ranges. Cross rates (EURGBP, EURJPY,
  GBPCHF, ...) are derived from the USD legs, so they are free of triangular
  arbitrage up to rounding.
* Benchmarks: the S&P 500 and NASDAQ Composite daily total returns are the real
  'Adj Close' changes; "Global Equity" is the market-cap-weighted return, in USD,
  of the demo's equities (constant shares outstanding, so it is a price index).
  The equities' local returns are anchored so that their cap-weighted mean is the
  real S&P 500 each day: the index differs from the S&P 500 by its currencies and
  by the drift of its weights, and falls in 2018 as the S&P 500 did. The blended
  benchmarks of the multi-asset funds mix "Global Equity" or the S&P 500 with the
  demo's government bonds, rebalanced daily (see ``blended_benchmark``).
* Factors: the real monthly Fama-French Mkt-RF, SMB, HML and RF, as fractions.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

FIRST_DAY = "2013-01-02"
LAST_DAY = "2018-12-31"

# Level on 2012-12-31 and daily volatility of each USD leg (base, quote): about the
# realised daily volatility of 2013-2018 (EUR/USD about 0.5 %, so a month's move
# is about 2.2 % (0.47 % × √21) and one beyond 5 % a rare tail).
FX_LEGS = {
    ("EUR", "USD"): (1.3194, 0.0047),
    ("GBP", "USD"): (1.6255, 0.0050),
    ("USD", "CHF"): (0.9155, 0.0052),
    ("USD", "JPY"): (86.75, 0.0058),
    ("USD", "CAD"): (0.9921, 0.0040),
}
# Crosses stored so that EUR- and GBP-based portfolios find a direct or inverse
# pair for every currency they hold.
FX_CROSSES = [
    ("EUR", "GBP"),
    ("EUR", "CHF"),
    ("EUR", "JPY"),
    ("EUR", "CAD"),
    ("GBP", "CHF"),
    ("GBP", "JPY"),
    ("GBP", "CAD"),
]
FX_DECIMALS = 6
FX_MEAN_REVERSION = 0.003  # per day: a half-life of ln 2 / 0.003 ≈ 230 trading days
PRICE_DECIMALS = 4

SECTOR_FACTOR_DAILY_VOL = 0.005
COUNTRY_FACTOR_DAILY_VOL = 0.004


def index_returns() -> pd.DataFrame:
    """Real daily simple returns of the S&P 500 and NASDAQ Composite ('Adj Close'),
    columns ``sp500`` and ``nasdaq``, indexed by the demo's trading days. The first
    day's return is measured from the last close of 2012."""
    from arch.data import nasdaq, sp500

    levels = pd.DataFrame(
        {"sp500": sp500.load()["Adj Close"], "nasdaq": nasdaq.load()["Adj Close"]}
    ).sort_index()
    returns = levels.pct_change().loc[FIRST_DAY:LAST_DAY]
    returns.index = pd.DatetimeIndex(returns.index).normalize()
    if returns.isna().to_numpy().any():
        raise ValueError("the arch index data has gaps in the demo window")
    return returns


def factor_returns() -> pd.DataFrame:
    """Real monthly Fama-French factors as fractions, long format with columns
    ``factor``, ``date`` (the month's last day) and ``value``, for every month the
    data set has (July 1926 onwards).

    ``arch.data.frenchdata.load()`` mis-parses its yyyymm index as nanoseconds
    since the epoch; the integer is recovered with ``astype('int64')``.
    """
    from arch.data import frenchdata

    factors = frenchdata.load()
    yyyymm = factors.index.astype("int64")
    month_ends = pd.to_datetime(
        {"year": yyyymm // 100, "month": yyyymm % 100, "day": 1}
    ) + pd.offsets.MonthEnd(0)
    factors = factors.set_axis(pd.DatetimeIndex(month_ends).date, axis=0) / 100.0
    long = (
        factors.rename_axis("date")
        .reset_index()
        .melt(id_vars="date", var_name="factor", value_name="value")
    )
    return long.dropna()[["factor", "date", "value"]]


def simulate_fx(*, calendar: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    """USD value of one unit of each currency on every trading day (columns USD,
    EUR, GBP, CHF, JPY, CAD), from seeded geometric random walks of the USD legs."""
    usd_per_unit = {"USD": np.ones(len(calendar))}
    for (base, quote), (level, daily_vol) in FX_LEGS.items():
        shocks = rng.normal(0.0, daily_vol, len(calendar))
        deviation = np.empty(len(calendar))
        previous = 0.0
        for day, shock in enumerate(shocks):  # AR(1) in logs: 1,510 steps, cheap
            previous = (1.0 - FX_MEAN_REVERSION) * previous + shock
            deviation[day] = previous
        path = np.round(level * np.exp(deviation), FX_DECIMALS)
        if quote == "USD":
            usd_per_unit[base] = path
        else:
            usd_per_unit[quote] = 1.0 / path
    return pd.DataFrame(usd_per_unit, index=calendar)


def fx_rate_rows(usd_per_unit: pd.DataFrame) -> pd.DataFrame:
    """The stored FX rates in long format (date, base_currency, quote_currency,
    rate): the five USD legs and the crosses, units of quote per unit of base."""
    frames = []
    for base, quote in [*FX_LEGS, *FX_CROSSES]:
        rate = (usd_per_unit[base] / usd_per_unit[quote]).round(FX_DECIMALS)
        frames.append(
            pd.DataFrame(
                {
                    "date": usd_per_unit.index.date,
                    "base_currency": base,
                    "quote_currency": quote,
                    "rate": rate.to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def simulate_closes(
    *, universe: pd.DataFrame, indices: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Daily closes (trading days × instruments, local currency, rounded to 4
    decimals) of every instrument in ``universe``; column i is universe row i."""
    days, count = len(indices), len(universe)
    market = indices["sp500"].to_numpy()
    sectors = pd.Categorical(universe["sector"])
    countries = pd.Categorical(universe["country"])
    sector_factor = rng.normal(0, SECTOR_FACTOR_DAILY_VOL, (days, len(sectors.categories)))
    country_factor = rng.normal(0, COUNTRY_FACTOR_DAILY_VOL, (days, len(countries.categories)))
    # Idiosyncratic volatility 15-45 % a year, a drift of ±4 % a year around zero.
    idio_vol = np.exp(rng.normal(np.log(0.25), 0.3, count)).clip(0.15, 0.45) / np.sqrt(252)
    drift = rng.normal(0, 0.04, count) / 252
    noise = rng.standard_normal((days, count)) * idio_vol

    returns = (
        market[:, None] * universe["beta"].to_numpy()
        + sector_factor[:, sectors.codes]
        + country_factor[:, countries.codes]
        + noise
        + drift
    )
    twins = universe["twin_of"].to_numpy()
    for position in np.flatnonzero(twins >= 0):
        returns[:, position] = returns[:, twins[position]] + rng.normal(0, 0.002, days)
    returns = _anchored_on_the_market(returns, universe, market)

    follows = universe["follows"].to_numpy()
    bonds = follows == "bond"
    if bonds.any():
        carry = 0.02 / 252
        returns[:, bonds] = (
            -0.05 * market[:, None] + carry + rng.normal(0, 0.0025, (days, int(bonds.sum())))
        )
    returns[:, follows == "sp500"] = (market + rng.normal(0, 0.0002, days))[:, None]
    returns[:, follows == "nasdaq"] = (indices["nasdaq"].to_numpy() + rng.normal(0, 0.0002, days))[
        :, None
    ]

    growth = np.cumprod(1.0 + np.clip(returns, -0.5, 1.0), axis=0)
    closes = np.round(universe["first_price"].to_numpy() * growth, PRICE_DECIMALS)
    return pd.DataFrame(closes, index=indices.index)


def _anchored_on_the_market(
    returns: np.ndarray, universe: pd.DataFrame, market: np.ndarray
) -> np.ndarray:
    """The equities' local returns shifted each day by one common amount so that their
    cap-weighted mean (weights: the market caps on 2012-12-31) is the real S&P 500
    return that day.

    Without it the shared sector and country factors, the drifts and the betas
    (cap-weighted mean about 0.95) add up to a market of their own: the demo's
    "Global Equity" index rose in 2018 while the S&P 500 it is built on fell 6.2 %.
    The shift moves no stock against another, so dispersion, sector and country
    effects are kept.
    """
    equities = universe["follows"].to_numpy() == "equity"
    caps = universe["market_cap_usd"].to_numpy(dtype=np.float64)[equities]
    weights = caps / caps.sum()
    residual = returns[:, equities] @ weights - market
    shifted = returns.copy()
    shifted[:, equities] -= residual[:, None]
    return shifted


def global_equity_benchmark(
    *,
    universe: pd.DataFrame,
    closes: pd.DataFrame,
    usd_per_unit: pd.DataFrame,
    first_fx: pd.Series,
) -> tuple[pd.Series, pd.DataFrame]:
    """Daily returns (USD) and month-end weights of the cap-weighted "Global
    Equity" benchmark of the demo's equities.

    Shares outstanding are constant (market cap on 2012-12-31 / first price), so
    the weight of a stock is its share of the total USD market cap at a close and
    the benchmark's return is the change of the total cap. Returns the daily
    returns (index: trading days) and the weights (rows: last trading day of each
    month, columns: universe row positions of the equities).
    """
    equities = np.flatnonzero(universe["asset_class"].to_numpy() == "equity")
    currencies = universe["currency"].to_numpy()[equities]
    shares = universe["shares_outstanding"].to_numpy()[equities]
    fx = usd_per_unit[currencies].to_numpy()
    caps = closes.iloc[:, equities].to_numpy() * fx * shares
    first_caps = universe["first_price"].to_numpy()[equities] * first_fx[currencies].to_numpy()
    total = caps.sum(axis=1)
    previous = np.concatenate([[(first_caps * shares).sum()], total[:-1]])
    returns = pd.Series(total / previous - 1.0, index=closes.index)

    month_end = closes.index.to_series().groupby(closes.index.to_period("M")).max()
    rows = closes.index.get_indexer(month_end.to_numpy())
    weights = pd.DataFrame(
        caps[rows] / total[rows, None], index=month_end.to_numpy(), columns=equities
    )
    return returns, weights


def government_bond_index(
    *, universe: pd.DataFrame, closes: pd.DataFrame, usd_per_unit: pd.DataFrame, first_fx: pd.Series
) -> tuple[pd.Series, np.ndarray]:
    """Daily returns (USD) of an equal-weighted index of the demo's government bonds
    (the fixed-income rows), rebalanced to equal weights every day, and the
    universe row positions of those bonds. The first day's return is measured from
    the bonds' first prices at the 2012-12-31 rates."""
    bonds = np.flatnonzero(universe["asset_class"].to_numpy() == "fixed_income")
    currencies = universe["currency"].to_numpy()[bonds]
    in_usd = closes.iloc[:, bonds].to_numpy() * usd_per_unit[currencies].to_numpy()
    first = universe["first_price"].to_numpy()[bonds] * first_fx[currencies].to_numpy()
    previous = np.vstack([first, in_usd[:-1]])
    return pd.Series((in_usd / previous - 1.0).mean(axis=1), index=closes.index), bonds


def blended_benchmark(
    *,
    equity_share: float,
    equity_returns: pd.Series,
    equity_weights: pd.DataFrame,
    bond_returns: pd.Series,
    bond_positions: np.ndarray,
) -> tuple[pd.Series, pd.DataFrame]:
    """A blend of the equity index and the government bond index, rebalanced daily to
    ``equity_share`` (e.g. 0.6 for 60/40): each day's return is
    ``share × equity + (1 − share) × bonds``. Its month-end weights are the equity
    index's scaled by the share plus the bonds' equal weights scaled by the rest
    (columns: universe row positions, as :func:`global_equity_benchmark`)."""
    returns = equity_share * equity_returns + (1.0 - equity_share) * bond_returns
    bonds = pd.DataFrame(
        (1.0 - equity_share) / len(bond_positions),
        index=equity_weights.index,
        columns=bond_positions,
    )
    return returns, pd.concat([equity_weights * equity_share, bonds], axis=1)


def first_fx_levels() -> pd.Series:
    """USD value of one unit of each currency on 2012-12-31 (the walks' start)."""
    levels = {"USD": 1.0}
    for (base, quote), (level, _) in FX_LEGS.items():
        if quote == "USD":
            levels[base] = level
        else:
            levels[quote] = 1.0 / level
    return pd.Series(levels)


def month_ends(calendar: pd.DatetimeIndex) -> list[dt.date]:
    """The last trading day of every month in ``calendar``."""
    series = calendar.to_series()
    return [day.date() for day in series.groupby(calendar.to_period("M")).max()]
