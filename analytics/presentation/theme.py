"""The portal's chart theme: colours and the Plotly layout every figure shares.

Pages, report blocks and dashboard widgets draw with these, so a chart looks the
same wherever it appears. Colours are CSS hex strings.
"""

import plotly.graph_objects as go

PORTFOLIO_COLOUR = "#1d4ed8"
BENCHMARK_COLOUR = "#64748b"
GAIN_COLOUR = "#15803d"
LOSS_COLOUR = "#b91c1c"
WARNING_COLOUR = "#b45309"
ACCENT_COLOUR = "#f59e0b"
MUTED_COLOUR = "#94a3b8"
INK_COLOUR = "#111827"
GRID_COLOUR = "#e5e7eb"
EFFECT_COLOURS = {
    "allocation": PORTFOLIO_COLOUR,
    "selection": "#0d9488",
    "interaction": ACCENT_COLOUR,
}
# Diverging red → near-white → green, centred on zero with ``zmid``.
DIVERGING = [
    [0.0, LOSS_COLOUR],
    [0.25, "#f87171"],
    [0.5, "#f8fafc"],
    [0.75, "#4ade80"],
    [1.0, GAIN_COLOUR],
]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

LAYOUT_DEFAULTS = {
    "margin": {"l": 56, "r": 16, "t": 32, "b": 40},
    "hovermode": "x unified",
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "xaxis": {"gridcolor": GRID_COLOUR},
    "yaxis": {"gridcolor": GRID_COLOUR},
    "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
}


def themed(figure: go.Figure, **overrides: object) -> dict:
    """The figure with the shared layout and then ``overrides`` applied, as the plain
    ``{"data": [...], "layout": {...}}`` dict that plotly.js draws."""
    figure.update_layout(**LAYOUT_DEFAULTS)
    figure.update_layout(**overrides)
    return figure.to_plotly_json()
