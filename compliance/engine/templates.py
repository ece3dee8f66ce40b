"""Regulatory templates: a whole rule set in one step.

Each template is a list of :class:`RuleDefinition` whose limits are the
regulation's thresholds. Limits are inclusive (exactly at the limit complies) and
utilisation is value ÷ limit (limit ÷ value for minima), see
:mod:`compliance.engine.rules`.

``ucits_5_10_40`` — UCITS Directive 2009/65/EC, Article 52 (cash excluded
throughout; issuer types are the instruments' ``issuer_type``):
    * no more than **10 %** of net assets in transferable securities or money
      market instruments of one body (Art. 52(1); ``max_group_weight`` on
      ``issuer_group``, corporate issues, limit 0.10). Companies in the same group
      for consolidated accounts are **one body** (Art. 52(5), third subparagraph),
      so two members at 6 % and 5 % are one body at 11 %. The Member State option
      of that subparagraph (a cumulative 20 % within one group) is not assumed:
      where the home State allows it, raise this rule's limit to 0.20 and add a
      10 % rule on ``issuer``;
    * the bodies in which the fund holds **more than 5 %** may together make up
      **at most 40 %** of net assets (Art. 52(2); ``max_large_groups_total`` on
      ``issuer_group``, corporate issues, threshold 0.05, limit 0.40). A body at
      exactly 5 % is not counted; government, supranational and covered-bond
      issues are not counted (Art. 52(5), first subparagraph);
    * securities issued or guaranteed by a Member State, its local authorities, a
      third country or a public international body: at most **35 %** per issuer
      (Art. 52(3); government and supranational issues, limit 0.35);
    * qualifying covered bonds: at most **25 %** per issuer (Art. 52(4), limit
      0.25), and the covered bonds of issuers above 5 % together at most **80 %**
      (``max_large_groups_total``, threshold 0.05, limit 0.80);
    * the limits are not combined: corporate and covered-bond issues of one body
      at most **35 %** in total (Art. 52(5), second subparagraph).

``ucits_government_100`` — the same with the derogation of Art. 54, for a fund
whose rules allow it: up to **100 %** in government and supranational issues
(the 35 % per-issuer rule is dropped), held in **at least six different issues**
(``min_holdings`` over those issuer types, limit 6) with **no issue above 30 %**
(``max_instrument_weight`` over them, limit 0.30). Both conditions are applied at
all times, the reading of "such a UCITS shall hold" for a fund authorised under
the derogation.

``ica_1940_diversified`` — US Investment Company Act of 1940, §5(b)(1), the
"75-5-10" test of a diversified fund:
    * at least **75 %** of total assets must be cash, government securities,
      securities of other investment companies, or securities of issuers each
      making up **no more than 5 %** of total assets *and* of which the fund holds
      **no more than 10 %** of the outstanding voting securities
      (``diversified_fund``, limit 0.75, issuer limit 0.05, voting limit 0.10).
      An issuer failing either test is outside the basket as a whole. The test
      applies at acquisition (§5(c)): a fund that drifts below 75 % through market
      moves alone stays diversified and is only restricted in what it may buy
      (status ``restricted``); a purchase that causes or worsens the shortfall is
      the breach;
    * §18(f)(1) and §18(h), for every registered open-end fund: borrowings (bank
      loans, held as negative cash) need an **asset coverage of at least 300 %**,
      (total assets − liabilities other than borrowings) ÷ borrowings
      (``min_asset_coverage``, limit 3.0). A fund without borrowings has no limit
      to meet. §18(f)(1) gives three days (Sundays and holidays excepted) to restore
      the coverage; the rule's cure period is 3 calendar days, the stricter count.

``sec_18f4_relative`` / ``sec_18f4_absolute`` — SEC Rule 18f-4 (17 CFR 270.18f-4),
limits on fund derivatives risk:
    * VaR at **99 %** confidence over a **20-trading-day** horizon, from at least
      **3 years** (756 trading days) of history;
    * relative test: VaR at most **200 %** of the designated reference
      portfolio's VaR (``max_relative_var``, limit 2.0); or absolute test (when no
      reference portfolio is appropriate): VaR at most **20 %** of net assets
      (``max_var``, limit 0.20);
    * daily backtesting of the one-day 99 % VaR against the next day's actual
      return, counting exceptions over the last 250 trading days
      (``var_backtest``, limit 4: more than 4 leaves the Basel green zone and is
      reported to the board). The forecasts are the historical VaR of the
      trailing 250 measured returns, the backtest the portfolio's Risk tab shows
      (``BACKTEST_WINDOW`` in :mod:`analytics.services.snapshots.risk`), so the
      rule needs 500 returns, not the 756 + 250 a three-year window would;
    * remediation (§(c)(2)(ii)): out of compliance with the VaR test for more than
      **five business days** on the fund's calendar (the rule's ``business_calendar``,
      a MIC), the alert escalates with the rule's steps (report to the board, Form
      N-RN, VaR-reducing transactions only, shown on the pre-trade check); back in
      compliance after that, the follow-up report
      (:data:`compliance.engine.remediation.SEC_18F4_VAR_TEST`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compliance.engine.kinds import RuleKind
from compliance.engine.remediation import SEC_18F4_VAR_TEST, RemediationTimeline


@dataclass(frozen=True)
class RuleDefinition:
    """A rule a template creates (before it has a scope and an id)."""

    kind: str
    name: str
    limit: float
    params: dict[str, Any] = field(default_factory=dict)
    warning_level: float = 0.9
    cure_period_days: int = 5
    remediation: RemediationTimeline | None = None


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    help_text: str
    rules: tuple[RuleDefinition, ...]


VAR_18F4 = {"confidence": 0.99, "horizon_days": 20, "min_history_days": 756}
BACKTEST_18F4 = RuleDefinition(
    kind=RuleKind.VAR_BACKTEST,
    name="18f-4 VaR backtest: at most 4 exceptions in 250 days",
    limit=4,
    # min_history_days is the forecasts' trailing window: the Risk tab's 250 returns.
    params={"confidence": 0.99, "observations": 250, "min_history_days": 250},
    warning_level=0.75,
    cure_period_days=30,
)

GOVERNMENT_TYPES = ["government", "supranational"]
UCITS_GOVERNMENT_ISSUER = RuleDefinition(
    kind=RuleKind.MAX_GROUP_WEIGHT,
    name="UCITS: at most 35% per government or supranational issuer",
    limit=0.35,
    params={
        "attribute": "issuer",
        "exclude_asset_classes": ["cash"],
        "issuer_types": GOVERNMENT_TYPES,
    },
)
UCITS_ARTICLE_52 = (
    RuleDefinition(
        kind=RuleKind.MAX_GROUP_WEIGHT,
        name="UCITS: at most 10% of net assets per issuer",
        limit=0.10,
        params={
            "attribute": "issuer_group",
            "exclude_asset_classes": ["cash"],
            "issuer_types": ["corporate"],
        },
    ),
    RuleDefinition(
        kind=RuleKind.MAX_LARGE_GROUPS_TOTAL,
        name="UCITS: issuers above 5% together at most 40%",
        limit=0.40,
        params={
            "attribute": "issuer_group",
            "threshold": 0.05,
            "exclude_asset_classes": ["cash"],
            "issuer_types": ["corporate"],
        },
    ),
    UCITS_GOVERNMENT_ISSUER,
    RuleDefinition(
        kind=RuleKind.MAX_GROUP_WEIGHT,
        name="UCITS: at most 25% per covered-bond issuer",
        limit=0.25,
        params={
            "attribute": "issuer",
            "exclude_asset_classes": ["cash"],
            "issuer_types": ["covered_bond"],
        },
    ),
    RuleDefinition(
        kind=RuleKind.MAX_LARGE_GROUPS_TOTAL,
        name="UCITS: covered bonds of issuers above 5% together at most 80%",
        limit=0.80,
        params={
            "attribute": "issuer",
            "threshold": 0.05,
            "exclude_asset_classes": ["cash"],
            "issuer_types": ["covered_bond"],
        },
    ),
    RuleDefinition(
        kind=RuleKind.MAX_GROUP_WEIGHT,
        name="UCITS: at most 35% per body in total (limits not combined)",
        limit=0.35,
        params={
            "attribute": "issuer_group",
            "exclude_asset_classes": ["cash"],
            "issuer_types": ["corporate", "covered_bond"],
        },
    ),
)

TEMPLATES: dict[str, Template] = {
    "ucits_5_10_40": Template(
        key="ucits_5_10_40",
        name="UCITS 5/10/40",
        help_text=(
            "At most 10% of net assets in one body (a group for consolidated accounts is one "
            "body); the bodies above 5% together at most 40%; government and supranational "
            "issuers at most 35% each, covered bonds 25% each, neither in the 40% (UCITS "
            "Directive art. 52)."
        ),
        rules=UCITS_ARTICLE_52,
    ),
    "ucits_government_100": Template(
        key="ucits_government_100",
        name="UCITS 5/10/40 with the government derogation (art. 54)",
        help_text=(
            "UCITS 5/10/40, with up to 100% in government and supranational issues held in "
            "at least six different issues, none above 30% of net assets (UCITS Directive "
            "art. 54; only where the fund's rules allow it)."
        ),
        rules=(
            *(rule for rule in UCITS_ARTICLE_52 if rule is not UCITS_GOVERNMENT_ISSUER),
            RuleDefinition(
                kind=RuleKind.MIN_HOLDINGS,
                name="UCITS art. 54: at least six government issues",
                limit=6,
                params={"issuer_types": GOVERNMENT_TYPES},
            ),
            RuleDefinition(
                kind=RuleKind.MAX_INSTRUMENT_WEIGHT,
                name="UCITS art. 54: at most 30% of net assets per government issue",
                limit=0.30,
                params={"exclude_asset_classes": ["cash"], "issuer_types": GOVERNMENT_TYPES},
            ),
        ),
    ),
    "ica_1940_diversified": Template(
        key="ica_1940_diversified",
        name="1940 Act diversified fund (75-5-10)",
        help_text=(
            "At least 75% of total assets in cash, government securities, other "
            "investment companies, or issuers each at most 5% of total assets and "
            "at most 10% of their outstanding voting securities, tested at acquisition "
            "(ICA 1940 §5(b)(1), §5(c)); asset coverage of borrowings at least 300% "
            "(§18(f)(1))."
        ),
        rules=(
            RuleDefinition(
                kind=RuleKind.DIVERSIFIED_FUND,
                name="1940 Act: 75% of total assets diversified (5% / 10%)",
                limit=0.75,
                params={"issuer_limit": 0.05, "voting_limit": 0.10},
                warning_level=0.95,
            ),
            RuleDefinition(
                kind=RuleKind.MIN_ASSET_COVERAGE,
                name="1940 Act: asset coverage of borrowings at least 300%",
                limit=3.0,
                cure_period_days=3,
            ),
        ),
    ),
    "sec_18f4_relative": Template(
        key="sec_18f4_relative",
        name="SEC Rule 18f-4, relative VaR test",
        help_text=(
            "20-day 99% VaR (3 years of history) at most 200% of the designated "
            "reference portfolio's VaR, plus daily VaR backtesting (exceptions)."
        ),
        rules=(
            RuleDefinition(
                kind=RuleKind.MAX_RELATIVE_VAR,
                name="18f-4: VaR at most 200% of the reference portfolio's VaR",
                limit=2.0,
                params={**VAR_18F4, "reference": "benchmark"},
                remediation=SEC_18F4_VAR_TEST,
            ),
            BACKTEST_18F4,
        ),
    ),
    "sec_18f4_absolute": Template(
        key="sec_18f4_absolute",
        name="SEC Rule 18f-4, absolute VaR test",
        help_text=(
            "20-day 99% VaR (3 years of history) at most 20% of net assets, plus "
            "daily VaR backtesting (exceptions)."
        ),
        rules=(
            RuleDefinition(
                kind=RuleKind.MAX_VAR,
                name="18f-4: VaR at most 20% of net assets",
                limit=0.20,
                params=dict(VAR_18F4),
                remediation=SEC_18F4_VAR_TEST,
            ),
            BACKTEST_18F4,
        ),
    ),
}


def template_rules(key: str, *, reference: str | None = None) -> tuple[RuleDefinition, ...]:
    """The rule definitions of template ``key``; ``reference`` overrides the relative
    VaR reference (``benchmark``, ``benchmark:<code>`` or ``portfolio:<code>``)."""
    try:
        template = TEMPLATES[key]
    except KeyError:
        raise ValueError(f"unknown template {key!r}; choose from {sorted(TEMPLATES)}") from None
    if reference is None:
        return template.rules
    return tuple(
        RuleDefinition(
            **{**definition.__dict__, "params": {**definition.params, "reference": reference}}
        )
        if definition.kind == RuleKind.MAX_RELATIVE_VAR
        else definition
        for definition in template.rules
    )


def remediation_for(template: str, kind: str) -> RemediationTimeline | None:
    """The remediation timeline template ``template`` gives its rules of ``kind``
    (``None`` for a rule made by hand or a kind without one)."""
    found = TEMPLATES.get(template)
    if found is None:
        return None
    for definition in found.rules:
        if definition.kind == kind and definition.remediation is not None:
            return definition.remediation
    return None
