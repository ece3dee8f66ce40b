"""Demo compliance set-up on top of the analytics demo (``load_demo``): the
regulatory templates on the funds they fit, a few house rules, and one evaluation
of every portfolio so the compliance officer's queue has alerts to work.

* UCITS 5/10/40 on the EUR and GBP funds, the 1940 Act diversified-fund test on
  the USD funds, SEC 18f-4 (absolute) on the multi-asset funds.
* House rules on every portfolio: at most 5 % in one instrument (warn at 90 %),
  at most 30 % in one sector (government and supranational debt left out: its
  limits are the issuer rules'), and a watch list of the largest holding of the
  first portfolio (warn only).
"""

from typing import Any

from django.db import transaction

from analytics.models import DERIVED_SOURCE, AssetClass, Portfolio, PositionSnapshot
from compliance.models import Rule, RuleScope
from compliance.services.evaluation.run import evaluate_now
from compliance.services.rules import rule_create, template_apply
from portal.models import User

ADMIN = "admin"
OFFICER = "compliance"


def compliance_demo_is_loaded() -> bool:
    return Rule.objects.filter(description__startswith="Demo").exists()


def _largest_holding(portfolio: Portfolio) -> str | None:
    positions = PositionSnapshot.objects.filter(portfolio=portfolio, source=DERIVED_SOURCE)
    latest = positions.order_by("-date").first()
    if latest is None:
        return None
    top = (
        positions.filter(date=latest.date)
        .exclude(instrument__asset_class=AssetClass.CASH)
        .exclude(market_value_base__isnull=True)
        .order_by("-market_value_base")
        .select_related("instrument")
        .first()
    )
    return top.instrument.identifier if top else None


@transaction.atomic
def _rules_create(admin: User, officer: User, portfolios: list[Portfolio]) -> int:
    created = 0
    for portfolio in portfolios:
        if portfolio.base_currency in {"EUR", "GBP"}:
            template = "ucits_5_10_40"
        else:
            template = "ica_1940_diversified"
        created += len(
            template_apply(
                user=admin, template=template, scope=RuleScope.PORTFOLIO, portfolio=portfolio
            )
        )
        if portfolio.code.startswith("MA-"):
            created += len(
                template_apply(
                    user=admin,
                    template="sec_18f4_absolute",
                    scope=RuleScope.PORTFOLIO,
                    portfolio=portfolio,
                )
            )
    house: list[tuple[str, str, float, dict[str, Any]]] = [
        ("Demo: single instrument ≤ 5 %", "max_instrument_weight", 0.05, {}),
        (
            "Demo: single sector ≤ 30 %",
            "max_group_weight",
            0.30,
            # Government debt is no sector exposure: its limits are the issuer rules'.
            {"attribute": "sector", "issuer_types": ["corporate", "covered_bond"]},
        ),
    ]
    watched = _largest_holding(portfolios[0]) if portfolios else None
    if watched:
        house.append(
            ("Demo: watch list", "watch_list", 0.0, {"identifiers": [watched]}),
        )
    for name, kind, limit, params in house:
        rule_create(
            user=admin,
            name=name,
            kind=kind,
            limit=limit,
            params=params,
            scope=RuleScope.ALL,
            description=f"{name} (house rule).",
            default_assignee=officer,
        )
        created += 1
    return created


def compliance_demo_load(*, progress=print) -> int:
    """Create the demo rules and evaluate every active portfolio once; returns the
    number of rules created."""
    admin = User.objects.get(username=ADMIN)
    officer = User.objects.get(username=OFFICER)
    portfolios = list(Portfolio.objects.filter(is_active=True).order_by("code"))
    created = _rules_create(admin, officer, portfolios)
    progress(f"compliance: {created} demo rules")
    for portfolio in portfolios:
        evaluation = evaluate_now(portfolio=portfolio)
        if evaluation is not None:
            progress(f"  {portfolio.code}: evaluated as of {evaluation.as_of}")
    return created
