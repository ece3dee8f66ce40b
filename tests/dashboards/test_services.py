"""Dashboard services: built-ins after migrate and their landing, per-user layouts and
additions, clones as the user sees them, and shares audited in the same transaction."""

import pytest

from dashboards import selectors, services
from dashboards.builtins import BUILTINS, builtin_dashboards_sync
from dashboards.models import Dashboard, Widget
from portal.models import AuditAction, AuditEvent, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_role_has_its_built_in_dashboard_after_migrate_and_a_resync_changes_nothing():
    assert set(Dashboard.objects.filter(is_builtin=True).values_list("role", flat=True)) == set(
        BUILTINS
    )
    ids = sorted(Widget.objects.values_list("id", flat=True))
    assert builtin_dashboards_sync() == 0
    assert sorted(Widget.objects.values_list("id", flat=True)) == ids  # layouts keep their ids


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.PORTFOLIO_MANAGER, "Portfolio manager"),
        (Role.TRADER, "Trader"),
        (Role.RISK_MANAGER, "Risk"),
        (Role.COMPLIANCE_OFFICER, "Compliance"),
        (Role.EXECUTIVE, "Executive"),
        (Role.ADMIN, "Executive"),
    ],
)
def test_each_role_lands_on_its_dashboard(role, landing):
    user = UserFactory(role=role)
    assert selectors.dashboard_landing_for(user=user).name == landing


def test_an_addition_to_a_built_in_dashboard_is_the_users_own(alice, bob):
    builtin = Dashboard.objects.get(role=Role.PORTFOLIO_MANAGER)
    widget = services.widget_add(dashboard=builtin, user=alice, kind="correlation", y=40)
    assert widget.added_by == alice
    assert widget.pk in {
        p.id for p in selectors.dashboard_widgets_for_user(user=alice, dashboard=builtin)
    }
    assert widget.pk not in {
        p.id for p in selectors.dashboard_widgets_for_user(user=bob, dashboard=builtin)
    }
    assert not AuditEvent.objects.filter(action=AuditAction.DASHBOARD_CHANGED).exists()


def test_a_layout_is_kept_per_user(alice, bob):
    builtin = Dashboard.objects.get(role=Role.PORTFOLIO_MANAGER)
    kpis = builtin.widgets.get(kind="kpis")
    services.layout_save(
        dashboard=builtin, user=alice, items=[{"widget": kpis.pk, "x": 0, "y": 20, "w": 6, "h": 3}]
    )
    mine = {p.id: p for p in selectors.dashboard_widgets_for_user(user=alice, dashboard=builtin)}
    theirs = {p.id: p for p in selectors.dashboard_widgets_for_user(user=bob, dashboard=builtin)}
    assert (mine[kpis.pk].y, mine[kpis.pk].w, mine[kpis.pk].h) == (20, 6, 3)
    assert (theirs[kpis.pk].y, theirs[kpis.pk].w) == (kpis.y, kpis.w)


def test_a_layout_refuses_a_widget_off_the_grid_or_not_on_the_dashboard(alice):
    builtin = Dashboard.objects.get(role=Role.PORTFOLIO_MANAGER)
    kpis = builtin.widgets.get(kind="kpis")
    with pytest.raises(services.DashboardError):
        services.layout_save(
            dashboard=builtin,
            user=alice,
            items=[{"widget": kpis.pk, "x": 8, "y": 0, "w": 6, "h": 2}],
        )
    other = Dashboard.objects.get(role=Role.TRADER).widgets.first()
    with pytest.raises(services.DashboardError):
        services.layout_save(
            dashboard=builtin,
            user=alice,
            items=[{"widget": other.pk, "x": 0, "y": 0, "w": 6, "h": 2}],
        )


def test_removing_a_shared_widget_from_a_view_only_dashboard_hides_it_for_that_user(alice, bob):
    builtin = Dashboard.objects.get(role=Role.PORTFOLIO_MANAGER)
    monthly = builtin.widgets.get(kind="monthly")
    services.widget_remove(dashboard=builtin, user=alice, widget=monthly)
    assert Widget.objects.filter(pk=monthly.pk).exists()
    assert monthly.pk not in {
        p.id for p in selectors.dashboard_widgets_for_user(user=alice, dashboard=builtin)
    }
    assert monthly.pk in {
        p.id for p in selectors.dashboard_widgets_for_user(user=bob, dashboard=builtin)
    }


def test_a_clone_copies_the_dashboard_as_the_user_sees_it(alice):
    builtin = Dashboard.objects.get(role=Role.PORTFOLIO_MANAGER)
    services.widget_remove(
        dashboard=builtin, user=alice, widget=builtin.widgets.get(kind="monthly")
    )
    clone = services.dashboard_clone(dashboard=builtin, user=alice)
    assert clone.owner == alice and not clone.is_builtin
    kinds = set(clone.widgets.values_list("kind", flat=True))
    assert "monthly" not in kinds and "kpis" in kinds


def test_sharing_is_audited_on_create_change_and_revoke(alice, bob, desk):
    board = services.dashboard_create(owner=alice, name="Desk")
    share = services.dashboard_share(dashboard=board, actor=alice, user=bob, level="view")
    services.dashboard_share(dashboard=board, actor=alice, user=bob, level="edit")
    services.dashboard_share(dashboard=board, actor=alice, user=bob, level="edit")  # no change
    services.dashboard_share(dashboard=board, actor=alice, team=desk, level="view")
    services.dashboard_share_revoke(share=share, actor=alice)
    actions = list(
        AuditEvent.objects.filter(target_id=str(board.pk), target_type="dashboards.Dashboard")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        AuditAction.DASHBOARD_CHANGED,
        AuditAction.SHARE,
        AuditAction.SHARE_CHANGED,
        AuditAction.SHARE,
        AuditAction.SHARE_REVOKED,
    ]


def test_a_team_share_opens_the_dashboard_to_its_members_only(alice, bob, mallory, desk):
    board = services.dashboard_create(owner=alice, name="Desk")
    services.dashboard_share(dashboard=board, actor=alice, team=desk, level="view")
    assert selectors.dashboard_get_for_user(user=bob, dashboard_id=board.pk) == board
    with pytest.raises(Exception, match="No such dashboard"):
        selectors.dashboard_get_for_user(user=mallory, dashboard_id=board.pk)


def test_the_operations_widget_is_for_executives_and_administrators(alice):
    board = services.dashboard_create(owner=alice, name="Mine")
    with pytest.raises(services.DashboardError):
        services.widget_add(dashboard=board, user=alice, kind="operations")
    executive = UserFactory(role=Role.EXECUTIVE)
    own = services.dashboard_create(owner=executive, name="Ops")
    assert (
        services.widget_add(dashboard=own, user=executive, kind="operations").kind == "operations"
    )
