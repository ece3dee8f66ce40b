"""Changes to dashboards: create, update, delete, clone, widgets, layouts, shares.

Callers authorise first through ``dashboards.selectors.dashboard_get_for_user``
(with ``edit=True`` or ``share=True`` as the change needs). Every change to a
dashboard writes one ``DASHBOARD_CHANGED`` audit event and every share change its
``SHARE`` / ``SHARE_CHANGED`` / ``SHARE_REVOKED`` event, in the same transaction.
A user's own layout and own additions are not audited: they change nobody
else's view. Bad input raises :class:`DashboardError` (a 400 at the API).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from dashboards.models import (
    GRID_COLUMNS,
    Dashboard,
    DashboardLayout,
    DashboardShare,
    ShareLevel,
    Widget,
)
from dashboards.selectors import dashboard_can_edit, dashboard_widgets_for_user
from dashboards.widgets import CATALOG
from portal.models import AuditAction, Team, User
from portal.origins import RequestOrigin
from portal.services import audit_record

MAX_WIDGETS = 30
MAX_ROWS = 200


class DashboardError(ValueError):
    """Input a dashboard change cannot accept; ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _position(x: int, y: int, w: int, h: int) -> dict[str, int]:
    """A grid position checked against the 12-column grid (x + w ≤ 12)."""
    values = {"x": int(x), "y": int(y), "w": int(w), "h": int(h)}
    if values["w"] < 1 or values["h"] < 1:
        raise DashboardError("size", "A widget is at least one cell wide and high.")
    if values["x"] < 0 or values["y"] < 0 or values["x"] + values["w"] > GRID_COLUMNS:
        raise DashboardError("position", f"A widget fits inside {GRID_COLUMNS} columns.")
    if values["y"] + values["h"] > MAX_ROWS:
        raise DashboardError("position", f"A dashboard is at most {MAX_ROWS} rows high.")
    return values


def _kind(user: User, kind: str) -> None:
    if kind not in CATALOG or not CATALOG[kind].allowed_for(user):
        raise DashboardError("kind", f"Unknown widget kind {kind!r}.")


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DashboardError("name", "A dashboard needs a name.")
    if len(name) > 120:
        raise DashboardError("name", "A name is at most 120 characters.")
    return name


@transaction.atomic
def dashboard_create(
    *,
    owner: User,
    name: str,
    description: str = "",
    widgets: Sequence[dict[str, Any]] = (),
    origin: RequestOrigin | None = None,
) -> Dashboard:
    """A new dashboard of ``owner`` with ``widgets`` (each ``{"kind", "x", "y",
    "w", "h", "options"}``; a missing size is the kind's default)."""
    if len(widgets) > MAX_WIDGETS:
        raise DashboardError("widgets", f"A dashboard holds at most {MAX_WIDGETS} widgets.")
    dashboard = Dashboard.objects.create(
        owner=owner, name=_name(name), description=description[:300]
    )
    for spec in widgets:
        _kind(owner, spec.get("kind", ""))
        kind = CATALOG[spec["kind"]]
        Widget.objects.create(
            dashboard=dashboard,
            kind=kind.key,
            title=str(spec.get("title", ""))[:120],
            options=dict(spec.get("options") or {}),
            **_position(
                spec.get("x", 0),
                spec.get("y", 0),
                spec.get("w", kind.width),
                spec.get("h", kind.height),
            ),
        )
    audit_record(
        actor=owner,
        action=AuditAction.DASHBOARD_CHANGED,
        target=dashboard,
        origin=origin,
        details={"change": "created", "widgets": len(widgets)},
    )
    return dashboard


@transaction.atomic
def dashboard_update(
    *,
    dashboard: Dashboard,
    actor: User,
    name: str | None = None,
    description: str | None = None,
    origin: RequestOrigin | None = None,
) -> Dashboard:
    """Rename or redescribe an editable dashboard (authorised with ``edit=True``)."""
    changed = {}
    if name is not None and _name(name) != dashboard.name:
        changed["name"] = [dashboard.name, _name(name)]
        dashboard.name = _name(name)
    if description is not None and description[:300] != dashboard.description:
        changed["description"] = [dashboard.description, description[:300]]
        dashboard.description = description[:300]
    if changed:
        dashboard.save()
        audit_record(
            actor=actor,
            action=AuditAction.DASHBOARD_CHANGED,
            target=dashboard,
            origin=origin,
            details={"change": "updated", "fields": changed},
        )
    return dashboard


@transaction.atomic
def dashboard_delete(
    *, dashboard: Dashboard, actor: User, origin: RequestOrigin | None = None
) -> None:
    if dashboard.is_builtin:
        raise DashboardError("dashboard", "Built-in dashboards cannot be deleted.")
    audit_record(
        actor=actor,
        action=AuditAction.DASHBOARD_CHANGED,
        target=dashboard,
        origin=origin,
        details={"change": "deleted", "name": dashboard.name},
    )
    dashboard.delete()


@transaction.atomic
def dashboard_clone(
    *, dashboard: Dashboard, user: User, name: str = "", origin: RequestOrigin | None = None
) -> Dashboard:
    """A copy owned by ``user`` of the dashboard as ``user`` sees it (their layout,
    their own additions, without what they removed). Shares are not copied."""
    placed = dashboard_widgets_for_user(user=user, dashboard=dashboard)
    return dashboard_create(
        owner=user,
        name=name or f"Copy of {dashboard.name}"[:120],
        description=dashboard.description,
        widgets=[
            {
                "kind": p.kind,
                "title": p.widget.title,
                "options": p.widget.options,
                "x": p.x,
                "y": p.y,
                "w": p.w,
                "h": p.h,
            }
            for p in placed
            if CATALOG[p.kind].allowed_for(user)
        ],
        origin=origin,
    )


@transaction.atomic
def widget_add(
    *,
    dashboard: Dashboard,
    user: User,
    kind: str,
    x: int = 0,
    y: int = 0,
    w: int | None = None,
    h: int | None = None,
    options: dict[str, Any] | None = None,
    origin: RequestOrigin | None = None,
) -> Widget:
    """Add a widget. On a dashboard the user may edit it joins the dashboard (for
    everyone, audited); otherwise it is the user's own addition, seen by them only."""
    _kind(user, kind)
    spec = CATALOG[kind]
    if dashboard.widgets.count() >= MAX_WIDGETS:
        raise DashboardError("widgets", f"A dashboard holds at most {MAX_WIDGETS} widgets.")
    shared = dashboard_can_edit(user=user, dashboard=dashboard)
    widget = Widget.objects.create(
        dashboard=dashboard,
        kind=kind,
        options=dict(options or {}),
        added_by=None if shared else user,
        **_position(x, y, w or spec.width, h or spec.height),
    )
    if shared:
        audit_record(
            actor=user,
            action=AuditAction.DASHBOARD_CHANGED,
            target=dashboard,
            origin=origin,
            details={"change": "widget_added", "widget": widget.pk, "kind": kind},
        )
    return widget


@transaction.atomic
def widget_remove(
    *, dashboard: Dashboard, user: User, widget: Widget, origin: RequestOrigin | None = None
) -> None:
    """Remove a widget: the user's own addition is deleted; on a dashboard they may
    edit the widget is deleted for everyone (audited); otherwise it is hidden from
    their own view only."""
    if widget.added_by_id == user.pk:
        widget.delete()
        return
    if dashboard_can_edit(user=user, dashboard=dashboard):
        audit_record(
            actor=user,
            action=AuditAction.DASHBOARD_CHANGED,
            target=dashboard,
            origin=origin,
            details={"change": "widget_removed", "widget": widget.pk, "kind": widget.kind},
        )
        widget.delete()
        return
    layout, _ = DashboardLayout.objects.select_for_update().get_or_create(
        dashboard=dashboard, user=user
    )
    if widget.pk not in layout.hidden:
        layout.hidden = [*layout.hidden, widget.pk]
        layout.save(update_fields=["hidden", "updated_at"])


@transaction.atomic
def layout_save(
    *, dashboard: Dashboard, user: User, items: Sequence[dict[str, Any]]
) -> DashboardLayout:
    """Store ``user``'s positions for the widgets they see (each ``{"widget", "x",
    "y", "w", "h"}``); an id they do not see is refused. Widgets not listed keep
    their earlier position."""
    visible = {p.id for p in dashboard_widgets_for_user(user=user, dashboard=dashboard)}
    layout, _ = DashboardLayout.objects.select_for_update().get_or_create(
        dashboard=dashboard, user=user
    )
    positions = {item["widget"]: item for item in layout.items}
    for item in items:
        try:
            widget_id = int(item["widget"])
            position = _position(item["x"], item["y"], item["w"], item["h"])
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, DashboardError):
                raise
            raise DashboardError("items", "Each item has widget, x, y, w and h.") from error
        if widget_id not in visible:
            raise DashboardError("items", f"No widget {widget_id} on this dashboard.")
        positions[widget_id] = {"widget": widget_id, **position}
    layout.items = [positions[k] for k in sorted(positions) if k in visible]
    layout.save(update_fields=["items", "updated_at"])
    return layout


@transaction.atomic
def dashboard_share(
    *,
    dashboard: Dashboard,
    actor: User,
    level: str,
    user: User | None = None,
    team: Team | None = None,
    origin: RequestOrigin | None = None,
) -> DashboardShare:
    """Share with exactly one of a user or a team at ``level`` (``view`` or
    ``edit``); sharing again changes the level. Audited as ``SHARE`` or
    ``SHARE_CHANGED``. The recipient sees their own portfolios only."""
    if (user is None) == (team is None):
        raise DashboardError("recipient", "Share with either a user or a team.")
    if level not in ShareLevel.values:
        raise DashboardError("level", "Level is view or edit.")
    if dashboard.is_builtin:
        raise DashboardError("dashboard", "Built-in dashboards are open to everyone already.")
    if user is not None and user.pk == dashboard.owner_id:
        raise DashboardError("user", "The owner has the dashboard already.")
    share = (
        DashboardShare.objects.select_for_update()
        .filter(dashboard=dashboard, user=user, team=team)
        .first()
    )
    recipient = {"user": user.get_username()} if user else {"team": team.name if team else ""}
    if share is None:
        share = DashboardShare.objects.create(
            dashboard=dashboard, user=user, team=team, level=level, created_by=actor
        )
        audit_record(
            actor=actor,
            action=AuditAction.SHARE,
            target=dashboard,
            origin=origin,
            details={"share": share.pk, "level": level, **recipient},
        )
    elif share.level != level:
        previous, share.level = share.level, level
        share.save(update_fields=["level"])
        audit_record(
            actor=actor,
            action=AuditAction.SHARE_CHANGED,
            target=dashboard,
            origin=origin,
            details={"share": share.pk, "from": previous, "to": level, **recipient},
        )
    return share


@transaction.atomic
def dashboard_share_revoke(
    *, share: DashboardShare, actor: User, origin: RequestOrigin | None = None
) -> None:
    recipient = (
        {"user": share.user.get_username()}
        if share.user
        else {"team": share.team.name if share.team else ""}
    )
    audit_record(
        actor=actor,
        action=AuditAction.SHARE_REVOKED,
        target=share.dashboard,
        origin=origin,
        details={"share": share.pk, "level": share.level, **recipient},
    )
    share.delete()
