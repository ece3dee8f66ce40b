"""The built-in dashboards, one per role, kept in step with this definition after
every migrate (``dashboards.apps`` connects :func:`builtin_dashboards_sync` to
``post_migrate``).

The sync is idempotent: a built-in is found by its role, its widgets by their kind
(a built-in holds each kind once), so widget ids, and with them every user's saved
layout, survive a re-run. Kinds dropped from the definition are deleted; default
positions follow the definition. Administrators land on the executive dashboard.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from portal.models import Role

# role: (name, description, [(kind, x, y, w, h), ...]) on the 12-column grid
BUILTINS: dict[str, tuple[str, str, list[tuple[str, int, int, int, int]]]] = {
    Role.PORTFOLIO_MANAGER: (
        "Portfolio manager",
        "Performance against the benchmark, drawdowns, exposure and holdings.",
        [
            ("kpis", 0, 0, 12, 2),
            ("cumulative", 0, 2, 6, 4),
            ("underwater", 6, 2, 6, 4),
            ("exposure", 0, 6, 6, 5),
            ("holdings", 6, 6, 6, 5),
            ("monthly", 0, 11, 6, 4),
            ("data_quality", 6, 11, 6, 4),
        ],
    ),
    Role.TRADER: (
        "Trader",
        "Positions, exposure and the compliance limits that constrain trading.",
        [
            ("kpis", 0, 0, 12, 2),
            ("holdings", 0, 2, 6, 5),
            ("exposure", 6, 2, 6, 5),
            ("compliance", 0, 7, 6, 5),
            ("data_quality", 6, 7, 6, 5),
        ],
    ),
    Role.RISK_MANAGER: (
        "Risk",
        "VaR and its backtest, rolling risk, drawdowns and correlation across portfolios.",
        [
            ("kpis", 0, 0, 12, 2),
            ("var_history", 0, 2, 6, 4),
            ("underwater", 6, 2, 6, 4),
            ("rolling", 0, 6, 6, 6),
            ("correlation", 6, 6, 6, 6),
            ("exposure", 0, 12, 12, 5),
        ],
    ),
    Role.COMPLIANCE_OFFICER: (
        "Compliance",
        "Rule utilisation, open alerts and the data they rest on.",
        [
            ("compliance", 0, 0, 12, 5),
            ("data_quality", 0, 5, 6, 4),
            ("exposure", 6, 5, 6, 4),
            ("holdings", 0, 9, 12, 5),
        ],
    ),
    Role.EXECUTIVE: (
        "Executive",
        "Every portfolio at a glance, correlation, compliance and operations.",
        [
            ("overview", 0, 0, 12, 4),
            ("correlation", 0, 4, 6, 5),
            ("compliance", 6, 4, 6, 5),
            ("operations", 0, 9, 6, 5),
            ("data_quality", 6, 9, 6, 5),
        ],
    ),
}
LANDING_ROLE: dict[str, str] = {Role.ADMIN: Role.EXECUTIVE}


@transaction.atomic
def builtin_dashboards_sync() -> int:
    """Create or update every built-in dashboard and its widgets; returns how many
    widgets were created."""
    from dashboards.models import Dashboard, Widget

    created = 0
    for role, (name, description, layout) in BUILTINS.items():
        dashboard, _ = Dashboard.objects.update_or_create(
            is_builtin=True, role=role, defaults={"name": name, "description": description}
        )
        existing = {w.kind: w for w in dashboard.widgets.filter(added_by__isnull=True)}
        for kind, x, y, w, h in layout:
            defaults: dict[str, Any] = {"x": x, "y": y, "w": w, "h": h}
            widget = existing.pop(kind, None)
            if widget is None:
                Widget.objects.create(dashboard=dashboard, kind=kind, **defaults)
                created += 1
            elif any(getattr(widget, field) != value for field, value in defaults.items()):
                Widget.objects.filter(pk=widget.pk).update(**defaults)
        if existing:
            Widget.objects.filter(pk__in=[w.pk for w in existing.values()]).delete()
    return created


def builtin_dashboards_on_migrate(sender: Any, **kwargs: Any) -> None:
    """``post_migrate`` receiver of the dashboards app (runs once per migrate, for
    this app's config only, on the migrated database)."""
    builtin_dashboards_sync()
