"""Turn engine output (numpy, pandas, dataclasses) into JSON for ``AnalyticsSnapshot.result``.

NaN and infinities become ``null`` (JSON has neither), dates ISO strings.
"""

import dataclasses
import datetime as dt
import math
from enum import Enum

import numpy as np
import pandas as pd


def clean(value):
    """A JSON-ready copy of ``value``."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, dict):
        return {str(clean(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray | pd.Index):
        return [clean(v) for v in value.tolist()]
    if isinstance(value, pd.Series):
        return [clean(v) for v in value.tolist()]
    if dataclasses.is_dataclass(value):
        return {f.name: clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")


def series(values: pd.Series) -> dict:
    """``{"dates": [...], "values": [...]}`` of a date-indexed series."""
    return {"dates": clean(values.index), "values": clean(values.to_numpy())}


def records(frame: pd.DataFrame) -> list[dict]:
    """One dict per row, the index levels included as columns."""
    return clean(frame.reset_index().to_dict(orient="records"))
