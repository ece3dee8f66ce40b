"""Figures of stored analytics snapshots, kept in Django's cache.

A finished ``AnalyticsSnapshot`` row never changes its result (new data makes a new
row with a new ``data_version``), so a figure built from one of its sections is the
same on every visit. :func:`snapshot_chart` keeps the figure's JSON (what the page
embeds) under a key naming the snapshot row (id, data version, finish time), the
figure, the parameters it was built with and :data:`FIGURE_CODE_VERSION`; a second
visit renders the tab without building the figure.

An entry holds the figure data of one snapshot only, never a user or a page: the
caller authorises the portfolio before it asks for the figure. Bump
:data:`FIGURE_CODE_VERSION` whenever a figure builder or the theme changes its
output, so entries written by the old code are never served.
"""

import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.cache import cache

from analytics.presentation.charts import Chart, chart

if TYPE_CHECKING:
    from analytics.models import AnalyticsSnapshot

logger = logging.getLogger(__name__)

FIGURE_CODE_VERSION = 1
FIGURE_CACHE_SECONDS = 7 * 24 * 3600


def figure_cache_key(*, snapshot: "AnalyticsSnapshot", figure: str, params: dict[str, Any]) -> str:
    """The cache key of ``figure`` built from ``snapshot`` with ``params``."""
    finished = snapshot.finished_at.isoformat() if snapshot.finished_at else "-"
    described = "&".join(f"{name}={params[name]!r}" for name in sorted(params))
    digest = hashlib.sha256(f"{finished}|{described}".encode()).hexdigest()[:32]
    return (
        f"snapshot-figure:v{FIGURE_CODE_VERSION}:{snapshot.pk}:{snapshot.data_version}:"
        f"{figure}:{digest}"
    )


def snapshot_chart(
    *,
    snapshot: "AnalyticsSnapshot",
    chart_id: str,
    label: str,
    build: Callable[[], dict[str, Any]],
    css: str = "",
    **params: Any,
) -> Chart:
    """The :class:`Chart` ``chart_id`` of ``snapshot``: its figure JSON from the
    cache, or ``build()`` (then stored). ``params`` are everything besides the
    snapshot that the figure depends on (a grouping, a window, a currency). A cache
    that cannot be reached only costs the build."""
    key = figure_cache_key(snapshot=snapshot, figure=chart_id, params=params)
    try:
        figure = cache.get(key)
    except Exception:  # a cache outage must not take the page down
        logger.warning("figure cache read failed for %s", key, exc_info=True)
        figure = None
    if figure is not None:
        return Chart(chart_id, label, figure, css)
    built = chart(chart_id, label, build(), css)
    try:
        cache.set(key, built.figure, FIGURE_CACHE_SECONDS)
    except Exception:
        logger.warning("figure cache write failed for %s", key, exc_info=True)
    return built
