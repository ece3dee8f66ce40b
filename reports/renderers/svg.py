"""Plotly figures as SVG for print: the same figure dicts the pages draw, exported
by kaleido 1.x, which drives the system Chromium offline.

Starting Chromium costs about 6 s, a figure about 0.3 s after that, so the
process keeps one kaleido session warm (:class:`ChartExporter`, one per process,
reused across figures and report runs; a Celery worker of the reports queues
starts it as its process starts, see ``reports.warmup``, and keeps it for its life).
The session runs on its own thread and event loop, so a figure that hangs is
abandoned after ``timeout`` seconds, and a session that failed is closed and
started afresh on the next figure. Chromium loads only local files: plotly.js
from the ``plotly`` package and kaleido's page; MathJax is off, so nothing is
fetched from a network.

Without Chromium (``REPORT_CHROMIUM_PATH``, default ``/usr/bin/chromium``), or
when kaleido fails, :meth:`ChartExporter.svg` raises :class:`ChartUnavailable`
with a readable reason; the renderers then print a note in the chart's place and
the file carries a warning.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import logging
import os
import threading
from pathlib import Path
from typing import Any

import plotly

logger = logging.getLogger(__name__)

DEFAULT_CHROMIUM_PATH = "/usr/bin/chromium"
PRINT_FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
"""The report's print font (metric-compatible with Arial); charts use it too."""
FIGURE_TIMEOUT_SECONDS = 30.0
START_TIMEOUT_SECONDS = 60.0


class ChartUnavailable(Exception):
    """A chart could not be drawn; the message says why, for the reader."""


def chromium_path() -> str:
    """The Chromium that draws charts: ``REPORT_CHROMIUM_PATH`` or ``/usr/bin/chromium``."""
    return os.environ.get("REPORT_CHROMIUM_PATH", DEFAULT_CHROMIUM_PATH)


def print_figure(figure: dict[str, Any], *, width: int, height: int) -> dict[str, Any]:
    """``figure`` laid out for paper: a fixed size, the print font, a white
    background and no hover or legend clutter beyond what the figure asked for."""
    printed = copy.deepcopy(figure)
    layout = printed.setdefault("layout", {})
    layout["width"] = width
    layout["height"] = layout.get("height") or height
    layout["font"] = {**layout.get("font", {}), "family": PRINT_FONT}
    layout["paper_bgcolor"] = "#ffffff"
    layout["plot_bgcolor"] = "#ffffff"
    return printed


class ChartExporter:
    """A warm kaleido session on a thread of its own. Thread-safe: figures are
    drawn one at a time."""

    def __init__(self, *, browser: str | None = None, timeout: float = FIGURE_TIMEOUT_SECONDS):
        self._browser = browser
        self._timeout = timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None

    def svg(self, figure: dict[str, Any], *, width: int = 760, height: int = 320) -> str:
        """``figure`` (a Plotly figure dict) as SVG markup, ``width`` × ``height``
        CSS pixels (a figure's own ``layout.height`` wins)."""
        printed = print_figure(figure, width=width, height=height)
        with self._lock:
            self._start()
            loop = self._loop
            if loop is None:  # _start either set it or raised
                raise ChartUnavailable("The chart session did not start.")
            future = asyncio.run_coroutine_threadsafe(
                self._kaleido.calc_fig(printed, opts={"format": "svg"}), loop
            )
            try:
                data = future.result(timeout=self._timeout)
            except concurrent.futures.TimeoutError:
                future.cancel()
                self._stop()
                raise ChartUnavailable(
                    f"The chart took longer than {self._timeout:.0f} s to draw."
                ) from None
            except Exception as error:
                logger.warning("kaleido could not draw a chart", exc_info=True)
                self._stop()
                raise ChartUnavailable(f"The chart could not be drawn ({error}).") from error
        return data.decode() if isinstance(data, bytes) else str(data)

    def start(self) -> None:
        """Start Chromium now rather than on the first figure (a worker process
        does this as it starts: ``reports.warmup``). Raises
        :class:`ChartUnavailable` as :meth:`svg` would; a figure asked for
        meanwhile waits for this start instead of making its own."""
        with self._lock:
            self._start()

    @property
    def started(self) -> bool:
        """Whether a Chromium session is up."""
        return self._kaleido is not None

    def close(self) -> None:
        """Stop Chromium (the next figure starts it again)."""
        with self._lock:
            self._stop()

    def _start(self) -> None:
        if self._kaleido is not None:
            return
        browser = self._browser or chromium_path()
        if not Path(browser).is_file():
            raise ChartUnavailable(
                f"Charts are drawn by Chromium, which is not installed at {browser}."
            )
        import kaleido

        # kaleido and choreographer log every figure and tab at INFO.
        for name in ("kaleido", "choreographer"):
            logging.getLogger(name).setLevel(logging.WARNING)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="report-charts", daemon=True)
        thread.start()
        plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

        async def open_session() -> Any:
            session = kaleido.Kaleido(
                path=browser, plotlyjs=str(plotly_js), mathjax=False, timeout=self._timeout
            )
            await session.open()
            return session

        try:
            session = asyncio.run_coroutine_threadsafe(open_session(), loop).result(
                timeout=START_TIMEOUT_SECONDS
            )
        except Exception as error:
            logger.warning("kaleido could not start Chromium", exc_info=True)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            raise ChartUnavailable(
                f"Chromium could not be started to draw charts ({error})."
            ) from error
        self._loop, self._thread, self._kaleido = loop, thread, session

    def _stop(self) -> None:
        loop, thread, session = self._loop, self._thread, self._kaleido
        self._loop = self._thread = self._kaleido = None
        if loop is None:
            return
        if session is not None:
            try:
                asyncio.run_coroutine_threadsafe(session.close(), loop).result(timeout=10)
            except Exception:
                logger.warning("kaleido did not close cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)


_exporter: ChartExporter | None = None
_exporter_lock = threading.Lock()


def chart_exporter() -> ChartExporter:
    """The process's warm :class:`ChartExporter` (created on first use)."""
    global _exporter
    with _exporter_lock:
        if _exporter is None:
            _exporter = ChartExporter()
        return _exporter
