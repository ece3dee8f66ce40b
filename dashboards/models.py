"""Dashboards: a named grid of widgets, per-user layouts, and shares.

* A **built-in** dashboard (``is_builtin``, no owner) exists once per role and is
  kept in step with ``dashboards.builtins`` after every migrate; every user may
  open every built-in one, and lands on the one of their role.
* A user's own dashboard has an ``owner``; the owner may share it with users or
  teams, to view or to edit (``DashboardShare``, exactly one of user or team).
* A ``Widget`` is one tile of the grid: its ``kind`` names an entry of the widget
  catalog (``dashboards.widgets``), its default position and size are grid cells
  (12 columns; ``x``/``w`` in columns, ``y``/``h`` in rows), ``options`` holds the
  kind's settings. A widget with ``added_by`` set is that user's own addition to a
  dashboard they may only view, and nobody else sees it.
* A ``DashboardLayout`` is one user's arrangement of one dashboard: the position
  and size of each widget they show and the ids of those they removed. Widgets
  without an entry keep their default position.

What a widget shows is always scoped by the viewer's entitlements, never by the
owner's: sharing a dashboard shares its arrangement, not its data.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from portal.models import Role

GRID_COLUMNS = 12


class Dashboard(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dashboards",
        help_text="Empty for a built-in dashboard.",
    )
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    is_builtin = models.BooleanField(default=False)
    role = models.CharField(
        max_length=32,
        choices=Role.choices,
        blank=True,
        help_text="The role whose users land on this built-in dashboard.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_builtin", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_builtin=True, owner__isnull=True)
                | Q(is_builtin=False, owner__isnull=False),
                name="dashboard_builtin_xor_owner",
            ),
            models.UniqueConstraint(
                fields=["role"],
                condition=Q(is_builtin=True),
                name="dashboard_one_builtin_per_role",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Widget(models.Model):
    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="widgets")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=120, blank=True)
    x = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(GRID_COLUMNS - 1)]
    )
    y = models.PositiveSmallIntegerField(default=0)
    w = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(GRID_COLUMNS)]
    )
    h = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    options = models.JSONField(default=dict, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Set for a user's own addition that only they see.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["y", "x", "id"]

    def __str__(self) -> str:
        return f"{self.dashboard_id}/{self.kind}"


class DashboardLayout(models.Model):
    """``items``: ``[{"widget": id, "x": .., "y": .., "w": .., "h": ..}]``;
    ``hidden``: ids of the dashboard's widgets this user removed."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="layouts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    items = models.JSONField(default=list, blank=True)
    hidden = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dashboard", "user"], name="dashboard_layout_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.dashboard_id} for {self.user_id}"


class ShareLevel(models.TextChoices):
    VIEW = "view", "View"
    EDIT = "edit", "Edit"


class DashboardShare(models.Model):
    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dashboard_shares",
    )
    team = models.ForeignKey(
        "portal.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dashboard_shares",
    )
    level = models.CharField(max_length=8, choices=ShareLevel.choices, default=ShareLevel.VIEW)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="dashboard_share_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["dashboard", "user"],
                condition=Q(user__isnull=False),
                name="dashboard_share_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["dashboard", "team"],
                condition=Q(team__isnull=False),
                name="dashboard_share_once_per_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dashboard_id} → {self.user_id or f'team {self.team_id}'} ({self.level})"
