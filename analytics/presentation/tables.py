"""Display tables built from the sections of a stored analytics snapshot.

Pure functions of the snapshot's JSON (see ``analytics.services.snapshots``): they
order, label and group what is stored and never compute a metric. Values stay as
stored — returns, weights and VaR are fractions, ``None`` where missing — and the
template or renderer formats them. Pages, report blocks and dashboard widgets all
build their tables here, so a metric has one label and one place in every table.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from analytics.models import (
    DEFAULT_RISK_WINDOWS,
    AssetClass,
    RiskLimitMetric,
    RiskWindow,
    risk_value_key,
)

Row = dict[str, Any]

WINDOW_LABELS = {
    "SI": "Since inception",
    "5Y": "5 years",
    "3Y": "3 years",
    "1Y": "1 year",
    "YTD": "Year to date",
}
DIMENSION_LABELS = {
    "sector": "Sector",
    "industry": "Industry",
    "country": "Country",
    "asset_class": "Asset class",
    "currency": "Currency",
    "issuer": "Issuer",
}


def unavailable_reason(section: Mapping[str, Any] | None) -> str | None:
    """Why a snapshot section cannot be shown, or None when it can."""
    if section is None:
        return "This snapshot has no such section."
    if section.get("available") is False:
        return section.get("reason") or "Not available for this portfolio's data."
    return None


def labelled_rows(rows: Sequence[Row], by: str) -> list[Row]:
    """Rows of a by-group table with a display ``label`` (cash has no sector: "(none)")."""
    labels = dict(AssetClass.choices) if by == "asset_class" else {}
    return [{**row, "label": labels.get(row[by], row[by]) or "(none)"} for row in rows]


# --- Period returns ----------------------------------------------------------

PERIODS = (  # key, label, short label for phones
    ("day", "Day", "Day"),
    ("mtd", "Month to date", "MTD"),
    ("qtd", "Quarter to date", "QTD"),
    ("ytd", "Year to date", "YTD"),
    ("1y", "1 year", "1Y"),
    ("3y", "3 years, ann.", "3Y ann."),
    ("5y", "5 years, ann.", "5Y ann."),
    ("since_inception", "Since inception", "SI"),
)
PERIOD_SERIES = (
    ("portfolio", "Portfolio"),
    ("benchmark", "Benchmark"),
    ("active_arithmetic", "Active"),
    ("active_geometric", "Active, geometric"),
)


def period_table(section: Mapping[str, Any]) -> tuple[list[Row], list[Row]]:
    """Columns (portfolio, benchmark, active) and rows (periods) of the period-returns
    table; periods run down the page so the table fits a phone. Each column says
    whether its since-inception figure is annualised (GIPS: only for a history of a
    year or more) or cumulative; the active columns follow the portfolio."""
    portfolio = section.get("portfolio", {})
    columns = []
    for key, label in PERIOD_SERIES:
        values = section.get(key)
        if values is None:
            continue
        basis = values if "since_inception_annualised" in values else portfolio
        columns.append(
            {
                "key": key,
                "label": label,
                "values": values,
                "active": key.startswith("active"),
                "annualised": basis.get("since_inception_annualised"),
                "years": basis.get("since_inception_years"),
            }
        )
    for column in columns:  # marked on its cell only where it differs from the row's
        column["basis_differs"] = column["annualised"] != columns[0]["annualised"]
    rows = [
        {
            "key": period,
            "label": label,
            "short_label": short_label,
            "cells": [{**column, "value": column["values"].get(period)} for column in columns],
        }
        for period, label, short_label in PERIODS
    ]
    return columns, rows


# --- Performance metrics -----------------------------------------------------

# (group title, ((metric key, label, kind), ...)); kind tells the formatter how to
# show the value: percent (a fraction), ratio, days or count.
METRIC_GROUPS = (
    (
        "Return",
        (
            ("cumulative_return", "Cumulative return", "percent"),
            ("cagr", "Annualised return (CAGR)", "percent"),
        ),
    ),
    (
        "Risk{in_window}",
        (
            ("annual_volatility", "Volatility (annualised)", "percent"),
            ("downside_deviation", "Downside deviation (annualised)", "percent"),
            ("max_drawdown", "Maximum drawdown", "percent"),
            ("max_drawdown_duration", "Longest drawdown (valuation days)", "days"),
        ),
    ),
    (
        "Risk-adjusted{over_risk_free}",
        (
            ("sharpe", "Sharpe ratio", "ratio"),
            ("sortino", "Sortino ratio", "ratio"),
            ("calmar", "Calmar ratio", "ratio"),
            ("omega", "Omega ratio", "ratio"),
        ),
    ),
    (
        "Distribution and tail (1 day, {confidence}{window})",
        (
            ("skew", "Skewness", "ratio"),
            ("kurtosis", "Excess kurtosis", "ratio"),
            ("tail_ratio", "Tail ratio", "ratio"),
            ("var_historical", "VaR, historical", "percent"),
            ("cvar_historical", "CVaR, historical", "percent"),
            ("var_normal", "VaR, normal", "percent"),
            ("cvar_normal", "CVaR, normal", "percent"),
            ("var_cornish_fisher", "VaR, Cornish-Fisher", "percent"),
        ),
    ),
    (
        "Relative to the benchmark",
        (
            ("beta", "Beta", "ratio"),
            ("alpha", "Alpha (annualised)", "percent"),
            ("correlation", "Correlation", "ratio"),
            ("tracking_error", "Tracking error (annualised)", "percent"),
            ("information_ratio", "Information ratio", "ratio"),
            ("up_capture", "Up capture", "ratio"),
            ("down_capture", "Down capture", "ratio"),
        ),
    ),
    ("Sample", (("n_obs", "Daily returns used", "count"),)),
)


def metric_groups(
    section: Mapping[str, Any],
    window: Mapping[str, Any],
    *,
    confidence: float,
    window_label: str | None = None,
    risk_free: str | None = None,
) -> list[Row]:
    """The metrics of one window (portfolio beside benchmark) in their display groups,
    each row with its stored definition; ``confidence`` (a fraction) names the tail
    group's VaR level, ``window_label`` the window in the risk and tail groups' titles
    and ``risk_free`` (see :func:`risk_free_label`) the rate in the risk-adjusted one."""
    definitions = section.get("definitions", {})
    portfolio, benchmark = window.get("portfolio") or {}, window.get("benchmark") or {}
    names = {
        "confidence": f"{confidence:.0%}",
        "window": f", {window_label.lower()}" if window_label else "",
        "in_window": f" ({window_label.lower()})" if window_label else "",
        "over_risk_free": f" (over {risk_free})" if risk_free else "",
    }
    return [
        {
            "label": title.format(**names),
            "rows": [
                {
                    "key": key,
                    "label": label,
                    "kind": kind,
                    "definition": definitions.get(key, ""),
                    "portfolio": portfolio.get(key),
                    "benchmark": benchmark.get(key),
                }
                for key, label, kind in rows
            ],
        }
        for title, rows in METRIC_GROUPS
    ]


def risk_free_label(data: Mapping[str, Any], window: Mapping[str, Any] | None = None) -> str:
    """The risk-free rate a window's ratios used, in words: the constant annual rate, or
    the series (factor, source) with its mean over the window, annualised, and the
    month it is carried forward from when the returns run past its last month."""
    described = data.get("risk_free") or {"kind": "constant"}
    rate = (window or {}).get("risk_free_rate", data.get("risk_free_rate"))
    shown = "—" if rate is None else f"{rate:.2%}"
    if described.get("kind") != "series":
        return f"a constant risk-free rate of {shown} a year"
    source = f" ({described['source']})" if described.get("source") else ""
    text = f"the risk-free series {described.get('factor')}{source}, {shown} a year on average"
    if described.get("carried_forward_from"):
        text += f"; its last month, {described['carried_forward_from']}, is carried forward"
    return text


def calendar_rows(calendar: Mapping[str, Sequence[float | None]]) -> list[Row]:
    """Monthly-returns table, newest year first: twelve monthly returns and the
    year's return (the stored thirteenth value)."""
    return [
        {"year": year, "months": list(values[:12]), "year_return": values[12]}
        for year, values in sorted(calendar.items(), reverse=True)
    ]


# --- Risk --------------------------------------------------------------------

VAR_METHODS = {
    "historical": "Historical",
    "normal": "Normal",
    "cornish_fisher": "Cornish-Fisher",
    "monte_carlo": "Monte Carlo",
}
# Limits on these metrics are ratios; every other limit is a fraction shown in percent.
RATIO_LIMITS = {RiskLimitMetric.BETA}


def var_rows(rows: Sequence[Row]) -> list[Row]:
    """VaR rows ordered by confidence, horizon and then method, each with its label."""
    order = list(VAR_METHODS)

    def position(row: Row) -> tuple[float, int, int]:
        method = order.index(row["method"]) if row["method"] in order else len(order)
        return (row["confidence"], row["horizon"], method)

    return [
        {**row, "method_label": VAR_METHODS.get(row["method"], row["method"])}
        for row in sorted(rows, key=position)
    ]


RISK_WINDOW_METRICS = (
    (RiskLimitMetric.VAR_95, "percent"),
    (RiskLimitMetric.VAR_99, "percent"),
    (RiskLimitMetric.CVAR_95, "percent"),
    (RiskLimitMetric.VOLATILITY, "percent"),
    (RiskLimitMetric.TRACKING_ERROR, "percent"),
    (RiskLimitMetric.BETA, "ratio"),
    (RiskLimitMetric.MAX_DRAWDOWN, "percent"),
    (RiskLimitMetric.CURRENT_DRAWDOWN, "percent"),
)


def risk_window_table(
    risk_values: Mapping[str, Any], custom: tuple[str, Mapping[str, Any]] | None = None
) -> tuple[list[Row], list[Row]]:
    """The return-based risk figures on every window the snapshot measured them on:
    ``(columns, rows)``, one column per window (label and key) and one row per metric
    with its label, kind and a value per column (None where not measured).
    ``custom``: ``(label, figures by metric)`` of a custom range, a last column."""
    columns = [
        {"key": window.value, "label": window.label}
        for window in RiskWindow
        if window != RiskWindow.AS_OF
        and any(
            risk_values.get(risk_value_key(metric, window)) is not None
            for metric, _ in RISK_WINDOW_METRICS
        )
    ]
    rows = [
        {
            "metric": metric.value,
            "label": metric.label,
            "kind": kind,
            "default_window": DEFAULT_RISK_WINDOWS[metric],
            "values": [risk_values.get(risk_value_key(metric, c["key"])) for c in columns]
            + ([custom[1].get(metric.value)] if custom else []),
        }
        for metric, kind in RISK_WINDOW_METRICS
    ]
    if custom:
        columns.append({"key": "custom", "label": custom[0]})
    return columns, rows


def limit_kind(metric: str) -> str:
    """How a risk limit's value and usage are shown: ``ratio`` or ``percent``."""
    return "ratio" if metric in RATIO_LIMITS else "percent"


def exposure_rows(rows: Sequence[Row], by: str) -> list[Row]:
    """One dimension's exposure rows, largest gross first, labelled."""
    return labelled_rows(sorted(rows, key=lambda row: -(row["gross"] or 0.0)), by)


# --- Attribution -------------------------------------------------------------

FACTOR_LABELS = {
    "alpha": "Alpha (monthly)",
    "Mkt-RF": "Market (Mkt−RF)",
    "SMB": "Size (SMB)",
    "HML": "Value (HML)",
}


def factor_rows(section: Mapping[str, Any]) -> list[Row]:
    """Factor regression rows: alpha, then the market, then the others by name."""
    names = list(section.get("coefficients", {}))
    names.sort(key=lambda name: (name != "alpha", name != "Mkt-RF", name))
    return [
        {
            "name": name,
            "label": FACTOR_LABELS.get(name, name),
            "coefficient": section["coefficients"].get(name),
            "standard_error": section.get("standard_errors", {}).get(name),
            "t_stat": section.get("t_stats", {}).get(name),
            "contribution": section.get("total_contributions", {}).get(name),
        }
        for name in names
    ]


def unmeasured_rows(unmeasured: Mapping[str, Mapping[str, int]]) -> list[Row]:
    """Holdings attribution could not measure, per side (``{side: {period: count}}``:
    rows without a close or rate at either end of a period)."""
    return [
        {"side": side, "holdings": sum(periods.values()), "months": sorted(periods)}
        for side, periods in unmeasured.items()
        if periods
    ]
