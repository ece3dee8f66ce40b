"""FX rates into a portfolio's base currency, and amounts converted with them.

Conventions: a rate applies on its own date only (no carry-forward); the direct
pair (``FxRate`` base=currency, quote=base: multiply) wins over the inverse pair
(base=base, quote=currency: divide); there is no triangulation through a third
currency; the base currency converts at exactly 1; an amount without a rate
converts to NaN, never at 1.0. The one exception, :func:`rate_to_base_latest`,
takes the latest rate on or before a date, for valuing a proposed trade before that
day's rate is in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import Q

from analytics.models import FxRate

_ONE = Decimal(1)


def rates_to_base(*, base: str, currencies: Iterable[str], first: Date, last: Date) -> pd.DataFrame:
    """Rows ``(date, currency, to_base)``: Decimal units of ``base`` per unit of
    ``currency`` on that date, from the direct pair or else the inverse pair."""
    currencies = sorted(set(currencies) - {base})
    if not currencies:
        return pd.DataFrame(columns=["date", "currency", "to_base"])
    rates = pd.DataFrame.from_records(
        FxRate.objects.filter(date__gte=first, date__lte=last)
        .filter(
            Q(base_currency__in=currencies, quote_currency=base)
            | Q(base_currency=base, quote_currency__in=currencies)
        )
        .order_by("date", "base_currency", "quote_currency", "source")
        .values_list("date", "base_currency", "quote_currency", "rate"),
        columns=["date", "base_currency", "quote_currency", "rate"],
    )
    direct = rates["quote_currency"] == base
    rates["currency"] = rates["base_currency"].where(direct, rates["quote_currency"])
    # An object column even when empty: a float column would refuse the Decimal 1
    # that the base currency converts at (no FX rate at all must not crash).
    rates["to_base"] = pd.Series(
        [
            rate if is_direct else _ONE / rate
            for rate, is_direct in zip(rates["rate"], direct, strict=True)
        ],
        index=rates.index,
        dtype=object,
    )
    rates["preference"] = np.where(direct, 0, 1)  # the direct pair wins over the inverse
    rates = rates.sort_values(["date", "currency", "preference"], kind="stable")
    return rates.drop_duplicates(["date", "currency"], keep="first")[
        ["date", "currency", "to_base"]
    ]


def in_base_currency(frame: pd.DataFrame, *, base: str, value: str) -> pd.DataFrame:
    """``frame`` with a float column ``{value}_base`` added: ``value`` (in the row's
    ``currency``, on the row's ``date``) converted into ``base`` at that date's rate;
    NaN without a rate."""
    if frame.empty:
        return frame.assign(**{f"{value}_base": pd.Series(dtype=np.float64)})
    rates = rates_to_base(
        base=base,
        currencies=frame["currency"].unique(),
        first=frame["date"].min(),
        last=frame["date"].max(),
    )
    rates = rates.assign(to_base=pd.to_numeric(rates["to_base"]).astype(np.float64))
    frame = frame.merge(rates, on=["date", "currency"], how="left")
    frame.loc[frame["currency"] == base, "to_base"] = 1.0
    frame[f"{value}_base"] = frame[value] * frame["to_base"]
    return frame.drop(columns="to_base")


def rate_to_base_latest(*, currency: str, base: str, on: Date) -> float | None:
    """Units of ``base`` per unit of ``currency`` at the latest rate on or before
    ``on``: the latest direct pair, else the latest inverse pair; 1.0 for the base
    currency itself; None without any rate."""
    if currency == base:
        return 1.0
    direct = (
        FxRate.objects.filter(base_currency=currency, quote_currency=base, date__lte=on)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
    if direct is not None:
        return float(direct)
    inverse = (
        FxRate.objects.filter(base_currency=base, quote_currency=currency, date__lte=on)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
    return 1.0 / float(inverse) if inverse else None
