"""Chromium and WeasyPrint started with a Celery worker process, not on its first report.

Kaleido's Chromium takes about 6 s to start and WeasyPrint's child process about
a second; started lazily, the first report of every worker process pays both.
A worker process that serves the ``reports`` or ``delivery`` queue (deliveries
render reports too) therefore starts them as it starts:

* prefork pool (the default): on ``worker_process_init``, in each pool child
  (the parent never renders, and a browser started before ``fork`` would not
  survive it);
* ``solo`` and ``threads`` pools: on ``worker_ready``, in the worker itself.

The start runs on a thread of its own, because Celery gives a pool child
``worker_proc_alive_timeout`` (4 s) to report for work and Chromium can take
longer; a report asked for meanwhile waits for this start rather than making its
own (``ChartExporter.start`` holds the exporter's lock). Neither can stop the
worker: a missing or broken Chromium is a warning in the log, and charts are
then replaced by a note as they would be anyway.

``REPORTS_WARM_CHROMIUM`` (an environment boolean, default true) turns this off.
The web process never receives these signals, nor does a test that does not
start a worker; a test worker that consumes its own queue (``reports-1a2b…``)
serves neither queue and starts nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import environ
from celery import current_app
from celery.signals import worker_process_init, worker_ready

logger = logging.getLogger(__name__)

SETTING = "REPORTS_WARM_CHROMIUM"
WARM_QUEUES = frozenset({"reports", "delivery"})
"""The queues whose tasks render reports."""
_NON_FORKING_POOLS = ("celery.concurrency.solo", "celery.concurrency.thread")


def warm_enabled() -> bool:
    """Whether worker processes start Chromium as they start (``REPORTS_WARM_CHROMIUM``)."""
    return bool(environ.Env().bool(SETTING, default=True))


def consumed_queues() -> set[str]:
    """The names of the queues this worker consumes (``-Q``, else every queue)."""
    return set(current_app.amqp.queues.consume_from or {})


def serves_reports(queues: Iterable[str]) -> bool:
    """Whether a worker consuming ``queues`` renders reports."""
    return not WARM_QUEUES.isdisjoint(queues)


def renderers_start() -> None:
    """Start Chromium (kaleido) and the WeasyPrint child in this process, now.
    Never raises: what fails is logged as a warning and is started again on the
    first report that needs it."""
    from reports.renderers.pdf import pdf_process
    from reports.renderers.svg import ChartUnavailable, chart_exporter

    try:
        chart_exporter().start()
    except ChartUnavailable as error:
        logger.warning("Report charts will not be drawn: %s", error)
    except Exception:
        logger.warning("Chromium could not be started for report charts", exc_info=True)
    else:
        logger.info("Chromium started for report charts")
    try:
        pdf_process().start()
    except Exception:
        logger.warning("The PDF renderer could not be started", exc_info=True)


def warm_up(*, start: Callable[[], None] = renderers_start) -> threading.Thread | None:
    """Start the renderers on a background thread when this worker serves a
    reports queue and warming is on; the thread, or None when nothing starts."""
    if not warm_enabled():
        return None
    try:
        queues = consumed_queues()
    except Exception:  # never stop a worker over its queue list
        logger.warning("Could not tell which queues this worker consumes", exc_info=True)
        return None
    if not serves_reports(queues):
        return None
    thread = threading.Thread(target=start, name="report-renderers-warm-up", daemon=True)
    thread.start()
    return thread


def on_worker_process_init(**kwargs: Any) -> None:
    warm_up()


def on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    """A worker without pool children renders in this process: warm it here."""
    pool = getattr(sender, "pool", None)
    if pool is not None and type(pool).__module__ in _NON_FORKING_POOLS:
        warm_up()


def signals_connect() -> None:
    """Connect the handlers (``reports.apps``); safe to call more than once."""
    worker_process_init.connect(
        on_worker_process_init, weak=False, dispatch_uid="reports-warm-process"
    )
    worker_ready.connect(on_worker_ready, weak=False, dispatch_uid="reports-warm-ready")
