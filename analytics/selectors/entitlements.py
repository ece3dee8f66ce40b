"""Reads of entitled objects. Every query that shows portfolio data to a person
goes through ``portfolio_list_visible_to`` or ``portfolio_get_for_user``."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from analytics.models import Portfolio
from portal.models import AccessLevel, Entitlement, Team, User

# Whoever makes the request: anonymous visitors are allowed in and see nothing.
Viewer = User | AnonymousUser


def _entitlement_filter(user: User, *, manage: bool) -> Q:
    """Owned, or named by an entitlement at the levels that is the user's own or one
    of their teams'. Written as subqueries on the entitlement and team-membership
    tables rather than joins through them: no duplicate rows to remove, and
    PostgreSQL runs it in about half the time (every widget request runs it)."""
    levels = [AccessLevel.MANAGE] if manage else [AccessLevel.VIEW, AccessLevel.MANAGE]
    teams = Team.members.through.objects.filter(user=user).values("team_id")
    granted = Entitlement.objects.filter(Q(user=user) | Q(team_id__in=teams), level__in=levels)
    return Q(owner=user) | Q(pk__in=granted.values("portfolio_id"))


def portfolio_list_visible_to(*, user: Viewer, manage: bool = False) -> QuerySet[Portfolio]:
    """Portfolios the user may see (or, with ``manage=True``, change).

    Access comes from ownership, a personal entitlement, or an entitlement of one
    of the user's teams. Superusers see every portfolio; inactive or anonymous
    users see none.
    """
    if not user.is_authenticated or not user.is_active:
        return Portfolio.objects.none()
    if user.is_superuser:
        return Portfolio.objects.all()
    return Portfolio.objects.filter(_entitlement_filter(user, manage=manage))


def portfolio_get_for_user(*, user: Viewer, portfolio_id: int, manage: bool = False) -> Portfolio:
    """Fetch and authorise in one call. Missing and forbidden both raise ``Http404``
    so that ids leak nothing."""
    portfolio = (
        portfolio_list_visible_to(user=user, manage=manage)
        .select_related("benchmark", "owner")
        .filter(id=portfolio_id)
        .first()
    )
    if portfolio is None:
        raise Http404("No such portfolio.")
    return portfolio


def user_can_manage_portfolio(*, user: Viewer, portfolio: Portfolio) -> bool:
    return portfolio_list_visible_to(user=user, manage=True).filter(id=portfolio.id).exists()
