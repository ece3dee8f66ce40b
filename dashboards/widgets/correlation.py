"""Correlation of daily returns across the chosen portfolios (Pearson, over the
dates on which every pair both has a stored daily return, within the period),
from each portfolio's stored snapshot series, computed by the analytics engine."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.engine.relative import correlation
from analytics.presentation import figures
from analytics.selectors.portfolios import portfolio_snapshot
from dashboards.widgets.base import WidgetRequest, envelope, period_start

TITLE = "Correlation of daily returns"
MINIMUM_OVERLAP = 20  # fewer common days than this say too little to show a number


def build(request: WidgetRequest) -> dict:
    views = [portfolio_snapshot(portfolio=p) for p in request.portfolios]
    columns = {}
    for portfolio, view in zip(request.portfolios, views, strict=True):
        returns = (view.section("series") or {}).get("returns")
        if returns and returns.get("dates"):
            columns[portfolio.code] = pd.Series(
                returns["values"], index=pd.to_datetime(returns["dates"]), dtype=float
            )
    if len(columns) < 2:
        return envelope(
            request, title=TITLE, views=views, message="Needs two portfolios with returns."
        )
    frame = pd.DataFrame(columns)
    start = period_start(frame.index.max().date(), request.period)
    if start is not None:
        frame = frame[frame.index >= pd.Timestamp(start)]
    labels = list(frame.columns)
    matrix: list[list[float | None]] = []
    for row_label in labels:
        row: list[float | None] = []
        for column_label in labels:
            if row_label == column_label:
                measured = frame[row_label].notna().sum() >= MINIMUM_OVERLAP
                row.append(1.0 if measured else None)
                continue
            pair = frame[[row_label, column_label]].dropna()
            if len(pair) < MINIMUM_OVERLAP:
                row.append(None)
                continue
            value = float(correlation(pair[column_label].to_numpy(), pair[row_label].to_numpy()))
            row.append(value if np.isfinite(value) else None)
        matrix.append(row)
    return envelope(
        request,
        title=TITLE,
        views=views,
        figure=figures.correlation_heatmap_figure(labels, matrix),
    )
