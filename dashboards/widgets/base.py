"""What every widget builder receives and returns.

A builder is a function of a :class:`WidgetRequest` (the viewer, the portfolios
they chose among those they are entitled to, and the dashboard's filters) that
returns a JSON-ready payload: ``{"title", "as_of", "stale", "portfolios", ...}``
and one of ``figure`` (a Plotly figure from ``analytics.presentation.figures``),
``tiles`` (KPI tiles), ``table`` (rows and columns) or ``items``; ``message`` says
why there is nothing to show. Builders read stored snapshots and positions through
the analytics and compliance selectors and never compute a metric themselves.

Money: every amount a widget shows (net assets, market values, exposures) is in
the dashboard's currency filter when it has one, converted with
:func:`money_in` at the rate the portfolio overview uses for its reporting
currency (``analytics.selectors.fx.rate_to_base_latest``: the latest rate on or
before the amount's date, the direct pair before the inverse one), and is
labelled with the code it is in. A portfolio with no such rate keeps its base
currency, labelled so, and the payload says why (``currency_note``); an amount is
never converted at 1.

Periods: ``1M``, ``3M``, ``6M``, ``YTD``, ``1Y`` and ``SI`` (since inception) cut
the time axis of each series back from its last date in calendar months (``1M``
ending on 31 March shows 1 March onwards; ``YTD`` shows 1 January onwards).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from analytics.models import Portfolio
from analytics.selectors.fx import rate_to_base_latest
from analytics.selectors.portfolios import SnapshotView, portfolio_snapshot
from portal.models import User

PERIODS = {
    "1M": "1 month",
    "3M": "3 months",
    "6M": "6 months",
    "YTD": "Year to date",
    "1Y": "1 year",
    "SI": "Since inception",
}
DEFAULT_PERIOD = "1Y"
PERIOD_MONTHS = {"1M": 1, "3M": 3, "6M": 6, "1Y": 12}


@dataclass(frozen=True)
class WidgetRequest:
    """``portfolios``: the chosen portfolios, all entitled to ``user``, ordered by
    code; single-portfolio widgets show the first. ``benchmark``: draw the
    portfolio's benchmark where the widget has one. ``currency``: empty for each
    portfolio's base currency. ``params``: the widget's own query parameters (the
    holdings table's search, sort, page and sector)."""

    user: User
    portfolios: Sequence[Portfolio]
    period: str = DEFAULT_PERIOD
    benchmark: bool = True
    currency: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def portfolio(self) -> Portfolio | None:
        return self.portfolios[0] if self.portfolios else None


Builder = Callable[[WidgetRequest], dict]


@dataclass(frozen=True)
class Money:
    """How a portfolio's base-currency amounts are shown: multiplied by ``rate``
    and labelled ``currency``; ``note`` says why the chosen currency could not be
    used (no rate), else it is empty."""

    currency: str
    rate: float = 1.0
    note: str = ""

    def of(self, amount: float | Decimal | None) -> float | None:
        return None if amount is None else float(amount) * self.rate


def money_in(request: WidgetRequest, *, base: str, on: dt.date | None) -> Money:
    """How amounts in ``base`` dated ``on`` are shown under the currency filter:
    unchanged without a filter or when it is ``base``; otherwise at the latest
    rate from ``base`` to the chosen currency on or before ``on``."""
    target = request.currency
    if not target or target == base:
        return Money(base)
    rate = rate_to_base_latest(currency=base, base=target, on=on) if on else None
    if rate is None:
        return Money(
            base, note=f"No {base}→{target} rate up to {on or 'the as-of date'}: in {base}."
        )
    return Money(target, rate)


def months_back(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (the month's last day when
    that month is shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def period_start(last: dt.date, period: str) -> dt.date | None:
    """The first date a ``period`` ending on ``last`` shows, or None for since
    inception."""
    if period == "YTD":
        return dt.date(last.year, 1, 1)
    months = PERIOD_MONTHS.get(period)
    return None if months is None else months_back(last, months) + dt.timedelta(days=1)


def cut_series(values: dict, start: dt.date | None) -> dict:
    """A ``{"dates", "values"}`` series from ``start`` on (ISO dates)."""
    if start is None or not values.get("dates"):
        return values
    first = start.isoformat()
    keep = [i for i, date in enumerate(values["dates"]) if date >= first]
    return {
        "dates": [values["dates"][i] for i in keep],
        "values": [values["values"][i] for i in keep],
    }


def rebase_cumulative(values: dict) -> dict:
    """A cumulative-return series ``c_t`` restated from its first shown date:
    ``(1 + c_t) / (1 + c_0) − 1``, so a cut period starts at 0 %."""
    points = values.get("values") or []
    base = next((v for v in points if v is not None), None)
    if base is None:
        return values
    return {
        "dates": values["dates"],
        "values": [None if v is None else (1.0 + v) / (1.0 + base) - 1.0 for v in points],
    }


def last_date(view: SnapshotView) -> dt.date | None:
    data = view.section("data") or {}
    last = data.get("last_valuation")
    return dt.date.fromisoformat(last) if last else None


def envelope(
    request: WidgetRequest, *, title: str, views: Sequence[SnapshotView] = (), **content: Any
) -> dict:
    """The common part of every payload: the portfolios shown, the newest as-of
    date of their snapshots, and whether any is stale (data changed since)."""
    as_ofs = [v.snapshot.as_of for v in views if v.snapshot is not None]
    return {
        "title": title,
        "portfolios": [p.pk for p in request.portfolios],
        "as_of": max(as_ofs).isoformat() if as_ofs else None,
        "stale": any(v.stale for v in views),
        **content,
    }


def single_portfolio(
    request: WidgetRequest, title: str
) -> tuple[Portfolio | None, SnapshotView | None, dict | None]:
    """The portfolio a single-portfolio widget shows and its snapshot, or the
    payload that says why there is nothing to show."""
    portfolio = request.portfolio
    if portfolio is None:
        return None, None, envelope(request, title=title, message="No portfolio to show.")
    view = portfolio_snapshot(portfolio=portfolio)
    if view.snapshot is None:
        return (
            portfolio,
            view,
            envelope(
                request,
                title=title,
                views=[view],
                message=f"Analytics for {portfolio.code} are being computed.",
            ),
        )
    return portfolio, view, None


def unavailable(section: dict | None) -> str | None:
    """Why a snapshot section cannot be shown, or None when it can."""
    if section is None:
        return "Not in this snapshot."
    if section.get("available") is False:
        return str(section.get("reason") or "Not available.")
    return None
