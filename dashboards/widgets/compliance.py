"""Compliance at a glance for the chosen portfolios: the most utilised rules of
their latest evaluations as gauges (utilisation is value ÷ limit, 1 = at the
limit) and the counts of active alerts (open, acknowledged or snoozed) by
severity, all through the compliance selectors (entitlement-scoped)."""

from __future__ import annotations

from django.db.models import Count, Max

from analytics.presentation import figures
from compliance.models import EvaluationStatus, RuleResult
from compliance.selectors import AlertFilters, alert_list_for_user
from dashboards.widgets.base import WidgetRequest, envelope

TITLE = "Compliance utilisation"
GAUGES = 6


def build(request: WidgetRequest) -> dict:
    ids = [p.pk for p in request.portfolios]
    codes = {p.pk: p.code for p in request.portfolios}
    alerts = alert_list_for_user(user=request.user, filters=AlertFilters(state="active")).filter(
        portfolio_id__in=ids
    )
    counts = {
        row["severity"]: row["n"] for row in alerts.values("severity").annotate(n=Count("id"))
    }
    done = RuleResult.objects.filter(portfolio_id__in=ids, evaluation__status=EvaluationStatus.DONE)
    latest = {
        row["portfolio_id"]: row["last"]
        for row in done.values("portfolio_id").annotate(last=Max("evaluation_id"))
    }
    results = list(
        done.filter(evaluation_id__in=latest.values(), utilisation__isnull=False)
        .select_related("rule")
        .order_by("-utilisation", "rule_id")[:GAUGES]
    )
    gauges = [
        {
            "label": f"{codes.get(r.portfolio_id, r.portfolio_id)} · {r.rule.name}",
            "utilisation": r.utilisation,
            "warning_level": r.rule.warning_level,
            "status": r.status,
        }
        for r in results
    ]
    as_of = max((r.as_of for r in results), default=None)
    return {
        **envelope(request, title=TITLE),
        "as_of": as_of.isoformat() if as_of else None,
        "alerts": {
            "breach": counts.get("breach", 0),
            "warning": counts.get("warning", 0),
            "total": sum(counts.values()),
        },
        **(
            {"figure": figures.utilisation_gauges_figure(gauges)}
            if gauges
            else {"message": "No evaluated rule for these portfolios yet."}
        ),
    }
