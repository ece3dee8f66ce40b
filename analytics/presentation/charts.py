"""A Plotly figure placed on an HTML page, report or widget.

``static/js/charts.js`` draws every ``<div id="{id}-chart">`` from the JSON in the
``<script id="{id}-figure">`` beside it; a :class:`Chart` carries what both need. A
page with charts includes ``templates/_chart_scripts.html`` once in its head: the
vendored plotly.js strict bundle (every trace type, no eval, so the
Content-Security-Policy needs no 'unsafe-eval'; the version the Python ``plotly``
package expects) and ``charts.js``, both deferred.
"""

import json
from dataclasses import dataclass
from typing import Any

from plotly.utils import PlotlyJSONEncoder


@dataclass(frozen=True)
class Chart:
    """One figure: its element id, an accessible label, the figure as plain JSON
    types, and extra CSS classes for its container."""

    id: str
    label: str
    figure: dict[str, Any]
    css: str = ""

    @property
    def script_id(self) -> str:
        return f"{self.id}-figure"


def chart(chart_id: str, label: str, figure: dict[str, Any], css: str = "") -> Chart:
    """A :class:`Chart` whose figure went through Plotly's JSON encoder once, so
    ``json_script`` gets plain JSON types (no numpy arrays or dates)."""
    return Chart(chart_id, label, json.loads(json.dumps(figure, cls=PlotlyJSONEncoder)), css)
