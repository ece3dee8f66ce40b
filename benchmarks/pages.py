"""Page speed in headless Chromium: a portfolio's chart tabs against a chart-free page.

Run: ``python benchmarks/pages.py [--url http://127.0.0.1:8000] [--repeat 5]``
(``make bench-pages``).

Without ``--url`` it prepares an embedded portal of its own under ``--var-dir``
(SQLite, the quickstart demo data loaded once with Celery tasks run eagerly so the
analytics snapshots exist; later runs reuse it), collects the static files and starts
gunicorn on a free port of 127.0.0.1 with ``DEBUG`` off, so static files are served
by WhiteNoise exactly as in production. With ``--url`` it measures that server.

It logs in as the demo portfolio manager (``pm``) and, in one browser context:

* visits every page once in turn from an empty cache (``cold``: the chart-free page
  first, so the first chart tab fetches plotly.js and the later tabs find it
  cached), then
* visits them ``--repeat`` more times in turn (``warm``: the browser's cache holds
  what the server let it keep) and keeps the median.

A page is ready at its ``load`` event and, on a chart tab, once every chart
``<div id="…-chart">`` holds a drawn Plotly plot (``.main-svg``): the moment is taken
in the page by a ``MutationObserver`` installed before any script runs, in
milliseconds since navigation start. Bytes are the navigation's and every
resource's ``transferSize`` (what crossed the network, headers included; 0 when
served from the cache) and ``decodedBodySize`` (after decompression). The ratio is
the slowest chart tab's warm time over the chart-free page's warm time; the goal is
at most 2×.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
USERNAME = "pm"
PASSWORD = "portal-demo"  # noqa: S105 - the published demo credential
CHART_FREE = "/portfolios/"
TABS = ("", "performance/", "risk/", "attribution/")
GOAL = 2.0

# Installed before any page script: records when every chart div first holds a
# drawn plot, in ms since navigation start (performance.now()).
CHARTS_OBSERVER = """
(() => {
  const drawn = () => {
    const charts = document.querySelectorAll("div.chart[id$='-chart']");
    return charts.length > 0 && [...charts].every((el) => el.querySelector(".main-svg"));
  };
  new MutationObserver((_, observer) => {
    if (drawn()) { window.__chartsDrawnAt = performance.now(); observer.disconnect(); }
  }).observe(document, { childList: true, subtree: true });
})();
"""
CHARTS_DRAWN = """
() => {
  const charts = document.querySelectorAll("div.chart[id$='-chart']");
  return [...charts].every((el) => el.querySelector(".main-svg"));
}
"""
MEASURE = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const entries = [nav, ...resources];
  return {
    charts: document.querySelectorAll("div.chart[id$='-chart']").length,
    ready: Math.max(nav.loadEventEnd, window.__chartsDrawnAt || 0),
    response: nav.responseEnd,
    transferred: entries.reduce((sum, e) => sum + e.transferSize, 0),
    decoded: entries.reduce((sum, e) => sum + e.decodedBodySize, 0),
    html: nav.decodedBodySize,
  };
}
"""


@dataclass
class Visit:
    charts: int
    ready_ms: float
    response_ms: float
    transferred: int
    decoded: int
    html: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_environment(var_dir: Path) -> dict[str, str]:
    """The embedded default under ``var_dir``: SQLite, no broker, DEBUG off."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "EMAIL_URL", "SECRET_KEY"}
    }
    environment.update(
        {
            "PORTAL_VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "false",
            "CELERY_TASK_ALWAYS_EAGER": "true",
        }
    )
    return environment


def _manage(environment: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 - manage.py with this script's own arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def embedded_server(var_dir: Path) -> Iterator[str]:
    """Prepare the portal under ``var_dir`` (demo data once) and serve it with gunicorn."""
    environment = _server_environment(var_dir)
    _manage(environment, "prepare_embedded", "--static")
    _manage(environment, "migrate", "--no-input")
    loaded = var_dir / "bench-pages-demo-loaded"
    if not loaded.exists():
        print(f"loading the demo data into {var_dir} (once) …", flush=True)
        _manage(environment, "load_demo")
        _manage(environment, "load_compliance_demo")
        loaded.touch()
    port = _free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [gunicorn, "portal.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "2", "--threads", "4", "--log-level", "warning"]
    server = subprocess.Popen(  # noqa: S603 - gunicorn from this virtualenv
        command,
        cwd=ROOT,
        env=environment,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/health/", timeout=2)  # noqa: S310 - our own server
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def visit(page: Any, url: str) -> Visit:
    page.goto(url, wait_until="load")
    page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
    result = page.evaluate(MEASURE)
    return Visit(
        charts=result["charts"],
        ready_ms=float(result["ready"]),
        response_ms=float(result["response"]),
        transferred=int(result["transferred"]),
        decoded=int(result["decoded"]),
        html=int(result["html"]),
    )


def measure(url: str, repeat: int) -> dict[str, tuple[Visit, list[Visit]]]:
    """Cold and warm visits of the chart-free page and every tab of pm's first portfolio."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(CHARTS_OBSERVER)
        page = context.new_page()
        page.goto(f"{url}/login/")
        page.fill("#id_username", USERNAME)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        page.goto(f"{url}{CHART_FREE}")
        link = page.locator("#portfolio-table a[href^='/portfolios/']").first.get_attribute("href")
        match = re.fullmatch(r"/portfolios/\d+/", link or "")
        if not match:
            raise RuntimeError(f"no portfolio link for {USERNAME} on {CHART_FREE}")
        # The visits below start from an empty cache (still logged in).
        context.new_cdp_session(page).send("Network.clearBrowserCache")
        paths = [CHART_FREE] + [f"{match.group(0)}{tab}" for tab in TABS]
        cold = {path: visit(page, f"{url}{path}") for path in paths}
        warm: dict[str, list[Visit]] = {path: [] for path in paths}
        for _ in range(repeat):
            for path in paths:
                warm[path].append(visit(page, f"{url}{path}"))
        browser.close()
    return {path: (cold[path], warm[path]) for path in paths}


def report(results: dict[str, tuple[Visit, list[Visit]]]) -> None:
    print(
        f"{'page':<32}{'charts':>7}{'html KB':>9}{'cold ms':>9}{'cold KB':>9}"
        f"{'warm ms':>9}{'html ms':>9}{'warm KB':>9}{'decoded KB':>12}"
    )
    medians = {}
    for path, (cold, warm) in results.items():
        ready = statistics.median(v.ready_ms for v in warm)
        medians[path] = ready
        response = statistics.median(v.response_ms for v in warm)
        transferred = statistics.median(v.transferred for v in warm)
        print(
            f"{path:<32}{cold.charts:>7}{cold.html / 1024:>9.0f}{cold.ready_ms:>9.0f}"
            f"{cold.transferred / 1024:>9.0f}{ready:>9.0f}{response:>9.0f}"
            f"{transferred / 1024:>9.0f}{cold.decoded / 1024:>12.0f}"
        )
    baseline = medians.pop(CHART_FREE)
    slowest = max(medians, key=lambda path: medians[path])
    ratio = medians[slowest] / baseline
    verdict = "meets" if ratio <= GOAL else "misses"
    print(
        f"\nslowest chart tab {slowest}: {medians[slowest]:.0f} ms warm against "
        f"{baseline:.0f} ms for {CHART_FREE}: {ratio:.1f}× ({verdict} the goal of ≤ {GOAL:.0f}×)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="measure this running server (demo data, user pm)")
    parser.add_argument(
        "--var-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "portal-bench-pages",
        help="where the embedded portal of the benchmark lives (reused between runs)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="warm visits of each page")
    args = parser.parse_args()
    if args.url:
        results = measure(args.url.rstrip("/"), args.repeat)
    else:
        with embedded_server(args.var_dir) as url:
            results = measure(url, args.repeat)
    report(results)


if __name__ == "__main__":
    main()
