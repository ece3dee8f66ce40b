"""Compute the items of an iterator in a background thread, a few ahead of their use.

An import parses and validates chunk k + 1 (pandas and Python, one core) while the database
stores chunk k (the server's own process, the other core): the two overlap instead of taking
turns. The producer must not touch the database: the connection belongs to the consumer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

Item = TypeVar("Item")

_END = object()
_POLL_SECONDS = 0.1


@contextmanager
def prefetched(items: Iterable[Item], *, ahead: int = 2) -> Iterator[Iterator[Item]]:
    """Yield an iterator over ``items`` whose next ``ahead`` items are computed in a thread.

    An exception raised while producing an item is raised again by the consumer's iterator,
    in the place of that item. Leaving the block (normally, early or by an exception) stops
    the producer after the item it is computing and waits for its thread to end, so nothing
    runs on once the block is left. At most ``ahead`` finished items wait in memory.
    """
    buffer: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as error:
            put((_END, error))
            return
        put((_END, None))

    def consume() -> Iterator[Item]:
        while True:
            item, error = buffer.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item

    thread = threading.Thread(target=produce, name="ingest-prefetch", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()
