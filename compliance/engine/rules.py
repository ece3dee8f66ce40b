"""Compliance rules evaluated over holdings frames, many portfolios at once.

A *holdings frame* has one row per position (lots allowed; they are netted per
instrument) and these columns:

* ``portfolio`` (int), ``instrument`` (int), ``market_value_base`` (float, in the
  portfolio's base currency, negative for a short), ``quantity`` (float, signed);
* instrument attributes ``identifier``, ``issuer``, ``sector``, ``country``,
  ``asset_class`` (``cash``, ``fund``, ``equity``, ...), ``currency``,
  ``shares_outstanding`` (float, NaN when unknown) and ``is_government`` (bool);
  optionally ``issuer_group`` (the ultimate parent for consolidated accounts,
  blank when none) and ``issuer_type`` (``corporate``, ``government``,
  ``supranational``, ``covered_bond``; missing or blank is ``corporate``).
* The attribute ``issuer_group`` groups by the issuer's group where one is given
  and by the issuer otherwise (a company outside any group is its own body,
  UCITS Art. 52(5)). The ``issuer_types`` parameter keeps only holdings of those
  issuer types in a rule's numerator (net assets are unchanged).

Conventions (every rule kind):

* **Net assets** (NAV) are the sum of ``market_value_base`` over all of a
  portfolio's rows, cash included and shorts negative (the convention of
  :mod:`analytics.engine.exposure`). Weights are fractions of net assets except for
  the 1940 Act test, which uses **total assets** (the sum of the long rows). A
  portfolio whose denominator is not positive gets no value (status ``no_value``),
  never a silent "ok".
* The weight of a group (an instrument, issuer, sector, ...) is the absolute value
  of its *net* market value ÷ net assets: a 15 % net short in one issuer is as
  concentrated as a 15 % long. Minimum rules use the signed net weight.
* A missing attribute is grouped under ``"Unclassified"``, as in the analytics engine.
* **Utilisation** is ``value ÷ limit`` for a maximum and ``limit ÷ value`` for a
  minimum, so that for every kind 1 is the boundary and larger is worse. A limit of
  0 (restricted lists) is used 0 by a value of 0 and infinitely by anything else.
* **Status**: ``breach`` when utilisation > 1, ``warning`` when it is at least the
  rule's ``warning_level`` (e.g. 0.9: warn at 90 % of the limit), ``ok`` below, and
  ``no_value`` when the value cannot be computed. Limits are inclusive ("at most
  10 %" allows exactly 10 %); comparisons allow a relative rounding tolerance of
  1e-9 so that 0.1 ÷ 0.1 computed as 1.0000000000000002 is not a breach. Watch-list
  rules never go beyond ``warning``.
* **Tests at acquisition** (:data:`ACQUISITION_TESTS`: the 1940 Act's 75-5-10, whose
  §5(c) keeps a fund diversified when market moves alone take it out of the basket):
  a failure of the holdings is ``restricted`` (acquisitions restricted), not a
  breach. It becomes a ``breach`` only when the portfolio's own trades caused or
  worsened it (:func:`classify_trades`, given the holdings without those trades).

Evaluation is vectorised across portfolios: each attribute is factorised once and
per-(portfolio, group) sums are ``np.bincount`` over the combined codes, shared by
every rule that needs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from compliance.engine import risk as risk_engine
from compliance.engine.kinds import Direction, RuleKind
from compliance.engine.specs import RiskInputs, RuleSpec, RuleValues

TOLERANCE = 1e-9
"""Relative rounding tolerance of every comparison with a limit or a threshold."""

UNCLASSIFIED = "Unclassified"


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACH = "breach"
    RESTRICTED = "restricted"
    NO_VALUE = "no_value"


ACQUISITION_TESTS = frozenset({RuleKind.DIVERSIFIED_FUND})
"""Kinds that limit what the portfolio may acquire rather than what it may hold: a
failure by market moves alone is :attr:`Status.RESTRICTED`, a failure that the
portfolio's trades caused or worsened a breach (:func:`classify_trades`)."""


RESULT_COLUMNS = ["rule", "portfolio", "value", "limit", "utilisation", "status", "group", "detail"]


class _Holdings:
    """A holdings frame factorised once; caches shared by all rules."""

    def __init__(self, holdings: pd.DataFrame, portfolios: Sequence[int] | None):
        missing = {"portfolio", "instrument", "market_value_base"} - set(holdings.columns)
        if missing:
            raise ValueError(f"holdings frame lacks columns {sorted(missing)}")
        values = holdings["market_value_base"].to_numpy(dtype=np.float64)
        if np.isnan(values).any():
            raise ValueError("holdings without a market value: value them or drop them first")
        self.frame = holdings
        known = np.unique(holdings["portfolio"].to_numpy(dtype=np.int64))
        if portfolios is not None:
            known = np.union1d(known, np.asarray(list(portfolios), dtype=np.int64))
        self.portfolios = known
        self.n = len(known)
        self.codes = np.searchsorted(known, holdings["portfolio"].to_numpy(dtype=np.int64))
        self.mv = values
        self.nav = np.bincount(self.codes, weights=values, minlength=self.n)
        self.nav_denominator = np.where(self.nav > 0, self.nav, np.nan)
        long_total = np.bincount(self.codes, weights=np.clip(values, 0, None), minlength=self.n)
        self.total_assets = np.where(long_total > 0, long_total, np.nan)
        self._factors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._sums: dict[
            tuple[str, tuple[str, ...], tuple[str, ...]],
            tuple[np.ndarray, np.ndarray, np.ndarray],
        ] = {}
        self._masks: dict[tuple[str, ...], np.ndarray] = {}

    def column(self, name: str, default: Any = "") -> np.ndarray:
        if name in self.frame.columns:
            values: np.ndarray = self.frame[name].to_numpy()
            return values
        return np.full(len(self.frame), default, dtype=object)

    def factor(self, attribute: str) -> tuple[np.ndarray, np.ndarray]:
        if attribute not in self._factors:
            if attribute == "instrument":
                codes, labels = pd.factorize(self.frame["instrument"])
            elif attribute == "issuer_group":
                group = pd.Series(self.column("issuer_group", ""), index=self.frame.index)
                issuer = pd.Series(self.column("issuer", ""), index=self.frame.index)
                body = group.where(group.notna() & (group != ""), issuer)
                body = body.astype(object).where(body.notna() & (body != ""), UNCLASSIFIED)
                codes, labels = pd.factorize(body)
            else:
                series = (
                    self.frame[attribute]
                    if attribute in self.frame.columns
                    else pd.Series(UNCLASSIFIED, index=self.frame.index)
                )
                series = series.astype(object).where(series.notna() & (series != ""), UNCLASSIFIED)
                codes, labels = pd.factorize(series)
            self._factors[attribute] = (codes.astype(np.int64), np.asarray(labels, dtype=object))
        return self._factors[attribute]

    def excluded(self, asset_classes: Iterable[str]) -> np.ndarray:
        key = tuple(sorted(asset_classes))
        if key not in self._masks:
            if key and "asset_class" in self.frame.columns:
                self._masks[key] = self.frame["asset_class"].isin(key).to_numpy()
            else:
                self._masks[key] = np.zeros(len(self.frame), dtype=bool)
        return self._masks[key]

    def of_issuer_types(self, issuer_types: Iterable[str]) -> np.ndarray:
        """Rows whose issuer type is one of ``issuer_types`` (all rows when empty)."""
        wanted = set(issuer_types)
        if not wanted:
            return np.ones(len(self.frame), dtype=bool)
        types = pd.Series(self.column("issuer_type", ""), index=self.frame.index)
        types = types.where(types.notna() & (types != ""), "corporate")
        mask: np.ndarray = types.isin(wanted).to_numpy()
        return mask

    def group_sums(
        self, attribute: str, exclude: Iterable[str] = (), issuer_types: Iterable[str] = ()
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(portfolio code, group label, net market value) per held (portfolio, group),
        ordered by portfolio code; only rows of ``issuer_types`` (all when empty)."""
        key = (attribute, tuple(sorted(exclude)), tuple(sorted(issuer_types)))
        if key not in self._sums:
            codes, labels = self.factor(attribute)
            keep = ~self.excluded(key[1]) & self.of_issuer_types(key[2])
            width = max(len(labels), 1)
            combined = self.codes[keep].astype(np.int64) * width + codes[keep]
            unique, inverse = np.unique(combined, return_inverse=True)
            sums = np.bincount(inverse, weights=self.mv[keep], minlength=len(unique))
            self._sums[key] = (unique // width, labels[unique % width], sums)
        return self._sums[key]


def _segment_max(
    portfolio_codes: np.ndarray, values: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per portfolio: the largest value (0 when it has none) and the index of its row (-1)."""
    maxima = np.zeros(n)
    where = np.full(n, -1, dtype=np.int64)
    if len(values) == 0:
        return maxima, where
    starts = np.flatnonzero(np.r_[True, portfolio_codes[1:] != portfolio_codes[:-1]])
    segment_max = np.maximum.reduceat(values, starts)
    owners = portfolio_codes[starts]
    maxima[owners] = segment_max
    lengths = np.diff(np.r_[starts, len(values)])
    hits = np.flatnonzero(values == np.repeat(segment_max, lengths))
    _, first = np.unique(portfolio_codes[hits], return_index=True)
    where[portfolio_codes[hits[first]]] = hits[first]
    return maxima, where


def _labels_per_portfolio(
    portfolio_codes: np.ndarray, labels: np.ndarray, selected: np.ndarray, n: int, limit: int = 5
) -> np.ndarray:
    """Comma-joined labels of the selected (portfolio, group) rows, per portfolio."""
    result = np.full(n, "", dtype=object)
    if not selected.any():
        return result
    frame = pd.DataFrame({"p": portfolio_codes[selected], "label": labels[selected]})
    joined = frame.groupby("p")["label"].agg(
        lambda items: (
            ", ".join(map(str, list(items)[:limit]))
            + (f" and {len(items) - limit} more" if len(items) > limit else "")
        )
    )
    result[joined.index.to_numpy()] = joined.to_numpy()
    return result


def _max_weight(
    h: _Holdings, attribute: str, exclude: Iterable[str], issuer_types: Iterable[str] = ()
) -> RuleValues:
    value, group = _largest_group(h, attribute, exclude, issuer_types)
    return RuleValues(value=value, group=group)


def _max_instrument_weight(
    h: _Holdings, exclude: Iterable[str], issuer_types: Iterable[str] = ()
) -> RuleValues:
    """:func:`_max_weight` per instrument, the largest labelled by its identifier."""
    value, instruments = _largest_group(h, "instrument", exclude, issuer_types)
    identifiers = dict(zip(h.frame["instrument"], h.column("identifier", ""), strict=False))
    group = np.array([identifiers.get(g, g) if g != "" else "" for g in instruments], dtype=object)
    return RuleValues(value=value, group=group)


def _largest_group(
    h: _Holdings, attribute: str, exclude: Iterable[str], issuer_types: Iterable[str] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Per portfolio: the largest absolute net weight of one group and that group's label."""
    portfolio_codes, labels, sums = h.group_sums(attribute, exclude, issuer_types)
    weights = np.abs(sums) / h.nav_denominator[portfolio_codes]
    weights = np.nan_to_num(weights, nan=-1.0)  # no-NAV portfolios are masked below
    maxima, where = _segment_max(portfolio_codes, weights, h.n)
    group = np.full(h.n, "", dtype=object)
    found = where >= 0
    group[found] = labels[where[found]]
    value = np.where(np.isnan(h.nav_denominator), np.nan, maxima)
    return value, group


def _group_weight(
    h: _Holdings,
    attribute: str,
    group_name: str,
    exclude: Iterable[str],
    signed: bool,
    issuer_types: Iterable[str] = (),
) -> RuleValues:
    portfolio_codes, labels, sums = h.group_sums(attribute, exclude, issuer_types)
    selected = labels == group_name
    total = np.bincount(portfolio_codes[selected], weights=sums[selected], minlength=h.n)
    value = total / h.nav_denominator
    return RuleValues(
        value=value if signed else np.abs(value), group=np.full(h.n, group_name, dtype=object)
    )


def _large_groups_total(
    h: _Holdings,
    attribute: str,
    threshold: float,
    exclude: Iterable[str],
    issuer_types: Iterable[str] = (),
) -> RuleValues:
    portfolio_codes, labels, sums = h.group_sums(attribute, exclude, issuer_types)
    weights = np.abs(sums) / h.nav_denominator[portfolio_codes]
    large = weights > threshold * (1.0 + TOLERANCE)
    total = np.bincount(portfolio_codes[large], weights=weights[large], minlength=h.n)
    value = np.where(np.isnan(h.nav_denominator), np.nan, total)
    return RuleValues(value=value, group=_labels_per_portfolio(portfolio_codes, labels, large, h.n))


def _holdings_count(
    h: _Holdings, exclude: Iterable[str], issuer_types: Iterable[str] = ()
) -> RuleValues:
    portfolio_codes, _, sums = h.group_sums("instrument", exclude, issuer_types)
    held = sums != 0
    return RuleValues(value=np.bincount(portfolio_codes[held], minlength=h.n).astype(np.float64))


def _listed_mask(frame: pd.DataFrame, params: Mapping[str, Any]) -> np.ndarray:
    mask = np.zeros(len(frame), dtype=bool)
    if params.get("identifiers") and "identifier" in frame.columns:
        mask |= frame["identifier"].isin(params["identifiers"]).to_numpy()
    if params.get("issuers") and "issuer" in frame.columns:
        mask |= frame["issuer"].isin(params["issuers"]).to_numpy()
    return mask


def _listed_held(h: _Holdings, params: Mapping[str, Any]) -> RuleValues:
    mask = _listed_mask(h.frame, params)
    if not mask.any():
        return RuleValues(value=np.where(np.isnan(h.nav_denominator), np.nan, 0.0))
    # Net per (portfolio, instrument) first: a long and a short lot that cancel hold nothing.
    listed = pd.DataFrame(
        {
            "p": h.codes[mask],
            "instrument": h.frame["instrument"].to_numpy()[mask],
            "label": h.column("identifier")[mask],
            "mv": h.mv[mask],
        }
    )
    net = listed.groupby(["p", "instrument", "label"], sort=True)["mv"].sum().reset_index()
    net = net[net["mv"] != 0]
    held = np.bincount(net["p"], weights=net["mv"].abs(), minlength=h.n)
    labels = _labels_per_portfolio(
        net["p"].to_numpy(), net["label"].to_numpy(object), np.ones(len(net), bool), h.n
    )
    return RuleValues(value=held / h.nav_denominator, group=labels)


def _listed_bought(
    h: _Holdings, trades: pd.DataFrame | None, params: Mapping[str, Any]
) -> RuleValues:
    value = np.where(np.isnan(h.nav_denominator), np.nan, 0.0)
    group = np.full(h.n, "", dtype=object)
    if trades is None or trades.empty:
        return RuleValues(value=value, group=group)
    mask = _listed_mask(trades, params) & (trades["value_base"].to_numpy(dtype=float) > 0)
    mask &= trades["portfolio"].isin(h.portfolios).to_numpy()
    if mask.any():
        codes = np.searchsorted(h.portfolios, trades["portfolio"].to_numpy(dtype=np.int64)[mask])
        bought = np.bincount(
            codes, weights=trades["value_base"].to_numpy(dtype=float)[mask], minlength=h.n
        )
        value = bought / h.nav_denominator
        labels = (
            trades["identifier"].to_numpy(object)[mask]
            if "identifier" in trades.columns
            else np.full(mask.sum(), "", dtype=object)
        )
        group = _labels_per_portfolio(codes, labels, np.ones(len(codes), bool), h.n)
    return RuleValues(value=value, group=group)


def _leverage(h: _Holdings, gross: bool) -> RuleValues:
    non_cash = ~h.excluded(("cash",))
    amounts = np.abs(h.mv) if gross else h.mv
    total = np.bincount(h.codes[non_cash], weights=amounts[non_cash], minlength=h.n)
    return RuleValues(value=np.abs(total) / h.nav_denominator)


def _cash(h: _Holdings) -> RuleValues:
    cash = h.excluded(("cash",))
    total = np.bincount(h.codes[cash], weights=h.mv[cash], minlength=h.n)
    return RuleValues(value=total / h.nav_denominator)


def diversified_basket(h: _Holdings, issuer_limit: float, voting_limit: float) -> RuleValues:
    """Qualifying fraction of total assets under the 1940 Act's 75-5-10 test.

    Cash, government securities (``is_government``) and investment companies
    (asset class ``fund``) qualify outright. Every other long holding qualifies
    only if its issuer is at most ``issuer_limit`` of total assets *and* no
    instrument of that issuer is more than ``voting_limit`` of its outstanding
    voting securities (``quantity ÷ shares_outstanding``); otherwise the whole
    issuer position falls outside the basket (the conservative reading: it is not
    split into a qualifying 5 % and an excess). An unknown ``shares_outstanding``
    cannot fail the 10 % test; such holdings are counted in ``detail``.
    """
    frame = h.frame
    long = h.mv > 0
    exempt = h.excluded(("cash", "fund"))
    if "is_government" in frame.columns:
        exempt = exempt | frame["is_government"].fillna(False).to_numpy(dtype=bool)
    tested = long & ~exempt
    issuer_codes, issuer_labels = h.factor("issuer")
    width = max(len(issuer_labels), 1)
    combined = h.codes.astype(np.int64) * width + issuer_codes
    unique, inverse = np.unique(combined[tested], return_inverse=True)
    issuer_value = np.bincount(inverse, weights=h.mv[tested], minlength=len(unique))
    owner = unique // width
    issuer_weight = issuer_value / h.total_assets[owner]
    if {"quantity", "shares_outstanding"} <= set(frame.columns):
        shares = frame["shares_outstanding"].to_numpy(dtype=np.float64)[tested]
        quantity = frame["quantity"].to_numpy(dtype=np.float64)[tested]
        with np.errstate(divide="ignore", invalid="ignore"):
            voting = np.where(shares > 0, quantity / shares, np.nan)
        # Lots of one instrument add up before the 10 % test.
        instrument = frame["instrument"].to_numpy()[tested]
        per_instrument = (
            pd.DataFrame({"key": inverse, "instrument": instrument, "voting": voting})
            .groupby(["key", "instrument"], sort=False)["voting"]
            .sum(min_count=1)
        )
        worst_voting = per_instrument.groupby(level="key").max().reindex(range(len(unique)))
        worst_voting = worst_voting.to_numpy(dtype=np.float64)
        unknown = np.bincount(owner[np.isnan(worst_voting)], minlength=h.n)
    else:
        worst_voting = np.full(len(unique), np.nan)
        unknown = np.bincount(owner, minlength=h.n)
    failing = (issuer_weight > issuer_limit * (1.0 + TOLERANCE)) | (
        np.nan_to_num(worst_voting, nan=0.0) > voting_limit * (1.0 + TOLERANCE)
    )
    outside = np.bincount(owner[failing], weights=issuer_value[failing], minlength=h.n)
    value = 1.0 - outside / h.total_assets
    group = _labels_per_portfolio(owner, issuer_labels[unique % width], failing, h.n)
    detail = [{"issuers_without_shares_outstanding": int(u)} if u else {} for u in unknown]
    return RuleValues(value=value, group=group, detail=detail)


NO_BORROWINGS = "no borrowings"
"""The group of an asset-coverage result without borrowings (no limit applies)."""


def asset_coverage(h: _Holdings) -> RuleValues:
    """Asset coverage of borrowings, Investment Company Act of 1940 §18(f)(1) and §18(h)::

        coverage = (total assets − liabilities other than borrowings) ÷ borrowings

    Positions are netted per instrument first. **Total assets** are the positive net
    positions. **Borrowings** are the negative net cash positions: the instrument
    model has no borrowing asset class, so a bank loan or an overdraft is held as
    negative cash. **Liabilities other than borrowings** are the other negative net
    positions (short sales, derivatives marked below zero) at their absolute value.
    Amounts are in the base currency; 3.0 is 300 %. Borrowings within the rounding
    tolerance of total assets count as none.

    Without borrowings no limit applies: the coverage is unbounded (``inf``, so the
    utilisation is 0 and the status ``ok``) and the group reads :data:`NO_BORROWINGS`;
    otherwise the group names the borrowing cash lines. A portfolio without total
    assets has no value. ``detail`` gives ``total_assets``, ``borrowings`` and
    ``other_liabilities``.
    """
    portfolio_codes, instruments, sums = h.group_sums("instrument")
    cash_instruments = h.frame["instrument"].to_numpy()[h.excluded(("cash",))]
    is_cash = np.isin(instruments, cash_instruments)
    assets = np.bincount(portfolio_codes, weights=np.clip(sums, 0, None), minlength=h.n)
    owed = np.clip(-sums, 0, None)
    owed[owed <= assets[portfolio_codes] * TOLERANCE] = 0.0
    borrowing = is_cash & (owed > 0)
    borrowings = np.bincount(portfolio_codes[borrowing], weights=owed[borrowing], minlength=h.n)
    other = np.bincount(portfolio_codes[~is_cash], weights=owed[~is_cash], minlength=h.n)
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(borrowings > 0, (assets - other) / borrowings, np.inf)
    value = np.where(assets > 0, coverage, np.nan)
    identifiers = dict(zip(h.frame["instrument"], h.column("identifier", ""), strict=False))
    labels = np.array([identifiers.get(i, i) for i in instruments], dtype=object)
    group = _labels_per_portfolio(portfolio_codes, labels, borrowing, h.n)
    group[borrowings == 0] = NO_BORROWINGS
    detail = [
        {"total_assets": float(a), "borrowings": float(b), "other_liabilities": float(o)}
        for a, b, o in zip(assets, borrowings, other, strict=True)
    ]
    return RuleValues(value=value, group=group, detail=detail)


def _utilisation(value: np.ndarray, limit: float, direction: Direction) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if direction is Direction.MAXIMUM:
            if limit == 0:
                return np.where(np.isnan(value), np.nan, np.where(value > 0, np.inf, 0.0))
            return value / limit
        if limit == 0:
            return np.where(np.isnan(value), np.nan, 0.0)
        return np.where(value > 0, limit / value, np.where(np.isnan(value), np.nan, np.inf))


def status_of(
    utilisation: np.ndarray, warning_level: float, *, cap_at_warning: bool = False
) -> np.ndarray:
    """Status per utilisation (see the module docstring)."""
    utilisation = np.asarray(utilisation, dtype=np.float64)
    breach = utilisation > 1.0 + TOLERANCE
    warning = utilisation >= warning_level * (1.0 - TOLERANCE)
    if cap_at_warning:
        warning = warning | breach
        breach = np.zeros_like(breach)
    return np.select(
        [np.isnan(utilisation), breach, warning],
        [Status.NO_VALUE.value, Status.BREACH.value, Status.WARNING.value],
        default=Status.OK.value,
    )


def evaluate_rules(
    holdings: pd.DataFrame,
    rules: Sequence[RuleSpec],
    *,
    trades: pd.DataFrame | None = None,
    risk: RiskInputs | None = None,
    portfolios: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Evaluate every rule for every portfolio in its scope.

    ``holdings`` is a holdings frame (module docstring) for many portfolios;
    ``trades`` (columns ``portfolio``, ``instrument``, ``identifier``, ``issuer``,
    ``value_base``: signed base value, positive for a buy) is the day's security
    trade legs, needed by "may not buy" restricted lists; ``risk`` holds the return
    histories of the VaR rules; ``portfolios`` lists portfolios to report even if
    they hold nothing today.

    Returns one row per (rule, portfolio in scope) with columns ``rule``,
    ``portfolio``, ``value``, ``limit``, ``utilisation``, ``status``, ``group`` (the
    instrument, group or names that drove the value) and ``detail`` (a dict).
    """
    h = _Holdings(holdings, portfolios)
    parts = []
    for rule in rules:
        kind = RuleKind(rule.kind)
        params = rule.params
        issuer_types = params.get("issuer_types", ())
        if kind is RuleKind.MAX_INSTRUMENT_WEIGHT:
            values = _max_instrument_weight(
                h, params.get("exclude_asset_classes", ["cash"]), issuer_types
            )
        elif kind is RuleKind.MAX_GROUP_WEIGHT:
            exclude = params.get("exclude_asset_classes", [])
            if params.get("group"):
                values = _group_weight(
                    h, params["attribute"], params["group"], exclude, False, issuer_types
                )
            else:
                values = _max_weight(h, params["attribute"], exclude, issuer_types)
        elif kind is RuleKind.MIN_GROUP_WEIGHT:
            values = _group_weight(
                h,
                params["attribute"],
                params["group"],
                params.get("exclude_asset_classes", []),
                True,
            )
        elif kind is RuleKind.MAX_LARGE_GROUPS_TOTAL:
            values = _large_groups_total(
                h,
                params.get("attribute", "issuer"),
                params.get("threshold", 0.05),
                params.get("exclude_asset_classes", ["cash"]),
                issuer_types,
            )
        elif kind in (RuleKind.MAX_HOLDINGS, RuleKind.MIN_HOLDINGS):
            values = _holdings_count(h, params.get("exclude_asset_classes", ["cash"]), issuer_types)
        elif kind is RuleKind.RESTRICTED_LIST and params.get("mode") == "buy":
            values = _listed_bought(h, trades, params)
        elif kind in (RuleKind.RESTRICTED_LIST, RuleKind.WATCH_LIST):
            values = _listed_held(h, params)
        elif kind in (RuleKind.MAX_GROSS_LEVERAGE, RuleKind.MAX_NET_LEVERAGE):
            values = _leverage(h, kind is RuleKind.MAX_GROSS_LEVERAGE)
        elif kind is RuleKind.MIN_CASH:
            values = _cash(h)
        elif kind is RuleKind.MIN_ASSET_COVERAGE:
            values = asset_coverage(h)
        elif kind is RuleKind.DIVERSIFIED_FUND:
            values = diversified_basket(
                h, params.get("issuer_limit", 0.05), params.get("voting_limit", 0.10)
            )
        else:
            values = risk_engine.risk_rule_values(rule, h.portfolios, risk)
        parts.append(_result_rows(rule, h, values))
    if not parts:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _result_rows(rule: RuleSpec, h: _Holdings, values: RuleValues) -> pd.DataFrame:
    if rule.portfolios is None:
        rows = np.arange(h.n)
    else:
        rows = np.flatnonzero(np.isin(h.portfolios, np.asarray(rule.portfolios, dtype=np.int64)))
    value = np.asarray(values.value, dtype=np.float64)[rows]
    utilisation = _utilisation(value, rule.limit, rule.direction)
    status = status_of(
        utilisation, rule.warning_level, cap_at_warning=rule.kind == RuleKind.WATCH_LIST
    )
    if rule.kind in ACQUISITION_TESTS:
        # From the holdings alone nothing is an acquisition: classify_trades decides.
        status = np.where(status == Status.BREACH.value, Status.RESTRICTED.value, status)
    group = values.group[rows] if values.group is not None else np.full(len(rows), "", object)
    detail = [values.detail[i] for i in rows] if values.detail is not None else [{}] * len(rows)
    return pd.DataFrame(
        {
            "rule": rule.rule_id,
            "portfolio": h.portfolios[rows],
            "value": value,
            "limit": float(rule.limit),
            "utilisation": utilisation,
            "status": status,
            "group": group,
            "detail": detail,
        }
    )


def classify_active(current: pd.DataFrame, before_trades: pd.DataFrame) -> pd.Series:
    """Whether each failure of ``current`` (a breach, or an acquisition test
    ``restricted``) is **active**: the portfolio's own trades of the day took the
    utilisation higher than it would have been without them (``before_trades``: the
    same rules over the holdings with the day's trades reversed). Anything else (a
    market move, a subscription or redemption, a failure the trades did not worsen)
    is **passive**. Rows are aligned on (rule, portfolio); a rule missing from
    ``before_trades`` counts as unchanged. An acquisition test without a value
    before the trades (nothing held) was failed by the trades themselves."""
    keys = ["rule", "portfolio"]
    before = before_trades.set_index(keys)["utilisation"]
    previous = before.reindex(pd.MultiIndex.from_frame(current[keys])).to_numpy(np.float64)
    now = current["utilisation"].to_numpy(np.float64)
    status = current["status"].to_numpy()
    restricted = status == Status.RESTRICTED.value
    # inf (a restricted name bought into a zero limit) beats any finite value; NaN
    # before (not computable) never counts as worsened, but for an acquisition test.
    with np.errstate(invalid="ignore"):
        worsened = (~np.isnan(previous) & (now > previous * (1 + TOLERANCE))) | (
            restricted & np.isnan(previous)
        )
    failing = (status == Status.BREACH.value) | restricted
    return pd.Series(failing & worsened, index=current.index)


def classify_trades(current: pd.DataFrame, before_trades: pd.DataFrame | None) -> pd.DataFrame:
    """``current`` (rows of :func:`evaluate_rules`) with an ``active`` column
    (:func:`classify_active`; all False without trades, ``before_trades=None``) and
    the acquisition tests settled: a ``restricted`` row that the trades caused or
    worsened is a ``breach``; one they did not (market moves, or trades that left
    the failure as it was or improved it) stays ``restricted``. The day's trades are
    taken together, as the day's book holds them."""
    result = current.copy()
    if before_trades is None:
        result["active"] = False
        return result
    active = classify_active(current, before_trades).to_numpy()
    result["active"] = active
    acquired = active & (result["status"].to_numpy() == Status.RESTRICTED.value)
    result.loc[acquired, "status"] = Status.BREACH.value
    return result
