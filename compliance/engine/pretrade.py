"""What a proposed trade does to each rule, and to the groups its instrument belongs to.

A pre-trade check measures every rule twice, on today's holdings (*before*) and on
them with the trade's legs (*after*, see :mod:`compliance.engine.holdings`). This
module tells the two apart honestly:

* :func:`trade_effects` classifies each rule by what the trade does to it, not by
  the state the book is left in (:class:`Effect`). A rule that is already failing
  (``breach``, or ``restricted`` for a test at acquisition) and that the trade
  leaves exactly where it was is ``unchanged``: it is reported as an existing
  breach, never as one the trade "would" cause. Utilisations are compared with the
  engine's relative rounding tolerance (:data:`compliance.engine.rules.TOLERANCE`).
* :func:`instrument_group_weights` gives the weight of every group the traded
  instrument belongs to (its issuer, issuer group, sector, country and currency,
  and the instrument itself) before and after, so the officer sees the trade's own
  exposures and not only the worst group of each rule.

Weights are absolute net weights, fractions of net assets, cash left out of the
numerator (the convention of the group rules, :mod:`compliance.engine.rules`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from compliance.engine.rules import TOLERANCE, UNCLASSIFIED, Status


class Effect(StrEnum):
    """What the trade does to one rule (the first four are about a failing rule)."""

    CAUSES = "causes"  # within the limit before, failing after
    WORSENS = "worsens"  # failing before and further beyond the limit after
    UNCHANGED = "unchanged"  # failing before and after, at the same utilisation
    REDUCES = "reduces"  # failing before, still failing after, but less so
    CURES = "cures"  # failing before, within the limit after
    NOT_REDUCING = "not_reducing"  # under a restriction to reducing trades, and not one
    WARNING = "warning"  # within the limit before and after, near it after
    OK = "ok"
    NO_VALUE = "no_value"


EFFECT_LABELS: dict[str, str] = {
    Effect.CAUSES: "Would breach",
    Effect.WORSENS: "Worsens an existing breach",
    Effect.UNCHANGED: "Already in breach, unchanged by the trade",
    Effect.REDUCES: "Reduces an existing breach",
    Effect.CURES: "Cures an existing breach",
    Effect.NOT_REDUCING: "Refused: only reducing trades are allowed",
    Effect.WARNING: "Near the limit",
    Effect.OK: "Within the limit",
    Effect.NO_VALUE: "No value",
}
"""How each effect reads on a page and in the API."""

REFUSED = frozenset({Effect.CAUSES, Effect.WORSENS, Effect.NOT_REDUCING})
"""Effects for which the trade must not be done."""

FAILING = (Status.BREACH.value, Status.RESTRICTED.value)


def trade_effects(
    *,
    before_status: Sequence[str],
    before_utilisation: Sequence[float],
    after_status: Sequence[str],
    after_utilisation: Sequence[float],
    reducing_only: Sequence[bool] | None = None,
) -> np.ndarray:
    """The :class:`Effect` of a trade on each rule, as strings.

    Inputs are aligned per rule: the statuses and utilisations (NaN: no value)
    before and after the trade. ``reducing_only`` marks rules under a restriction
    to trades that reduce their utilisation (SEC Rule 18f-4 after more than five
    business days out of compliance with the VaR test); on those, a trade that does
    not lower the utilisation is :attr:`Effect.NOT_REDUCING` (refused) even when it
    leaves it unchanged, or when the rule has no value after it (a trade that cannot
    be shown to reduce it is not a reducing one). A failing rule without a value
    before the trade counts as
    caused by it (nothing to compare with: the conservative reading).
    """
    before = np.asarray(before_utilisation, dtype=np.float64)
    after = np.asarray(after_utilisation, dtype=np.float64)
    was_failing = np.isin(np.asarray(before_status, dtype=object), FAILING)
    is_failing = np.isin(np.asarray(after_status, dtype=object), FAILING)
    with np.errstate(invalid="ignore"):
        higher = np.isnan(before) | (after > before * (1.0 + TOLERANCE))
        lower = ~np.isnan(before) & (after < before * (1.0 - TOLERANCE))
    statuses = np.asarray(after_status, dtype=object)
    effects = np.select(
        [
            is_failing & ~was_failing,
            is_failing & was_failing & higher,
            is_failing & was_failing & lower,
            is_failing & was_failing,
            was_failing & ~is_failing & (statuses != Status.NO_VALUE.value),
            statuses == Status.WARNING.value,
            statuses == Status.NO_VALUE.value,
        ],
        [
            Effect.CAUSES.value,
            Effect.WORSENS.value,
            Effect.REDUCES.value,
            Effect.UNCHANGED.value,
            Effect.CURES.value,
            Effect.WARNING.value,
            Effect.NO_VALUE.value,
        ],
        default=Effect.OK.value,
    ).astype(object)
    if reducing_only is not None:
        restricted = np.asarray(reducing_only, dtype=bool)
        not_lower = ~np.isin(effects, (Effect.REDUCES.value, Effect.CURES.value))
        effects[restricted & not_lower] = Effect.NOT_REDUCING.value
    return effects


INSTRUMENT_GROUP_ATTRIBUTES = ("issuer", "issuer_group", "sector", "country", "currency")
"""The groups of an instrument that a pre-trade check reports, besides the instrument."""


@dataclass(frozen=True)
class GroupWeight:
    """The weight of one group of the traded instrument before and after the trade
    (fractions of net assets; ``None`` when net assets are not positive)."""

    attribute: str
    group: str
    before: float | None
    after: float | None


def _group_weight(
    holdings: pd.DataFrame, attribute: str, group: object, exclude: Sequence[str]
) -> float | None:
    nav = float(holdings["market_value_base"].sum()) if len(holdings) else 0.0
    if nav <= 0:
        return None
    frame = holdings
    if exclude and "asset_class" in frame.columns:
        frame = frame[~frame["asset_class"].isin(list(exclude))]
    if attribute == "instrument":
        labels = frame["instrument"].astype(object)
    elif attribute == "issuer_group":
        parent = frame.get("issuer_group", pd.Series("", index=frame.index)).fillna("")
        labels = parent.where(parent != "", frame["issuer"].fillna(""))
    else:
        labels = frame[attribute].fillna("").astype(object)
    labels = labels.where(labels != "", UNCLASSIFIED)
    net = float(frame.loc[labels == group, "market_value_base"].sum())
    return abs(net) / nav


def instrument_group_weights(
    *,
    before: pd.DataFrame,
    after: pd.DataFrame,
    instrument: Mapping[str, object],
    exclude_asset_classes: Sequence[str] = ("cash",),
) -> list[GroupWeight]:
    """The weight of the traded instrument itself and of each of its groups
    (:data:`INSTRUMENT_GROUP_ATTRIBUTES`) in one portfolio's holdings ``before``
    and ``after`` the trade. ``instrument`` holds the instrument's attributes as
    in a holdings frame (``instrument`` id, ``identifier``, ``issuer``, ...). Cash
    is left out of every group but the currency; a
    blank attribute is the group ``Unclassified``, as in the rules; an issuer group
    left blank is the issuer itself (UCITS Art. 52(5))."""
    rows = [
        GroupWeight(
            attribute="instrument",
            group=str(instrument.get("identifier") or instrument["instrument"]),
            before=_group_weight(before, "instrument", instrument["instrument"], ()),
            after=_group_weight(after, "instrument", instrument["instrument"], ()),
        )
    ]
    for attribute in INSTRUMENT_GROUP_ATTRIBUTES:
        value = instrument.get(attribute) or ""
        if attribute == "issuer_group" and not value:
            continue  # the issuer itself, already listed
        group = str(value) or UNCLASSIFIED
        # Cash is a currency exposure but no issuer, sector or country one.
        exclude = () if attribute == "currency" else exclude_asset_classes
        rows.append(
            GroupWeight(
                attribute=attribute,
                group=group,
                before=_group_weight(before, attribute, group, exclude),
                after=_group_weight(after, attribute, group, exclude),
            )
        )
    return rows
