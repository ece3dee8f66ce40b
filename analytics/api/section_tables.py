"""The snapshot sections that are tables, as ``portal.api_tabular.Table``s, for
``GET /api/portfolios/{id}/analytics/{section}/?format=csv|xlsx|parquet``.

* ``series``: one row per date of any stored daily series (the union of their
  dates, in order): ``net_assets`` (base currency), ``returns``, ``cumulative``
  (growth since the first return, a fraction), and when stored ``risk_free`` (the
  periodic rate) and ``benchmark_cumulative``; a series without a value on a
  date leaves the cell empty (the first valuation has no return).
* ``drawdowns``: the underwater curve, ``date`` and ``underwater`` (≤ 0, a fraction).
* ``rolling``: ``date`` and one column per rolling figure and window in trading
  days, e.g. ``volatility_63``, ``sharpe_252``, ``beta_63``.
* ``calendar``: one row per series (``portfolio``, ``benchmark``) and year, the
  twelve monthly returns and the year's (fractions; empty where not measured).

Dates are ISO strings in the snapshot and real dates in the table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from portal.api_tabular import Column, Table

TABLE_SECTIONS = ("series", "drawdowns", "rolling", "calendar")
SERIES_ORDER = ("net_assets", "returns", "cumulative", "risk_free", "benchmark_cumulative")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def section_table(section: str, payload: dict[str, Any]) -> Table | None:
    """The table of ``section``'s ``payload``; None for a section that is not a
    table or that the data could not support (``available`` false)."""
    if section not in TABLE_SECTIONS or payload.get("available") is False:
        return None
    if section == "series":
        names = [name for name in SERIES_ORDER if name in payload]
        return _by_date({name: payload[name] for name in names}, sheet="Series")
    if section == "drawdowns":
        return _by_date({"underwater": payload["underwater"]}, sheet="Drawdowns")
    if section == "rolling":
        return _rolling(payload)
    return _calendar(payload)


def _by_date(series: dict[str, dict[str, list]], *, sheet: str) -> Table:
    rows: dict[str, dict[str, Any]] = {}
    for name, values in series.items():
        for day, value in zip(values["dates"], values["values"], strict=True):
            rows.setdefault(day, {})[name] = value
    columns = [Column("date", "Date", "date")] + [
        Column(name, name.replace("_", " ").capitalize(), "number") for name in series
    ]
    return Table(
        columns=columns,
        rows=[
            {"date": dt.date.fromisoformat(day), **{name: rows[day].get(name) for name in series}}
            for day in sorted(rows)
        ],
        sheet=sheet,
    )


def _rolling(payload: dict[str, Any]) -> Table:
    figures = {
        f"{name}_{window}": values
        for window, by_name in payload["windows"].items()
        for name, values in by_name.items()
    }
    columns = [Column("date", "Date", "date")] + [
        Column(key, key.replace("_", " ").capitalize(), "number") for key in figures
    ]
    rows = [
        {
            "date": dt.date.fromisoformat(day),
            **{key: values[index] for key, values in figures.items()},
        }
        for index, day in enumerate(payload["dates"])
    ]
    return Table(columns=columns, rows=rows, sheet="Rolling")


def _calendar(payload: dict[str, Any]) -> Table:
    columns = [
        Column("series", "Series"),
        Column("year", "Year", "integer"),
        *(Column(month, month.capitalize(), "number") for month in MONTHS),
        Column("year_return", "Year return", "number"),
    ]
    rows = [
        {
            "series": name,
            "year": int(year),
            **dict(zip(MONTHS, values[:12], strict=True)),
            "year_return": values[12],
        }
        for name, years in payload.items()
        for year, values in years.items()
    ]
    return Table(columns=columns, rows=rows, sheet="Calendar")
