"""The report as PDF: WeasyPrint from the print HTML (``reports.renderers.html``).

The PDF has what ``static/css/report.css`` gives print: a cover page, a table of
contents with page numbers, running headers and footers with the report name,
run time, data as-of and "Page n of N", tables that split across pages with
their header row repeated, selectable text, and charts as vector graphics (the
inline SVG that kaleido drew). Orientation follows the template's layout.

Limits: WeasyPrint runs in a child process (``reports/renderers/fetcher.py``,
which imports neither Django nor the portal) so that one runaway document cannot
take the worker with it; the child stays warm between renders
(:class:`WeasyPrintProcess`; a reports worker starts it as its process starts,
``reports.warmup``). Before each render it limits its own address space to
the setting ``REPORT_PDF_MEMORY_MB`` (default 2048 MiB; a render over it fails
with ``MemoryError``) and is killed after ``REPORT_PDF_TIMEOUT_SECONDS`` (300 s);
either way :class:`PdfRenderError` says so. Its only way to load anything is
:class:`~reports.renderers.fetcher.StaticOnlyFetcher`: ``data:`` URLs and the
portal's static files (``STATIC_ROOT`` and the staticfiles finders' folders).
Charts are drawn before, in this process, where the kaleido session stays warm.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from reports.document import Document
from reports.renderers.base import CONTENT_TYPES, RenderedFile
from reports.renderers.html import document_rendering, file_stem
from reports.renderers.svg import ChartExporter

# The child's program. Named by path, not imported: the parent never renders, so
# WeasyPrint (about 25 MB) stays out of every worker process.
FETCHER = Path(__file__).with_name("fetcher.py")
# Runs fetcher.py as a script without putting its folder on sys.path (-I), so the
# renderers' modules named csv, json and html never shadow the standard library.
_CHILD = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"


class PdfRenderError(RuntimeError):
    """WeasyPrint failed, ran out of time or memory; the message says which."""


def static_roots() -> list[Path]:
    """The folders the PDF may load files from: ``STATIC_ROOT`` and every
    staticfiles finder's folder."""
    roots: list[Path] = []
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location and Path(location) not in roots:
                roots.append(Path(location))
    return [root for root in roots if root.is_dir()]


def print_html(
    document: Document, *, exporter: ChartExporter | None = None
) -> tuple[str, list[str]]:
    """The print HTML that the PDF is made from (stylesheet and logo as ``file:``
    URLs of the static files), and the rendering's warnings."""
    rendering = document_rendering(
        document, mode="print", standalone=True, assets="file", exporter=exporter
    )
    return render_to_string("reports/document.html", rendering.context), rendering.warnings


class WeasyPrintProcess:
    """A warm child process that renders PDFs one at a time (thread-safe).

    Starting Python and WeasyPrint (fonts, stylesheets) costs about a second, so
    the child stays up between renders, like the chart session. A render that
    fails, runs out of memory or time is answered with :class:`PdfRenderError`;
    after anything but a clean answer the child is stopped (killed on a timeout)
    and the next render starts a fresh one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def render(self, job: dict[str, object], *, timeout: float) -> int:
        with self._lock:
            process = self._start()
            if process.stdin is None or process.stdout is None:  # Popen made both pipes
                raise PdfRenderError("The PDF renderer could not be started.")
            if self._stderr is not None:  # shared with the child: its messages of this job only
                self._stderr.seek(0)
                self._stderr.truncate()
            try:
                process.stdin.write((json.dumps(job) + "\n").encode())
                process.stdin.flush()
            except BrokenPipeError:
                message = self._last_error()
                self._stop()
                raise PdfRenderError(f"The PDF could not be rendered: {message}") from None
            line = _read_line(process.stdout, timeout)
            if line is None:
                self._stop()
                raise PdfRenderError(f"The PDF took longer than {timeout:.0f} s to render.")
            if not line:
                message = self._last_error()
                self._stop()
                if _out_of_memory(message):
                    raise PdfRenderError(_memory_message(job))
                raise PdfRenderError(f"The PDF could not be rendered: {message}")
            answer = json.loads(line)
            if "error" in answer:
                # A render that failed may leave the child in any state: start afresh.
                self._stop()
                if _out_of_memory(answer["error"]):
                    raise PdfRenderError(_memory_message(job))
                raise PdfRenderError(f"The PDF could not be rendered: {answer['error']}")
            return int(answer["pages"])

    def start(self) -> None:
        """Start the child now rather than on the first render, and have it render
        a one-line page so that WeasyPrint, its fonts and Cairo are loaded too (a
        worker process does this as it starts: ``reports.warmup``). Raises
        :class:`PdfRenderError` as a render would."""
        with tempfile.TemporaryDirectory(prefix="report-pdf-warm-up-") as folder:
            page = Path(folder) / "warm-up.html"
            page.write_text("<!doctype html><p>Warm-up</p>", encoding="utf-8")
            job: dict[str, object] = {
                "html_path": str(page),
                "pdf_path": str(page.with_suffix(".pdf")),
                "base_url": Path(folder).as_uri() + "/",
                "roots": [],
                "memory_bytes": int(settings.REPORT_PDF_MEMORY_MB) * 1024 * 1024,
            }
            self.render(job, timeout=float(settings.REPORT_PDF_TIMEOUT_SECONDS))

    def close(self) -> None:
        with self._lock:
            self._stop()
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()
        if self._stderr is not None:
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (kept for the child's life)
        self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-I", "-c", _CHILD, str(FETCHER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()

    def _last_error(self) -> str:
        if self._stderr is None:
            return "no message"
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "the renderer stopped without a message"


def _out_of_memory(message: str) -> bool:
    """Whether the child's last words say it ran out of memory: Python's
    ``MemoryError``, or the C libraries' (GLib, Pango, Cairo) failed allocation,
    which aborts the process."""
    lowered = message.lower()
    return "memoryerror" in lowered or "failed to allocate" in lowered or "out of memory" in lowered


def _memory_message(job: dict[str, object]) -> str:
    megabytes = int(str(job["memory_bytes"])) // (1024 * 1024)
    return f"The PDF needed more than {megabytes} MiB of memory to render."


def _read_line(stream: IO[bytes], timeout: float) -> bytes | None:
    """One line from ``stream`` within ``timeout`` seconds: None on a timeout,
    ``b""`` when the stream closed."""
    deadline = time.monotonic() + timeout
    data = b""
    descriptor = stream.fileno()
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([descriptor], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(descriptor, 65536)
        if not chunk:
            return b""
        data += chunk
    return data


_process = WeasyPrintProcess()


def pdf_process() -> WeasyPrintProcess:
    """The process's warm WeasyPrint child (started on first use)."""
    return _process


def html_to_pdf(*, html: str, pdf_path: Path, timeout: float | None = None) -> int:
    """Render ``html`` to ``pdf_path`` in the limited child process; the page count."""
    timeout = timeout or settings.REPORT_PDF_TIMEOUT_SECONDS
    html_path = pdf_path.with_suffix(".print.html")
    html_path.write_text(html, encoding="utf-8")
    job: dict[str, object] = {
        "html_path": str(html_path.resolve()),
        "pdf_path": str(pdf_path.resolve()),
        "base_url": html_path.parent.resolve().as_uri() + "/",
        "roots": [str(root) for root in static_roots()],
        "memory_bytes": int(settings.REPORT_PDF_MEMORY_MB) * 1024 * 1024,
    }
    try:
        return _process.render(job, timeout=timeout)
    finally:
        html_path.unlink(missing_ok=True)


def render(
    document: Document, *, directory: Path, exporter: ChartExporter | None = None
) -> RenderedFile:
    """The report as one PDF file in ``directory``."""
    html, warnings = print_html(document, exporter=exporter)
    path = Path(directory) / f"{file_stem(document)}.pdf"
    pages = html_to_pdf(html=html, pdf_path=path)
    return RenderedFile(
        format="pdf",
        path=path,
        content_type=CONTENT_TYPES["pdf"],
        pages=pages,
        warnings=tuple(warnings),
    )
