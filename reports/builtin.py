"""The built-in report templates, present after every migrate.

Each is a definition as a template version stores it (see ``reports.models``);
``reports.apps`` syncs them after migrate with
``reports.services.templates.report_template_builtin_sync``: a missing one is
created, a changed one gets a new version. They have no owner, every user may
view and run them (under their own entitlements), and nobody edits them: clone
one to change it. Each reports every portfolio the running user may see unless
the run names portfolios.
"""

from __future__ import annotations

from typing import Any

DISCLAIMER = (
    "For internal use. Past performance is not a guide to future returns. Figures are "
    "computed from the portal's stored data as of the date shown; see the data quality "
    "section for gaps."
)


def _blocks(*kinds: str | tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "options": {}}
        if isinstance(kind, str)
        else {"kind": kind[0], "options": kind[1]}
        for kind in kinds
    ]


def _parameters(period: str) -> dict[str, Any]:
    return {"scope": "entitled", "period": period}


def _layout(**layout: Any) -> dict[str, Any]:
    return {"disclaimer": DISCLAIMER, **layout}


BUILTIN_TEMPLATES: list[dict[str, Any]] = [
    {
        "slug": "monthly-performance",
        "name": "Monthly performance",
        "description": "Period returns with GIPS annualisation, growth against the "
        "benchmark, the calendar of monthly returns, drawdowns and risk, for each "
        "portfolio, with its data quality.",
        "blocks": _blocks(
            "performance_summary",
            "cumulative_return",
            "monthly_returns",
            "drawdowns",
            "risk",
            "data_quality",
        ),
        "parameters": _parameters("ytd"),
        "layout": _layout(),
    },
    {
        "slug": "risk",
        "name": "Risk",
        "description": "Volatility, VaR and CVaR with the backtest, rolling risk, "
        "exposures by sector and drawdowns, for each portfolio.",
        "blocks": _blocks(
            "risk",
            "rolling_risk",
            ("exposures", {"by": "sector"}),
            "drawdowns",
            "data_quality",
        ),
        "parameters": _parameters("1y"),
        "layout": _layout(orientation="landscape"),
    },
    {
        "slug": "compliance",
        "name": "Compliance",
        "description": "Open alerts, rule utilisation and regulatory template results "
        "(including the 18f-4 VaR test and UCITS / 1940 Act limits), with data quality.",
        "blocks": _blocks("compliance", "data_quality"),
        "parameters": _parameters("mtd"),
        "layout": _layout(),
    },
    {
        "slug": "trading-review",
        "name": "Trading review",
        "description": "Realised P&L, hit rate, win/loss ratio, holding periods, "
        "turnover and slippage by strategy and trader, with the trades.",
        "blocks": _blocks("trading_review", "trades"),
        "parameters": _parameters("previous_month"),
        "layout": _layout(orientation="landscape"),
    },
    {
        "slug": "executive-summary",
        "name": "Executive summary",
        "description": "Every portfolio you may see on one page: assets, returns, "
        "risk, open alerts and data freshness.",
        "blocks": _blocks("executive_summary"),
        # One total under management needs one currency; copy the template to pick another.
        "parameters": {**_parameters("ytd"), "reporting_currency": "USD"},
        "layout": _layout(orientation="landscape", cover_page=False),
    },
    {
        "slug": "holdings",
        "name": "Holdings",
        "description": "Positions with weights and values, and exposures by sector.",
        "blocks": _blocks("holdings", ("exposures", {"by": "sector"})),
        "parameters": _parameters("mtd"),
        "layout": _layout(),
    },
]
"""Every built-in template, by slug."""
