"""Plotly figure builders shared by pages, report blocks and dashboard widgets.

Each returns a plain ``dict`` (``{"data": [...], "layout": {...}}``) that the page
hands to the local plotly.js, so the same figure can later be exported to SVG/PNG.

The snapshot builders are pure functions of one section of a stored
``AnalyticsSnapshot.result`` (see ``analytics.services.snapshots``): they read the
JSON as stored (ISO dates, ``null`` for missing values) and never compute analytics
beyond arranging it for display. Returns and weights are fractions; the axes
format them as percentages. Figures carry no title: the page's heading names them.
"""

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.presentation.theme import (
    ACCENT_COLOUR,
    BENCHMARK_COLOUR,
    DIVERGING,
    EFFECT_COLOURS,
    GAIN_COLOUR,
    GRID_COLOUR,
    INK_COLOUR,
    LOSS_COLOUR,
    MONTHS,
    MUTED_COLOUR,
    PORTFOLIO_COLOUR,
    WARNING_COLOUR,
    themed,
)


def net_assets_figure(net_assets: dict, *, currency: str, gaps: Sequence[dict] = ()) -> dict:
    """The snapshot's net assets per valuation date (``series.net_assets``). A date
    without a valuation is ``null`` and breaks the line; listed ``gaps`` are marked
    on the axis so a missing valuation never looks like a flat day."""
    figure = go.Figure(
        go.Scatter(
            x=net_assets["dates"],
            y=net_assets["values"],
            mode="lines",
            name="Net assets",
            connectgaps=False,
            line={"color": PORTFOLIO_COLOUR, "width": 2},
            hovertemplate=f"%{{y:,.0f}} {currency}<extra></extra>",
        )
    )
    if gaps:
        # On a hidden 0–1 axis along the bottom, so the markers leave the scale of
        # the net-assets axis alone.
        figure.add_trace(
            go.Scatter(
                x=[gap["date"] for gap in gaps],
                y=[0.03] * len(gaps),
                yaxis="y2",
                mode="markers",
                name="Data gap",
                marker={"color": LOSS_COLOUR, "size": 8, "symbol": "x"},
                customdata=[gap["reason"] for gap in gaps],
                hovertemplate="gap: %{customdata}<extra></extra>",
            )
        )
    return themed(
        figure,
        yaxis_tickformat=",.0f",
        yaxis2={"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
        showlegend=bool(gaps),
    )


def cumulative_return_figure(series: dict, *, benchmark: str | None) -> dict:
    """Cumulative time-weighted return of the portfolio and, where the snapshot has
    it, of the benchmark linked over the same valuation intervals."""
    cumulative = series["cumulative"]
    figure = go.Figure(
        go.Scatter(
            x=cumulative["dates"],
            y=cumulative["values"],
            mode="lines",
            name="Portfolio",
            line={"color": PORTFOLIO_COLOUR, "width": 2},
            hovertemplate="%{y:.2%}",
        )
    )
    if series.get("benchmark_cumulative"):
        bench = series["benchmark_cumulative"]
        figure.add_trace(
            go.Scatter(
                x=bench["dates"],
                y=bench["values"],
                mode="lines",
                name=f"Benchmark ({benchmark})" if benchmark else "Benchmark",
                line={"color": BENCHMARK_COLOUR, "width": 1.5, "dash": "dot"},
                hovertemplate="%{y:.2%}",
            )
        )
    return themed(figure, yaxis_tickformat=".0%")


def calendar_heatmap_figure(calendar: dict[str, Sequence[float | None]]) -> dict:
    """Monthly returns as a years × months heatmap, the calendar-year return in its
    own column (its own colour range: a year's return would otherwise wash out the
    months). Red losses, green gains, white at zero; empty where not measured."""
    years = sorted(calendar, reverse=True)
    months = [list(calendar[year][:12]) for year in years]
    yearly = [[calendar[year][12]] for year in years]
    figure = make_subplots(
        rows=1, cols=2, column_widths=[0.88, 0.12], shared_yaxes=True, horizontal_spacing=0.015
    )
    for column, z, x in ((1, months, list(MONTHS)), (2, yearly, ["Year"])):
        limit = max((abs(v) for row in z for v in row if v is not None), default=0.01) or 0.01
        figure.add_trace(
            go.Heatmap(
                z=z,
                x=x,
                y=years,
                colorscale=DIVERGING,
                zmid=0,
                zmin=-limit,
                zmax=limit,
                showscale=False,
                xgap=2,
                ygap=2,
                texttemplate="%{z:.1%}",
                textfont={"size": 10},
                hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>",
                hoverongaps=False,
            ),
            row=1,
            col=column,
        )
    figure.update_yaxes(type="category", autorange="reversed", showgrid=False)
    figure.update_xaxes(side="top", showgrid=False)
    layout = themed(
        figure,
        hovermode="closest",
        height=max(160, 34 * len(years) + 60),
        margin={"l": 48, "r": 8, "t": 28, "b": 8},
    )
    for axis in ("xaxis", "xaxis2", "yaxis", "yaxis2"):
        layout["layout"].setdefault(axis, {})["gridcolor"] = "rgba(0,0,0,0)"
    return layout


def underwater_figure(underwater: dict) -> dict:
    """Drawdown from the running peak (≤ 0) at each date: the underwater curve."""
    figure = go.Figure(
        go.Scatter(
            x=underwater["dates"],
            y=underwater["values"],
            mode="lines",
            name="Drawdown",
            fill="tozeroy",
            line={"color": LOSS_COLOUR, "width": 1},
            fillcolor="rgba(185, 28, 28, 0.18)",
            hovertemplate="%{y:.2%}",
        )
    )
    return themed(figure, yaxis_tickformat=".0%", showlegend=False)


ROLLING_PANELS = (
    ("volatility", "Volatility (ann.)", ".0%"),
    ("sharpe", "Sharpe", ".2f"),
    ("beta", "Beta", ".2f"),
)


def rolling_figure(rolling: dict) -> dict:
    """Rolling annualised volatility, Sharpe and beta, one panel each, both
    window lengths (e.g. 63 and 252 valuation days) drawn in every panel."""
    windows = rolling.get("windows", {})
    panels = [p for p in ROLLING_PANELS if any(p[0] in values for values in windows.values())]
    figure = make_subplots(
        rows=max(len(panels), 1),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[label for _, label, _ in panels],
    )
    styles: dict[str, dict[str, float]] = {"63": {"width": 1.2}, "252": {"width": 2}}
    colours = [PORTFOLIO_COLOUR, ACCENT_COLOUR]
    for row, (name, _label, tick_format) in enumerate(panels, start=1):
        for index, (window, values) in enumerate(sorted(windows.items(), key=lambda w: int(w[0]))):
            if name not in values:
                continue
            figure.add_trace(
                go.Scatter(
                    x=rolling["dates"],
                    y=values[name],
                    mode="lines",
                    name=f"{window}-day",
                    legendgroup=window,
                    showlegend=row == 1,
                    line={"color": colours[index % len(colours)], **styles.get(window, {})},
                    hovertemplate=f"{window}d: %{{y:{tick_format}}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        figure.update_yaxes(tickformat=tick_format, gridcolor=GRID_COLOUR, row=row, col=1)
    figure.update_xaxes(gridcolor=GRID_COLOUR)
    figure.update_annotations(font={"size": 12}, x=0, xanchor="left")
    return themed(
        figure,
        height=170 * max(len(panels), 1) + 60,
        margin={"l": 56, "r": 16, "t": 48, "b": 32},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.04, "yanchor": "bottom"},
    )


def var_backtest_figure(backtest: dict) -> dict:
    """Each day's return against the previous day's 1-day VaR forecast drawn as a
    loss threshold (−VaR); days that lost more than the forecast are marked."""
    exceptions = set(backtest.get("exception_dates", []))
    dates, returns = backtest["dates"], backtest["returns"]
    figure = go.Figure(
        [
            go.Bar(
                x=dates,
                y=returns,
                name="Daily return",
                marker={"color": MUTED_COLOUR},
                hovertemplate="%{y:.2%}",
            ),
            go.Scatter(
                x=dates,
                y=[None if f is None else -f for f in backtest["forecasts"]],
                mode="lines",
                name=f"−VaR {backtest['result']['confidence']:.0%} forecast",
                line={"color": LOSS_COLOUR, "width": 1.5},
                hovertemplate="%{y:.2%}",
            ),
            go.Scatter(
                x=[d for d in dates if d in exceptions],
                y=[r for d, r in zip(dates, returns, strict=True) if d in exceptions],
                mode="markers",
                name="Exception",
                marker={"color": LOSS_COLOUR, "size": 9, "symbol": "x"},
                hovertemplate="exception: %{y:.2%}<extra></extra>",
            ),
        ]
    )
    return themed(figure, yaxis_tickformat=".1%", bargap=0)


LABEL_CHARACTERS = 20


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def exposure_figure(rows: Sequence[dict], *, by: str, label: str) -> dict:
    """Long and short exposure (fractions of net assets) per group of ``by``,
    horizontal bars, largest gross at the top."""
    ordered = sorted(rows, key=lambda row: row["gross"] or 0.0)
    full_names = [row[by] or "(none)" for row in ordered]
    # Long issuer names would take half a phone's width: shorten the axis label,
    # keep the full name in the hover text.
    names = [_shorten(name, LABEL_CHARACTERS) for name in full_names]
    if len(set(names)) < len(names):
        names = full_names
    figure = go.Figure(
        [
            go.Bar(
                y=names,
                x=[row["long"] for row in ordered],
                name="Long",
                orientation="h",
                marker={"color": GAIN_COLOUR},
                customdata=full_names,
                hovertemplate="%{customdata}: %{x:.2%}<extra>long</extra>",
            ),
            go.Bar(
                y=names,
                x=[-(row["short"] or 0.0) for row in ordered],
                name="Short",
                orientation="h",
                marker={"color": LOSS_COLOUR},
                customdata=full_names,
                hovertemplate="%{customdata}: %{x:.2%}<extra>short</extra>",
            ),
        ]
    )
    return themed(
        figure,
        barmode="relative",
        hovermode="closest",
        height=max(220, 24 * len(ordered) + 80),
        xaxis_tickformat=".0%",
        yaxis={"automargin": True, "title": {"text": label}, "type": "category"},
    )


def attribution_effects_figure(monthly: Sequence[dict]) -> dict:
    """Monthly Brinson-Fachler allocation, selection and interaction effects as
    stacked bars (they add up to each month's active return, drawn as a line)."""
    periods = [row["period"] for row in monthly]
    figure = go.Figure(
        [
            go.Bar(
                x=periods,
                y=[row[effect] for row in monthly],
                name=effect.capitalize(),
                marker={"color": colour},
                hovertemplate="%{y:.2%}",
            )
            for effect, colour in EFFECT_COLOURS.items()
        ]
    )
    figure.add_trace(
        go.Scatter(
            x=periods,
            y=[row["active_return"] for row in monthly],
            mode="markers",
            name="Active return",
            marker={"color": INK_COLOUR, "size": 5},
            hovertemplate="%{y:.2%}",
        )
    )
    return themed(figure, barmode="relative", yaxis_tickformat=".1%")


UTILISATION_STATUS_COLOURS = {
    "breach": LOSS_COLOUR,
    "warning": WARNING_COLOUR,
    "restricted": ACCENT_COLOUR,
}
"""Marker colour per result status (``ok`` and ``no_value`` in the portfolio's colour)."""


def utilisation_figure(results: Sequence[Any], *, warning_level: float, title: str) -> dict:
    """A compliance rule's utilisation per evaluated date (each result has ``as_of``,
    ``utilisation`` as a fraction of the limit, and ``status``), with the warning
    level and the limit (100 %). Unbounded utilisation (a zero limit used) is drawn
    at the top as a marker. Markers are coloured by status (breach, warning,
    acquisitions restricted). The x axis is a date axis showing days: with one
    observation (or a few days) it spans a week around them, so a single point
    reads as a dated point between the limit lines, not a millisecond scale."""
    dates = [r.as_of.isoformat() for r in results]
    finite = [
        r.utilisation for r in results if r.utilisation is not None and math.isfinite(r.utilisation)
    ]
    top = max([1.2, *finite]) * 1.05
    values = [
        None if r.utilisation is None else (top if math.isinf(r.utilisation) else r.utilisation)
        for r in results
    ]
    colours = [UTILISATION_STATUS_COLOURS.get(r.status, PORTFOLIO_COLOUR) for r in results]
    figure = go.Figure(
        go.Scatter(
            x=dates,
            y=values,
            mode="lines+markers",
            name="Utilisation",
            line={"color": PORTFOLIO_COLOUR, "width": 2},
            marker={"color": colours, "size": 9 if len(results) < 3 else 6},
            hovertemplate="%{x|%d %b %Y}: %{y:.2%}<extra></extra>",
        )
    )
    for level, colour, label in (
        (1.0, LOSS_COLOUR, "Limit"),
        (warning_level, WARNING_COLOUR, "Warning"),
    ):
        figure.add_hline(
            y=level,
            line={"color": colour, "dash": "dash", "width": 1},
            annotation_text=label,
            annotation_position="top left",
        )
    xaxis: dict[str, Any] = {"type": "date", "tickformat": "%d %b %Y"}
    if results:
        first, last = min(r.as_of for r in results), max(r.as_of for r in results)
        if (last - first).days < 7:
            middle = first + (last - first) / 2
            xaxis["range"] = [
                (middle - dt.timedelta(days=4)).isoformat(),
                (middle + dt.timedelta(days=4)).isoformat(),
            ]
            xaxis["dtick"] = 86_400_000  # one tick a day (milliseconds)
    return themed(
        figure,
        title={"text": title, "x": 0, "font": {"size": 14}},
        yaxis_tickformat=".0%",
        yaxis_range=[0, top],
        xaxis=xaxis,
        showlegend=False,
    )


# ---------------------------------------------------------------------------
# Dashboard views: exposure hierarchy, correlation matrix, utilisation gauges


# A qualitative palette for treemap sectors (Tableau 10, muted), one colour each.
SECTOR_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#e15759",
    "#bab0ac",
)


def exposure_treemap_figure(holdings: Sequence[dict]) -> dict:
    """Holdings as a treemap sector → issuer → instrument, sized by the absolute
    weight (a fraction of net assets; shorts count by their size and are coloured
    as losses). Each holding is ``{"sector", "issuer", "name", "weight"}``; a
    holding without a weight (no base value) is left out. Clicking a sector sends
    its label as the point's ``id`` ``sector:<name>`` so a page can filter on it."""
    ids: list[str] = []
    labels: list[str] = []
    parents: list[str] = []
    values: list[float] = []
    colours: list[str] = []
    totals: dict[str, float] = {}
    for holding in holdings:
        weight = holding.get("weight")
        if weight is None:
            continue
        sector = holding.get("sector") or "(none)"
        issuer = holding.get("issuer") or holding.get("name") or "(none)"
        sector_id, issuer_id = f"sector:{sector}", f"issuer:{sector}/{issuer}"
        totals[sector_id] = totals.get(sector_id, 0.0) + abs(weight)
        totals[issuer_id] = totals.get(issuer_id, 0.0) + abs(weight)
        ids.append(f"instrument:{sector}/{issuer}/{holding.get('identifier') or holding['name']}")
        labels.append(holding["name"])
        parents.append(issuer_id)
        values.append(abs(weight))
        colours.append(LOSS_COLOUR if weight < 0 else PORTFOLIO_COLOUR)
    sectors = sorted(node_id for node_id in totals if node_id.startswith("sector:"))
    for node_id, total in totals.items():
        kind, _, path = node_id.partition(":")
        ids.append(node_id)
        labels.append(path.rsplit("/", 1)[-1])
        parents.append("" if kind == "sector" else f"sector:{path.split('/', 1)[0]}")
        values.append(total)
        # Sectors in their own colours; issuers as a light veil over their sector's.
        colours.append(
            SECTOR_COLOURS[sectors.index(node_id) % len(SECTOR_COLOURS)]
            if kind == "sector"
            else "rgba(255, 255, 255, 0.35)"
        )
    figure = go.Figure(
        go.Treemap(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            marker={"colors": colours},
            texttemplate="%{label}<br>%{value:.1%}",
            hovertemplate="%{label}: %{value:.2%} of net assets<extra></extra>",
            maxdepth=2,
        )
    )
    return themed(figure, margin={"l": 0, "r": 0, "t": 0, "b": 0}, hovermode="closest")


def correlation_heatmap_figure(
    labels: Sequence[str], matrix: Sequence[Sequence[float | None]]
) -> dict:
    """A symmetric correlation matrix (Pearson, −1 … 1) of the named series as a
    heatmap: red for negative, green for positive, empty where not measurable."""
    figure = go.Figure(
        go.Heatmap(
            z=[list(row) for row in matrix],
            x=list(labels),
            y=list(labels),
            colorscale=DIVERGING,
            zmid=0,
            zmin=-1,
            zmax=1,
            xgap=2,
            ygap=2,
            texttemplate="%{z:.2f}",
            hovertemplate="%{y} / %{x}: %{z:.2f}<extra></extra>",
            hoverongaps=False,
            colorbar={"thickness": 10},
        )
    )
    layout = themed(
        figure,
        hovermode="closest",
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        xaxis={"automargin": True, "showgrid": False, "type": "category"},
        yaxis={"automargin": True, "showgrid": False, "type": "category", "autorange": "reversed"},
    )
    return layout


def utilisation_gauges_figure(gauges: Sequence[dict], *, columns: int = 3) -> dict:
    """One gauge per limit: utilisation as a fraction of the limit (1 = at the
    limit) against its warning level, the bar coloured by status (``ok``,
    ``warning``, ``breach``). Each gauge is ``{"label", "utilisation",
    "warning_level", "status"}``; an unmeasured utilisation shows as an empty dial,
    an unbounded one (a zero limit that is used) as a full dial marked so."""
    columns = max(1, min(columns, len(gauges) or 1))
    rows = max(1, math.ceil(len(gauges) / columns))
    figure = go.Figure()
    for index, gauge in enumerate(gauges):
        row, column = divmod(index, columns)
        value = gauge.get("utilisation")
        unbounded = value is not None and math.isinf(value)  # a zero limit that is used
        value = None if value is None or not math.isfinite(value) else value
        top = max(1.2, (value or 0.0) * 1.05)
        if unbounded:
            value = top
        colour = {"breach": LOSS_COLOUR, "warning": WARNING_COLOUR}.get(
            gauge.get("status", ""), GAIN_COLOUR
        )
        figure.add_trace(
            go.Indicator(
                # An unbounded utilisation has no number to show: a full dial, labelled.
                mode="gauge" if unbounded else "gauge+number",
                value=value,
                number={"valueformat": ".0%", "font": {"size": 16}},
                # The label's first line (before " · ") and the rest, each shortened
                # so that neighbouring gauges' titles never run into each other.
                title={
                    "text": "<br>".join(
                        _shorten(part, 26) for part in gauge["label"].split(" · ", 1)
                    )
                    + ("<br>(used at a zero limit)" if unbounded else ""),
                    "font": {"size": 10},
                },
                domain={"row": row, "column": column},
                gauge={
                    "axis": {"range": [0, top], "tickformat": ".0%", "nticks": 4},
                    "bar": {"color": colour},
                    "steps": [
                        {"range": [gauge.get("warning_level", 0.9), 1.0], "color": "#fef3c7"},
                        {"range": [1.0, top], "color": "#fee2e2"},
                    ],
                    "threshold": {"line": {"color": LOSS_COLOUR, "width": 2}, "value": 1.0},
                },
            )
        )
    return themed(
        figure,
        grid={"rows": rows, "columns": columns, "pattern": "independent"},
        height=180 * rows + 20,
        margin={"l": 28, "r": 28, "t": 64, "b": 8},
    )


def pnl_by_group_figure(rows: Sequence[dict], *, label: str, currency: str) -> dict:
    """P&L per group (a strategy or a trader: each row has ``name``,
    ``realised_pnl``, ``unrealised_pnl_change`` and ``total_pnl`` in ``currency``,
    None when unknown): realised and unrealised stacked as bars, the total as a
    marker, largest total first."""
    ordered = sorted(rows, key=lambda row: -(row["total_pnl"] or 0.0))
    names = [row["name"] or "(none)" for row in ordered]
    figure = go.Figure(
        [
            go.Bar(
                x=names,
                y=[row["realised_pnl"] for row in ordered],
                name="Realised",
                marker={"color": PORTFOLIO_COLOUR},
                hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra>realised</extra>",
            ),
            go.Bar(
                x=names,
                y=[row["unrealised_pnl_change"] for row in ordered],
                name="Unrealised (change)",
                marker={"color": BENCHMARK_COLOUR},
                hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra>unrealised</extra>",
            ),
            go.Scatter(
                x=names,
                y=[row["total_pnl"] for row in ordered],
                mode="markers",
                name="Total",
                marker={"color": INK_COLOUR, "size": 9, "symbol": "diamond"},
                hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra>total</extra>",
            ),
        ]
    )
    return themed(
        figure,
        barmode="relative",
        xaxis={"title": {"text": label}, "type": "category"},
        yaxis={"title": {"text": f"P&L ({currency})"}, "tickformat": ",.0f"},
    )
