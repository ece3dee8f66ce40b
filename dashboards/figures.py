"""Plotly figure builders shared by pages, dashboards and reports.

Each returns a plain ``dict`` (``{"data": [...], "layout": {...}}``) that the page
hands to the local plotly.js, so the same figure can later be exported to SVG/PNG.
"""

from collections.abc import Sequence

import plotly.graph_objects as go

from analytics.selectors import ValuePoint

LAYOUT_DEFAULTS = {
    "margin": {"l": 56, "r": 16, "t": 32, "b": 40},
    "hovermode": "x unified",
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "xaxis": {"gridcolor": "#e5e7eb"},
    "yaxis": {"gridcolor": "#e5e7eb"},
}


def value_over_time_figure(points: Sequence[ValuePoint], *, currency: str) -> dict:
    """Net assets in the base currency over time. Dates where a holding lacked a
    base value (missing FX) are marked, so an understated total is visible."""
    dates = [p.date.isoformat() for p in points]
    values = [float(p.net_assets_base) for p in points]
    figure = go.Figure(
        go.Scatter(
            x=dates,
            y=values,
            mode="lines",
            name="Net assets",
            line={"color": "#1d4ed8", "width": 2},
            hovertemplate=f"%{{y:,.0f}} {currency}<extra></extra>",
        )
    )
    incomplete = [p for p in points if p.missing_base_values]
    if incomplete:
        figure.add_trace(
            go.Scatter(
                x=[p.date.isoformat() for p in incomplete],
                y=[float(p.net_assets_base) for p in incomplete],
                mode="markers",
                name="Incomplete (missing FX)",
                marker={"color": "#b91c1c", "size": 6, "symbol": "x"},
            )
        )
    figure.update_layout(
        **LAYOUT_DEFAULTS,
        title={"text": f"Net assets ({currency})", "x": 0, "font": {"size": 14}},
        yaxis_tickformat=",.0f",
        showlegend=bool(incomplete),
    )
    return figure.to_plotly_json()
