"""An input read in several chunks: each chunk is stored while the next is validated,
chunks of new rows and chunks that repeat or amend stored rows are counted apart, and a
bad row in a late chunk still leaves nothing behind."""

import io

import pytest

from analytics.models import ImportStatus, Trade
from analytics.services.imports.runs import data_import
from tests.analytics.ingest.conftest import table_counts

HEADER = "portfolio,instrument,trade_date,side,quantity,price,fees,currency,external_id"


def _trades(numbers, price="10"):
    return [f"GROWTH,AAA,2024-01-02,buy,{n},{price},0,USD,T-{n}" for n in numbers]


def _import(lines, **options):
    body = "\n".join([HEADER, *lines]).encode()
    return data_import(
        kind="trades",
        stream=io.BytesIO(body),
        file_name="t.csv",
        source="broker-a",
        chunk_rows=4,
        **options,
    )


@pytest.mark.django_db(transaction=True)
def test_chunks_of_new_stored_and_amended_rows_are_counted_apart(world):
    first = _import(_trades(range(1, 11)))  # 10 rows: chunks of 4, 4 and 2
    assert first.status == ImportStatus.COMMITTED
    assert (first.rows_created, first.rows_updated, first.rows_unchanged) == (10, 0, 0)
    assert first.portfolio_ids == [world.pk]

    # Chunk 1 repeats T-1..T-4; chunk 2 amends T-5 and adds T-11..T-13; chunk 3 adds T-14.
    lines = _trades(range(1, 5)) + _trades([5], price="11") + _trades(range(11, 15))
    again = _import(lines)
    assert again.status == ImportStatus.COMMITTED
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (4, 1, 4)
    assert Trade.objects.count() == 14
    assert str(Trade.objects.get(external_id="T-5").price) == "11.000000"


@pytest.mark.django_db(transaction=True)
def test_a_bad_row_in_the_last_chunk_rolls_back_the_chunks_already_stored(world):
    before = table_counts()
    lines = [*_trades(range(1, 10)), "GROWTH,AAA,2024-13-01,buy,1,10,0,USD,T-99"]
    run = _import(lines)
    assert run.status == ImportStatus.REJECTED
    assert run.rows_total == 10 and run.rows_rejected == 1
    assert table_counts() == before


@pytest.mark.django_db(transaction=True)
def test_a_key_repeated_across_chunks_is_a_duplicate_naming_the_first_row(world):
    lines = _trades(range(1, 6)) + _trades([2])  # T-2 again in the second chunk, file row 7
    run = _import(lines, skip_invalid=True)
    assert run.status == ImportStatus.PARTIAL
    assert (run.rows_created, run.rows_rejected) == (5, 1)
    assert run.errors[0]["row"] == 7
    assert "same as row 3" in run.errors[0]["message"]
