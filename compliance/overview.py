"""Compliance facts on the portfolio overview (``analytics.selectors.overview``).

Registered in ``ComplianceConfig.ready``: open alerts per portfolio by severity.
An alert is open while it is current and not resolved or waived (open,
acknowledged and snoozed alerts all count: each still needs a decision).
"""

from collections.abc import Sequence

from django.db.models import Count

from compliance.models import Alert, AlertState

OPEN_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED)


def open_alert_counts(portfolio_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """``{portfolio id: {severity: count}}`` of open alerts (portfolios without
    any are absent)."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Alert.objects.filter(portfolio_id__in=portfolio_ids, is_current=True, state__in=OPEN_STATES)
        .values("portfolio_id", "severity")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts.setdefault(row["portfolio_id"], {})[row["severity"]] = row["n"]
    return counts
