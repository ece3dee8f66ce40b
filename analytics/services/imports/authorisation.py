"""Who may import what, checked before any work is done.

* **Market data** (instruments, prices, FX: shared by every portfolio) needs the
  model's ``add`` permission (``analytics.add_price``, ...).
* **Portfolio data** (trades, positions, cash flows) goes only into portfolios
  the actor manages: owned, or granted with ``manage`` personally or through a
  team (``analytics.selectors.entitlements``). Rows are scoped one by one while
  they are validated: a portfolio the actor may not manage reads as unknown
  (``import_portfolios``), so a code tells nothing about portfolios the actor
  cannot see.

``import_authorise`` refuses an input *as a whole* (``PermissionDenied``, which
the API and the admin answer with 403) when it could import nothing for lack of
permission, before any ``ImportRun`` row is created, any file is stored or any
idempotency key is claimed:

* market data without the ``add`` permission;
* portfolio data from an actor who manages no portfolio at all (a trader with
  view-only access, say). This holds for every input, including an uploaded file
  whose portfolios are only known once it is parsed;
* portfolio data whose portfolios are known up front (a pushed batch: the
  ``portfolio`` values of its rows) when the actor manages none of them. The
  codes the actor may only view, those hidden from them and those that do not
  exist get the same refusal, so a 403 says nothing about what exists.

An input that names some portfolios the actor manages and some they do not is a
data problem, not a permission one: those rows fail validation ("unknown
portfolio ... (or not one you may change)") and the import is rejected, or, with
``skip_invalid``, the other rows are committed, as for any bad row. Rows with no
portfolio value are left to validation as well (a field error, not a 403).

``actor=None`` is the system (the CLI without ``--user``, pull sources): it may
import everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from analytics.ingest.kinds import KindSpec
from analytics.ingest.parsers import cell_text
from analytics.models import DataKind, Portfolio
from analytics.selectors.entitlements import portfolio_list_visible_to
from portal.models import User

MARKET_DATA_KINDS = {DataKind.INSTRUMENTS, DataKind.PRICES, DataKind.FX}

# How many of the refused codes a refusal names (a batch may name thousands).
CODES_NAMED = 5


def import_authorise(
    *,
    spec: KindSpec,
    actor: User | None,
    rows: Iterable[Mapping[str, Any]] | None = None,
    column_mapping: Mapping[str, str] | None = None,
) -> None:
    """Raise ``PermissionDenied`` when ``actor`` may import nothing of ``spec``'s
    kind (the rules are in the module docstring). ``rows`` is the input when it
    is known before the import (a pushed batch, keys as sent; ``column_mapping``
    renames them as the parser does): its portfolio codes are checked too."""
    if actor is None:
        return
    if spec.kind in MARKET_DATA_KINDS:
        permission = f"analytics.add_{spec.model._meta.model_name}"
        if not actor.has_perm(permission):
            raise PermissionDenied(
                f"importing {spec.kind} needs the permission {permission} (market data is shared)"
            )
        return
    if spec.portfolio_column is None:
        return
    managed = import_portfolios(actor=actor)
    if not managed.exists():
        raise PermissionDenied(
            f"importing {spec.kind} needs manage access to a portfolio; you may manage none"
        )
    if rows is None:
        return
    named = _portfolio_codes(rows, column=spec.portfolio_column, column_mapping=column_mapping)
    if named and not managed.filter(code__in=named).exists():
        shown = ", ".join(sorted(named)[:CODES_NAMED]) + ("…" if len(named) > CODES_NAMED else "")
        raise PermissionDenied(
            f"importing {spec.kind} needs manage access to the portfolios named; you may "
            f"manage none of {shown} (or they do not exist)"
        )


def import_permitted(*, spec: KindSpec, actor: User | None) -> bool:
    """Whether ``actor`` may import anything of ``spec``'s kind (the admin shows
    its import page to them only)."""
    try:
        import_authorise(spec=spec, actor=actor)
    except PermissionDenied:
        return False
    return True


def import_portfolios(*, actor: User | None) -> QuerySet[Portfolio]:
    """The portfolios ``actor`` may import into: every one for the system, else
    those the actor manages."""
    if actor is None:
        return Portfolio.objects.all()
    return portfolio_list_visible_to(user=actor, manage=True)


def _portfolio_codes(
    rows: Iterable[Mapping[str, Any]], *, column: str, column_mapping: Mapping[str, str] | None
) -> set[str]:
    """The non-empty portfolio codes of ``rows``, read as the parser reads them
    (keys stripped, lower-cased and renamed by ``column_mapping``; cells as text,
    stripped). Anything that is not an object is left to the parser to refuse."""
    mapping = {
        str(key).strip().lower(): str(value).strip().lower()
        for key, value in (column_mapping or {}).items()
    }
    codes: set[str] = set()
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        for key, value in row.items():
            name = str(key).strip().lower()
            if mapping.get(name, name) == column and not isinstance(value, dict | list):
                code = cell_text(value).strip()
                if code:
                    codes.add(code)
    return codes
