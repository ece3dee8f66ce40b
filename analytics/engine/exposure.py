"""Exposures, concentration and risk-limit utilisation from holdings frames.

A *holdings frame* has one row per position (or per lot) with columns
``portfolio``, ``instrument``, ``market_value_base`` (market value in the
portfolio's base currency; negative for a short position) and any instrument
attribute columns (``sector``, ``industry``, ``country``, ``asset_class``,
``currency``, ``issuer``, ...). Many portfolios go in one frame and are
computed together with ``groupby``.

Conventions:

* Lots of the same instrument in a portfolio are netted before a position is
  classed as long (net value > 0) or short (net value < 0).
* Exposure is market value. Derivatives should arrive with their
  delta-adjusted exposure in ``market_value_base`` if that is what is wanted.
* The denominator is **net assets**: by default the sum of
  ``market_value_base`` over all of the portfolio's rows (longs, shorts and
  cash rows), or the ``net_assets`` series the caller passes (e.g. the
  accounting NAV with accruals). Fractions are NaN for a portfolio whose net
  assets are not positive.
* A missing market value is an error, never a silent zero: value the holding
  or drop it before calling.
* A holding whose attribute is missing is grouped under ``"Unclassified"``
  rather than dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import pandas as pd

UNCLASSIFIED = "Unclassified"
"""Group label for holdings whose grouping attribute is missing."""

PORTFOLIO = "portfolio"
INSTRUMENT = "instrument"
MARKET_VALUE = "market_value_base"


def _check_holdings(holdings: pd.DataFrame, attributes: Sequence[str]) -> None:
    missing = {PORTFOLIO, INSTRUMENT, MARKET_VALUE, *attributes}.difference(holdings.columns)
    if missing:
        raise ValueError(f"holdings frame lacks columns {sorted(missing)}")
    if holdings[MARKET_VALUE].isna().any():
        unvalued = holdings.loc[holdings[MARKET_VALUE].isna(), [PORTFOLIO, INSTRUMENT]]
        raise ValueError(f"holdings without a market value: {unvalued.to_dict('records')[:5]}")


def _net_positions(holdings: pd.DataFrame, attributes: Sequence[str]) -> pd.DataFrame:
    """One row per (portfolio, instrument, attributes...) with lots netted."""
    frame = holdings[[PORTFOLIO, INSTRUMENT, MARKET_VALUE, *attributes]].copy()
    for attribute in attributes:
        frame[attribute] = frame[attribute].astype(object).fillna(UNCLASSIFIED)
    keys = [PORTFOLIO, INSTRUMENT, *attributes]
    return frame.groupby(keys, sort=True)[MARKET_VALUE].sum().reset_index()


def _denominator(holdings: pd.DataFrame, net_assets: pd.Series | None) -> pd.Series:
    if net_assets is None:
        net_assets = holdings.groupby(PORTFOLIO)[MARKET_VALUE].sum()
    return net_assets.where(net_assets > 0)


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def exposures(
    holdings: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = "sector",
    net_assets: pd.Series | None = None,
) -> pd.DataFrame:
    """Long, short, gross and net exposure per portfolio and group, as fractions of net assets.

    ``by`` names one attribute column, several (nested groups), or ``None``
    for one row per portfolio. Columns of the result:

    * ``long``: sum of positive net positions / net assets (>= 0)
    * ``short``: sum of negative net positions / net assets (<= 0, sign kept)
    * ``gross``: ``long - short`` (sum of absolute positions)
    * ``net``: ``long + short``

    The index is ``portfolio`` followed by the ``by`` columns. Over all groups
    of a portfolio, ``net`` adds up to 1 when the default denominator is used.
    See the module docstring for netting, the denominator and missing data.
    """
    attributes = _as_list(by)
    _check_holdings(holdings, attributes)
    positions = _net_positions(holdings, attributes)
    values = positions[MARKET_VALUE]
    positions["long"] = values.clip(lower=0.0)
    positions["short"] = values.clip(upper=0.0)
    result = positions.groupby([PORTFOLIO, *attributes], sort=True)[["long", "short"]].sum()
    denominator = _denominator(holdings, net_assets)
    portfolio_level = result.index.get_level_values(PORTFOLIO) if attributes else result.index
    result = result.div(denominator.reindex(portfolio_level).to_numpy(), axis=0)
    result["gross"] = result["long"] - result["short"]
    result["net"] = result["long"] + result["short"]
    return result


def concentration(
    holdings: pd.DataFrame,
    *,
    top_n: int = 10,
    net_assets: pd.Series | None = None,
) -> pd.DataFrame:
    """Concentration of each portfolio's positions (index: portfolio).

    Positions are netted per instrument and weighted by absolute value, so a
    short counts as much as a long of the same size. Cash rows count as
    holdings: filter them out first if they should not. Columns:

    * ``top_n_weight``: sum of the ``top_n`` largest absolute positions / net
      assets (same denominator as :func:`exposures`)
    * ``herfindahl``: ``sum w_i^2`` with ``w_i = |MV_i| / sum_j |MV_j|``
      (weights normalised by gross, so it lies in (0, 1])
    * ``effective_holdings``: ``1 / herfindahl``
    * ``holdings``: number of non-zero net positions
    """
    if top_n < 1:
        raise ValueError("top_n must be at least 1")
    _check_holdings(holdings, [])
    positions = _net_positions(holdings, [])
    positions["absolute"] = positions[MARKET_VALUE].abs()
    positions = positions[positions["absolute"] > 0]
    by_portfolio = positions.groupby(PORTFOLIO)["absolute"]
    gross = by_portfolio.sum()
    weights = positions["absolute"] / positions[PORTFOLIO].map(gross)
    herfindahl = (weights**2).groupby(positions[PORTFOLIO]).sum()
    largest = positions.sort_values([PORTFOLIO, "absolute"], ascending=[True, False])
    top_sum = largest.groupby(PORTFOLIO).head(top_n).groupby(PORTFOLIO)["absolute"].sum()
    denominator = _denominator(holdings, net_assets).reindex(gross.index)
    return pd.DataFrame(
        {
            "top_n_weight": top_sum / denominator,
            "herfindahl": herfindahl,
            "effective_holdings": 1.0 / herfindahl,
            "holdings": by_portfolio.size(),
        }
    )


class LimitStatus(StrEnum):
    """How close a value is to its limit."""

    OK = "ok"
    WARNING = "warning"
    BREACH = "breach"
    NO_VALUE = "no_value"


def limit_utilisation(
    values: pd.DataFrame,
    limits: pd.DataFrame,
    *,
    warning_level: float = 0.9,
) -> pd.DataFrame:
    """Utilisation of each risk limit: ``value / limit``, with a status.

    ``values`` has columns ``portfolio``, ``metric``, ``value``; ``limits`` has
    ``portfolio``, ``metric``, ``limit`` (one row per pair). Limits are maxima
    on the value in the limit's direction: a limit of 1.5 on gross exposure or
    of -0.3 on short exposure, each compared with a value of the same sign, so
    utilisation is the fraction of the allowance used. A limit of 0 is used 0
    by a value of 0 and infinitely by anything else.

    Status: ``breach`` when utilisation > 1, ``warning`` when it is at least
    ``warning_level`` (default 90 %; a ``warning_level`` column in ``limits``
    sets it per limit), ``ok`` below, and ``no_value`` when a
    limit has no value to compare (never silently "ok"). Values without a
    limit are not reported. One row per limit, in the order of ``limits``.
    """
    levels = (
        limits["warning_level"].to_numpy(float)
        if "warning_level" in limits
        else np.full(len(limits), warning_level)
    )
    if not ((levels > 0) & (levels <= 1)).all():
        raise ValueError("warning_level must be in (0, 1]")
    keys = [PORTFOLIO, "metric"]
    if limits.duplicated(keys).any():
        raise ValueError("limits must have one row per (portfolio, metric)")
    if values.duplicated(keys).any():
        raise ValueError("values must have one row per (portfolio, metric)")
    if limits["limit"].isna().any():
        raise ValueError("every limit must have a number")
    result = limits[[*keys, "limit"]].merge(values[[*keys, "value"]], on=keys, how="left")
    limit, value = result["limit"].to_numpy(float), result["value"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(limit == 0, np.where(value == 0, 0.0, np.inf), value / limit)
    utilisation = np.where(np.isnan(value), np.nan, utilisation)
    result["utilisation"] = utilisation
    result["status"] = np.select(
        [np.isnan(utilisation), utilisation > 1, utilisation >= levels],
        [LimitStatus.NO_VALUE.value, LimitStatus.BREACH.value, LimitStatus.WARNING.value],
        default=LimitStatus.OK.value,
    )
    return result[[*keys, "value", "limit", "utilisation", "status"]]
