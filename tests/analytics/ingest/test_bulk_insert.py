"""The one bulk writer stores typed tuples and frames of text alike, with NULL
for missing values."""

import datetime as dt
from decimal import Decimal

import pandas as pd
from django.db import connections, router

from analytics.ingest.bulk_insert import bulk_insert_values, rows_insert
from analytics.models import Price


def test_tuples_and_a_frame_store_the_same_rows(aaa, sap):
    written = bulk_insert_values(
        Price,
        ["instrument", "date", "close", "currency", "source"],
        [(aaa.pk, dt.date(2024, 1, 2), Decimal("10.5"), "USD", "tuples")],
    )
    frame = pd.DataFrame(
        {
            "instrument_id": [sap.pk],
            "date": ["2024-01-02"],
            "close": ["150.25"],
            "currency": ["EUR"],
            "source": ["frame"],
        }
    )
    copied = rows_insert(
        connection=connections[router.db_for_write(Price)],
        table=Price._meta.db_table,
        columns=list(frame.columns),
        rows=frame,
    )
    assert (written, copied) == (1, 1)
    stored = {(p.instrument_id, p.date, p.close, p.currency, p.source) for p in Price.objects.all()}
    assert stored == {
        (aaa.pk, dt.date(2024, 1, 2), Decimal("10.5"), "USD", "tuples"),
        (sap.pk, dt.date(2024, 1, 2), Decimal("150.25"), "EUR", "frame"),
    }


def test_an_empty_frame_writes_nothing(aaa):
    frame = pd.DataFrame(columns=["instrument_id", "date", "close", "currency", "source"])
    assert (
        rows_insert(
            connection=connections[router.db_for_write(Price)],
            table=Price._meta.db_table,
            columns=list(frame.columns),
            rows=frame,
        )
        == 0
    )
    assert Price.objects.count() == 0
