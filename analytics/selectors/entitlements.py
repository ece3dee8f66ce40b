"""Reads of entitled objects. Every query that shows portfolio data to a person
goes through ``portfolio_list_visible_to`` or ``portfolio_get_for_user``."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from analytics.models import Portfolio
from portal.models import AccessLevel, User

# Whoever makes the request: anonymous visitors are allowed in and see nothing.
Viewer = User | AnonymousUser


def _entitlement_filter(user: User, *, manage: bool) -> Q:
    levels = [AccessLevel.MANAGE] if manage else [AccessLevel.VIEW, AccessLevel.MANAGE]
    return (
        Q(owner=user)
        | Q(entitlements__user=user, entitlements__level__in=levels)
        | Q(entitlements__team__members=user, entitlements__level__in=levels)
    )


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
    visible_ids = Portfolio.objects.filter(_entitlement_filter(user, manage=manage)).values("id")
    return Portfolio.objects.filter(id__in=visible_ids)


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
