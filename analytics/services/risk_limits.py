"""Writes of per-portfolio risk limits."""

from collections.abc import Iterable

from django.db import transaction

from analytics.models import DEFAULT_RISK_WINDOWS, Portfolio, RiskLimit
from portal.models import AuditAction
from portal.origins import RequestOrigin
from portal.services import audit_record


@transaction.atomic
def risk_limits_replace(
    *, portfolio: Portfolio, limits: Iterable[dict], actor=None, origin: RequestOrigin | None = None
) -> list[RiskLimit]:
    """Replace ``portfolio``'s risk limits with ``limits`` (dicts with ``metric``,
    ``limit``, and optionally ``window``, ``warning_level`` and ``note``; one per
    metric and window), and audit the old and new sets. A limit without a window
    is stored with the metric's default window (:data:`DEFAULT_RISK_WINDOWS`), so
    every stored limit states the window it applies to."""
    before = list(
        RiskLimit.objects.filter(portfolio=portfolio).values(
            "metric", "window", "limit", "warning_level"
        )
    )
    RiskLimit.objects.filter(portfolio=portfolio).delete()
    rows = [
        RiskLimit(
            portfolio=portfolio,
            metric=row["metric"],
            window=row.get("window") or DEFAULT_RISK_WINDOWS[row["metric"]],
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
                {
                    "metric": r.metric,
                    "window": r.window,
                    "limit": r.limit,
                    "warning_level": r.warning_level,
                }
                for r in rows
            ],
        },
    )
    return created
