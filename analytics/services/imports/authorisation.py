"""Who may import what: portfolio data into the portfolios one manages, market
data (shared by every portfolio) with the model's ``add`` permission.
``actor=None`` is the system (the CLI without ``--user``, pull sources)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from analytics.ingest.kinds import KindSpec
from analytics.models import DataKind, Portfolio
from analytics.selectors.entitlements import portfolio_list_visible_to
from portal.models import User

MARKET_DATA_KINDS = {DataKind.INSTRUMENTS, DataKind.PRICES, DataKind.FX}


def import_authorise(*, spec: KindSpec, actor: User | None) -> None:
    """Raise ``PermissionDenied`` when ``actor`` may not import market data of
    ``spec``'s kind. Portfolio data is scoped row by row instead: a portfolio the
    actor may not manage reads as unknown (``import_portfolios``)."""
    if actor is None or spec.kind not in MARKET_DATA_KINDS:
        return
    permission = f"analytics.add_{spec.model._meta.model_name}"
    if not actor.has_perm(permission):
        raise PermissionDenied(
            f"importing {spec.kind} needs the permission {permission} (market data is shared)"
        )


def import_portfolios(*, actor: User | None) -> QuerySet[Portfolio]:
    """The portfolios ``actor`` may import into: every one for the system, else
    those the actor manages."""
    if actor is None:
        return Portfolio.objects.all()
    return portfolio_list_visible_to(user=actor, manage=True)
