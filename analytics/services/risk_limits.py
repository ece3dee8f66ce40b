"""Writes of per-portfolio risk limits."""

from collections.abc import Iterable

from django.db import transaction

from analytics.models import Portfolio, RiskLimit
from portal.models import AuditAction
from portal.origins import RequestOrigin
from portal.services import audit_record


@transaction.atomic
def risk_limits_replace(
    *, portfolio: Portfolio, limits: Iterable[dict], actor=None, origin: RequestOrigin | None = None
) -> list[RiskLimit]:
    """Replace ``portfolio``'s risk limits with ``limits`` (dicts with ``metric``,
    ``limit``, ``warning_level`` and optionally ``note``; one per metric), and
    audit the old and new sets."""
    before = list(
        RiskLimit.objects.filter(portfolio=portfolio).values("metric", "limit", "warning_level")
    )
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
    created = RiskLimit.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action=AuditAction.RISK_LIMITS_CHANGED,
        target=portfolio,
        origin=origin,
        details={
            "before": before,
            "after": [
                {"metric": r.metric, "limit": r.limit, "warning_level": r.warning_level}
                for r in rows
            ],
        },
    )
    return created
