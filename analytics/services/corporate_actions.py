"""Recording splits. A split changes the quantities every holder of the
instrument has from its ex-date on (see ``analytics.services.positions``), so
recording one marks those portfolios' data changed, writes an audit event and,
once committed, re-derives their positions and re-scans their data quality."""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from analytics.models import CorporateAction, CorporateActionKind, Instrument, Trade
from analytics.services.imports.after_commit import portfolios_refresh_on_commit
from analytics.services.versions import portfolio_data_changed_mark
from portal.models import AuditAction, User
from portal.origins import RequestOrigin
from portal.services import audit_record


@transaction.atomic
def split_record(
    *,
    instrument: Instrument,
    ex_date: dt.date,
    ratio: Decimal,
    source: str = "manual",
    actor: User | None = None,
    origin: RequestOrigin | None = None,
) -> CorporateAction:
    """Record (or correct) a split of ``ratio`` new shares per old share effective
    at the open of ``ex_date``. Idempotent by (instrument, ex-date, source)."""
    ratio = Decimal(ratio)
    if ratio <= 0:
        raise ValueError("a split ratio must be positive (0.1 is a one-for-ten reverse split)")
    action, _ = CorporateAction.objects.update_or_create(
        instrument=instrument,
        kind=CorporateActionKind.SPLIT,
        ex_date=ex_date,
        source=source,
        defaults={"ratio": ratio},
    )
    portfolio_ids = set(
        Trade.objects.filter(instrument=instrument).values_list("portfolio_id", flat=True)
    )
    # Announced by the rebuild queued below, once the positions are re-derived.
    portfolio_data_changed_mark(portfolio_ids=portfolio_ids, announce=False)
    audit_record(
        actor=actor,
        action=AuditAction.DATA_IMPORTED,
        target=action,
        origin=origin,
        details={
            "kind": "split",
            "instrument": instrument.identifier,
            "ex_date": ex_date.isoformat(),
            "ratio": str(ratio),
            "portfolios": sorted(portfolio_ids),
        },
    )
    portfolios_refresh_on_commit(portfolio_ids=portfolio_ids)
    return action
