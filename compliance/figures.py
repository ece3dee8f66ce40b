"""Plotly figure of a rule's utilisation over time (the look of dashboards.figures)."""

import math

import plotly.graph_objects as go

from dashboards.figures import LAYOUT_DEFAULTS


def utilisation_figure(results, *, warning_level: float, title: str) -> dict:
    """Utilisation per evaluated date with the warning level and the limit (100 %).
    Unbounded utilisation (a zero limit used) is drawn at the top as a marker."""
    dates = [r.as_of.isoformat() for r in results]
    finite = [
        r.utilisation for r in results if r.utilisation is not None and math.isfinite(r.utilisation)
    ]
    top = max([1.2, *finite]) * 1.05
    values = [
        None if r.utilisation is None else (top if math.isinf(r.utilisation) else r.utilisation)
        for r in results
    ]
    colours = [
        {"breach": "#b91c1c", "warning": "#b45309"}.get(r.status, "#1d4ed8") for r in results
    ]
    figure = go.Figure(
        go.Scatter(
            x=dates,
            y=values,
            mode="lines+markers",
            name="Utilisation",
            line={"color": "#1d4ed8", "width": 2},
            marker={"color": colours, "size": 6},
            hovertemplate="%{y:.1%}<extra></extra>",
        )
    )
    for level, colour, label in ((1.0, "#b91c1c", "Limit"), (warning_level, "#b45309", "Warning")):
        figure.add_hline(
            y=level,
            line={"color": colour, "dash": "dash", "width": 1},
            annotation_text=label,
            annotation_position="top left",
        )
    figure.update_layout(
        **LAYOUT_DEFAULTS,
        title={"text": title, "x": 0, "font": {"size": 14}},
        yaxis_tickformat=".0%",
        yaxis_range=[0, top],
        showlegend=False,
    )
    return figure.to_plotly_json()
