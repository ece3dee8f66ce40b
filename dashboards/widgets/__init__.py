"""The widget catalog: every kind a dashboard may hold, one small module each.

Each :class:`WidgetKind` names its builder (``build(request) -> payload``, see
:mod:`dashboards.widgets.base`), its default size in grid cells, whether it shows
one portfolio (the first chosen) or all the chosen ones, what its data depends on
(``portfolios``: the portfolios' data versions and snapshots; ``compliance``:
evaluations and alerts; ``operations``: the whole portal, refreshed on a short
clock) and which roles may add it (None: everyone). ``tile`` kinds come first on
a phone.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.widgets import (
    compliance,
    correlation,
    cumulative,
    data_quality,
    exposure,
    holdings,
    kpis,
    monthly,
    operations,
    overview,
    rolling,
    underwater,
    var_history,
)
from dashboards.widgets.base import Builder
from portal.models import Role, User


@dataclass(frozen=True)
class WidgetKind:
    key: str
    label: str
    build: Builder
    width: int
    height: int
    many: bool = False
    depends: str = "portfolios"
    roles: tuple[str, ...] | None = None
    tile: bool = False

    def allowed_for(self, user: User) -> bool:
        return self.roles is None or user.is_superuser or user.role in self.roles


CATALOG: dict[str, WidgetKind] = {
    kind.key: kind
    for kind in (
        WidgetKind("kpis", "Key figures", kpis.build, 12, 2, tile=True),
        WidgetKind("cumulative", "Cumulative return vs benchmark", cumulative.build, 6, 4),
        WidgetKind("underwater", "Drawdown", underwater.build, 6, 4),
        WidgetKind("rolling", "Rolling volatility, Sharpe, beta", rolling.build, 6, 6),
        WidgetKind("monthly", "Monthly returns heatmap", monthly.build, 6, 4),
        WidgetKind("exposure", "Exposure treemap", exposure.build, 6, 5),
        WidgetKind("holdings", "Holdings table", holdings.build, 6, 5),
        WidgetKind(
            "correlation", "Correlation across portfolios", correlation.build, 6, 5, many=True
        ),
        WidgetKind("var_history", "VaR backtest and exceptions", var_history.build, 6, 4),
        WidgetKind(
            "compliance",
            "Compliance utilisation and alerts",
            compliance.build,
            6,
            5,
            many=True,
            depends="compliance",
        ),
        WidgetKind("data_quality", "Data quality", data_quality.build, 6, 3, many=True, tile=True),
        WidgetKind("overview", "Portfolios overview", overview.build, 12, 4, many=True),
        WidgetKind(
            "operations",
            "Operations",
            operations.build,
            6,
            5,
            many=True,
            depends="operations",
            roles=(Role.EXECUTIVE, Role.ADMIN),
        ),
    )
}


def kinds_for(user: User) -> list[WidgetKind]:
    """The kinds ``user`` may add, in catalog order."""
    return [kind for kind in CATALOG.values() if kind.allowed_for(user)]
