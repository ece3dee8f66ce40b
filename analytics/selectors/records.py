"""Reads of a portfolio's long record tables, the trades and the data-quality
findings, for a portfolio already authorised through
``analytics.selectors.entitlements.portfolio_get_for_user``. They return querysets
so that pages sort them in the database and page them on the server.

``person_name`` is how pages name a person (the full name, the username when none
is recorded), as a database expression, so a column of people sorts on the text
it shows."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    ExpressionWrapper,
    F,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, NullIf, Trim

from analytics.models import DataQualityFinding, FindingKind, Portfolio, Trade
from analytics.selectors.ingest import findings_for_portfolios


def person_name(prefix: str) -> Coalesce:
    """The name of the user at ``prefix`` (a foreign key path) as pages show it;
    null without a user."""
    return Coalesce(
        NullIf(
            Trim(Concat(F(f"{prefix}__first_name"), Value(" "), F(f"{prefix}__last_name"))),
            Value(""),
        ),
        F(f"{prefix}__username"),
        output_field=CharField(),
    )


def portfolio_trades(
    *,
    portfolio: Portfolio,
    side: str = "",
    instrument: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[Trade]:
    """The portfolio's trades, newest first, optionally of one side, of one
    instrument (its identifier, any case) and traded from ``start`` to ``end``
    (both included). Each carries ``gross_value`` (quantity × price, in the trade's
    currency, fees excluded) and ``trader_name``."""
    trades = Trade.objects.filter(portfolio=portfolio)
    if side:
        trades = trades.filter(side=side)
    if instrument:
        trades = trades.filter(instrument__identifier__iexact=instrument)
    if start is not None:
        trades = trades.filter(trade_date__gte=start)
    if end is not None:
        trades = trades.filter(trade_date__lte=end)
    return (
        trades.select_related("instrument", "trader")
        .annotate(
            gross_value=ExpressionWrapper(
                F("quantity") * F("price"),
                output_field=DecimalField(max_digits=38, decimal_places=10),
            ),
            trader_name=person_name("trader"),
        )
        .order_by("-trade_date", "-id")
    )


FINDING_STATUSES = {"open": "Open", "resolved": "Resolved", "all": "Open and resolved"}


def portfolio_findings(
    *, portfolio: Portfolio, kind: str = "", severity: str = "", status: str = "open"
) -> QuerySet[DataQualityFinding]:
    """Data-quality findings about the portfolio and the instruments it trades or
    reports (``findings_for_portfolios``), most severe and most recent first:
    ``status`` "open" (the default), "resolved" or "all". Each carries
    ``kind_label``, the kind as pages name it (to sort on)."""
    findings = findings_for_portfolios(
        portfolios=[portfolio],
        kind=kind or None,
        severity=severity or None,
        include_resolved=status != "open",
    )
    if status == "resolved":
        findings = findings.filter(resolved_at__isnull=False)
    return findings.annotate(
        kind_label=Case(
            *(When(kind=value, then=Value(str(label))) for value, label in FindingKind.choices),
            default=F("kind"),
            output_field=CharField(),
        )
    )
