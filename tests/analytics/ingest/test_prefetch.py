"""Items computed ahead in a thread: order, errors and early exits."""

import threading
import time

import pytest

from analytics.ingest.prefetch import prefetched


def test_items_arrive_in_order_from_another_thread():
    producers = []

    def items():
        for number in range(10):
            producers.append(threading.current_thread().name)
            yield number

    with prefetched(items()) as values:
        assert list(values) == list(range(10))
    assert set(producers) == {"ingest-prefetch"}


def test_an_error_while_producing_is_raised_to_the_consumer_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("row 7: bad date")

    received = []
    with pytest.raises(ValueError, match="row 7"), prefetched(items()) as values:
        received.extend(values)
    assert received == [1, 2]


def test_leaving_early_stops_the_producer_after_at_most_a_few_items():
    produced = []

    def items():
        for number in range(1_000):
            produced.append(number)
            yield number

    with prefetched(items(), ahead=2) as values:
        assert next(values) == 0
        time.sleep(0.2)  # let the producer fill the buffer and block
    assert len(produced) <= 5  # one taken, two waiting, one being put, one computed
    assert not any(t.name == "ingest-prefetch" for t in threading.enumerate())


def test_an_error_in_the_consumer_stops_the_producer():
    def items():
        yield from range(1_000_000)

    with pytest.raises(RuntimeError), prefetched(items()) as values:
        for value in values:
            if value == 3:
                raise RuntimeError("database refused the chunk")
    assert not any(t.name == "ingest-prefetch" for t in threading.enumerate())
