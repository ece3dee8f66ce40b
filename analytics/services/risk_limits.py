"""Writes of per-portfolio risk limits."""

from collections.abc import Iterable

from django.db import transaction

from analytics.models import Portfolio, RiskLimit


@transaction.atomic
def risk_limits_replace(*, portfolio: Portfolio, limits: Iterable[dict]) -> list[RiskLimit]:
    """Replace ``portfolio``'s risk limits with ``limits`` (dicts with ``metric``,
    ``limit``, ``warning_level`` and optionally ``note``; one per metric)."""
    RiskLimit.objects.filter(portfolio=portfolio).delete()
    rows = [
        RiskLimit(
            portfolio=portfolio,
            metric=row["metric"],
            limit=row["limit"],
            warning_level=row.get("warning_level", 0.9),
            note=row.get("note", ""),
        )
        for row in limits
    ]
    for row in rows:
        row.full_clean(exclude=["portfolio"])
    return RiskLimit.objects.bulk_create(rows)
