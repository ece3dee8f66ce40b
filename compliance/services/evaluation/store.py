"""Storing one evaluation: a :class:`~compliance.models.RuleResult` per rule and
portfolio, the warnings and breaches handed to the alert episodes, and the
evaluation marked done — all in one transaction, so an evaluation is either done
with all its results and alerts, or not done at all. Only the holder of the
evaluation's lease stores it (``portal.leases``): marking it done releases the
lease in the same UPDATE, and a holder that lost its lease stores nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from compliance.models import Evaluation, EvaluationStatus, Rule, RuleResult
from compliance.services.alerts import alerts_observe
from portal.leases import LEASE_CLEARED, lease_holder_name

LEASE_KIND = "evaluation"
"""The evaluations' key in ``settings.LEASE_SECONDS`` and in the lease sweeper."""

GROUP_MAX_LENGTH = 500
"""``RuleResult.group`` is a CharField of this length; longer group lists are cut."""


def _optional_float(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _rule_result(row: Any, *, evaluation: Evaluation, unvalued: int) -> RuleResult:
    """One engine row as an unsaved result; ``unvalued`` holdings (no price or FX
    rate) are named in the detail, since they make every weight uncertain."""
    detail = dict(row.detail) if isinstance(row.detail, dict) else {}
    if unvalued:
        detail["unvalued_holdings"] = unvalued
    return RuleResult(
        evaluation=evaluation,
        rule_id=int(row.rule),
        portfolio_id=evaluation.portfolio_id,
        as_of=evaluation.as_of,
        value=_optional_float(row.value),
        limit=float(row.limit),
        utilisation=_optional_float(row.utilisation),
        status=row.status,
        active=bool(row.active),
        group=str(row.group or "")[:GROUP_MAX_LENGTH],
        detail=detail,
    )


@transaction.atomic
def evaluation_store(
    *,
    evaluation: Evaluation,
    rows: pd.DataFrame | None,
    rules: dict[int, Rule],
    unvalued: int,
) -> list[RuleResult]:
    """Store the engine's ``rows`` for this evaluation's portfolio (``None``: no
    rule in scope), feed them to the alert episodes and mark the evaluation done,
    releasing this process's lease. ``rules`` maps every rule id in ``rows`` to its
    rule. Returns the results; none are stored when this process no longer holds
    the lease (another worker took the evaluation over)."""
    # Marking done first locks the row, so a takeover cannot slip in before the commit.
    held = Evaluation.objects.filter(id=evaluation.id, lease_holder=lease_holder_name()).update(
        status=EvaluationStatus.DONE, finished_at=timezone.now(), error="", **LEASE_CLEARED
    )
    if not held:
        return []
    stored = (
        []
        if rows is None
        else [
            _rule_result(row, evaluation=evaluation, unvalued=unvalued)
            for row in rows.itertuples(index=False)
        ]
    )
    RuleResult.objects.bulk_create(stored)
    for result in stored:
        result.rule = rules[result.rule_id]
    alerts_observe(results=stored)
    return stored
