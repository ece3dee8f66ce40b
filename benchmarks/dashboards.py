"""Dashboard speed under load: widget-data endpoints, cold and warm, against a
trivial JSON endpoint of the same server, and a 10-widget dashboard page in
headless Chromium.

Run: ``DATABASE_URL=postgres://… python benchmarks/dashboards.py [--duration 30]
[--connections 50] [--workers N]`` (``wrk`` from Debian must be installed), or
``make bench-dashboards``.

It prepares the database named by ``DATABASE_URL`` (PostgreSQL, created when
missing: migrate; the quick demo loaded once with Celery tasks run eagerly so the
snapshots exist; the var folder's secret key and static files), gives the demo
portfolio manager (``pm``) a read-only API token good for a day, a logged-in
session and a dashboard of 10 widgets, and starts gunicorn as production runs it
(``--workers`` workers of 2 threads, by default 2 × CPUs + 1, each holding at most
its share of the connections, as behind a proxy; ``DEBUG`` off; persistent
database connections, ``CONN_MAX_AGE=60``; widget data in Redis,
``CACHE_URL``; API throttling off, since one user from many connections is the
point) on a free port of 127.0.0.1. Then, each for ``--duration`` seconds from
``--connections`` concurrent connections of ``wrk``, after an unmeasured
5-second warm-up of the workers:

* ``floor``: ``GET /api/dashboards/widget-kinds/`` with the token, a constant
  JSON answer through the same authentication, DRF and middleware stack;
* ``warm, token``: the 10 widgets' data endpoints in turn, each primed once, so
  every answer comes from the cache; each is an audited API data pull;
* ``warm, session``: the same, as the dashboard page asks (its session);
* ``warm, session, paced``: the same, each connection pausing a random 0-240 ms
  after every answer, so the 50 clients offer a steady ~330 requests a second
  instead of as many as the server can take (flat out, latency is only the
  queue: 50 connections over N requests a second wait 50/N s on average);
* ``poll``: the data-version endpoint with the current ETag (``304 Not
  Modified``), what every open dashboard sends every 2 seconds while visible;
* ``cold``: the widget endpoints on a second server whose cache is Django's
  dummy cache, so every request builds its payload from the stored snapshots.

It prints requests/s and the 50th and 99th latency percentiles of each (wrk's
``--latency``), and the time until the 10-widget page is interactive: from
navigation start until every widget holds its data and every chart is drawn, the
median of five loads with a warm browser cache. Goals: warm p99 within 2× the
floor's p99; at least 300 requests/s warm; warm p99 under 100 ms while serving
300 requests/s; the page under 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
WRK = shutil.which("wrk") or "/usr/bin/wrk"
USERNAME = "pm"
PASSWORD = "portal-demo"  # noqa: S105 - the published demo credential
BOARD = "Benchmark: ten widgets"
KINDS = (
    "kpis",
    "cumulative",
    "underwater",
    "rolling",
    "monthly",
    "exposure",
    "holdings",
    "correlation",
    "compliance",
    "data_quality",
)

PREPARE = """
from portal.celery import app
app.conf.task_always_eager = True
from django.core.management import call_command
from analytics.models import Portfolio
if not Portfolio.objects.exists():
    call_command("load_demo", instruments=60, portfolios=4, days=260, verbosity=0)
    call_command("load_compliance_demo", verbosity=0)
from datetime import timedelta
from django.utils import timezone
from portal.api_tokens import api_token_create
from portal.models import ApiToken, User
from dashboards.models import Dashboard
from dashboards.services import dashboard_create
from dashboards.widgets import CATALOG
user = User.objects.get(username="{username}")
ApiToken.objects.filter(user=user, name="Benchmark").delete()
_, secret = api_token_create(
    user=user, name="Benchmark", scope="read", expires_at=timezone.now() + timedelta(days=1)
)
board = Dashboard.objects.filter(owner=user, name="{board}").first()
if board is None:
    widgets, y = [], 0
    for index, kind in enumerate({kinds!r}):
        spec = CATALOG[kind]
        widgets.append({{"kind": kind, "x": 6 * (index % 2), "y": y, "w": 6, "h": spec.height}})
        y += spec.height if index % 2 else 0
    board = dashboard_create(owner=user, name="{board}", widgets=widgets)
from django.test import Client
browser = Client()
assert browser.login(username="{username}", password="{password}")
print("RESULT", secret, board.pk, browser.cookies["sessionid"].value)
"""

LUA = """
paths = {{{paths}}}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""
# Paced: each connection waits a random 0 … 2 × PAUSE_MS after every answer
# before it asks again, so 50 clients offer about 50 / (PAUSE_MS + latency)
# requests a second instead of as many as the server can take.
PACED_LUA = (
    LUA
    + """
delay = function()
  return math.random(0, {pause_twice})
end
"""
)
PAUSE_MS = 120
THREADS = 2
WARM_UP_SECONDS = 5

READY = """
() => {
  const widgets = [...document.querySelectorAll(".dashboard-widget")];
  return widgets.length > 0 && widgets.every((w) => w.dataset.version
    && [...w.querySelectorAll(".widget-plot")].every((p) => p.querySelector(".main-svg")));
}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_create_if_missing(url: str) -> None:
    """Create the benchmark's PostgreSQL database (named by ``url``) unless it exists."""
    import psycopg
    from psycopg import sql

    name = urllib.parse.urlsplit(url).path.lstrip("/")
    server = urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def worker_connections(connections: int, workers: int) -> int:
    """Each worker's share of ``connections``, rounded up, with two to spare."""
    return -(-connections // workers) + 2


@contextmanager
def gunicorn(env: dict, workers: int, connections: int) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own server
        [
            PYTHON,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            # Threads: a kept-alive or idle connection waits in the worker's poller
            # instead of holding the worker (a sync worker is blocked by a client
            # that connected and has not sent yet, as a paced client does).
            "--worker-class",
            "gthread",
            "--threads",
            str(THREADS),
            # As behind a proxy with a bounded upstream pool: each worker holds at
            # most its share of the connections, so none queues more than its
            # threads can serve while another idles (unbounded, gthread workers
            # accept unevenly and the p99 is that of the busiest one).
            "--worker-connections",
            str(worker_connections(connections, workers)),
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/health/", timeout=2)  # noqa: S310 - localhost
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        # Graceful first; workers still answering wrk's queued requests get
        # gunicorn's 30 s, then they are killed.
        server.terminate()
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
        url, headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - localhost
        return json.loads(response.read())


def found(pattern: str, text: str) -> re.Match[str]:
    """The first match of ``pattern`` in ``text``; a missing one stops the run with the text."""
    match = re.search(pattern, text)
    if match is None:
        sys.exit(f"expected {pattern!r} in:\n{text}")
    return match


def to_ms(value: str) -> float:
    number, unit = found(r"^([\d.]+)(us|ms|s)$", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(
    url: str,
    paths: list[str],
    credential: str,
    *,
    duration: int,
    connections: int,
    headers: tuple[str, ...] = (),
    paced: bool = False,
) -> dict:
    """wrk against ``paths`` in turn with the ``credential`` header, after an
    unmeasured warm-up of every worker (each imports and compiles on its first
    requests); ``paced`` adds the pause of :data:`PACED_LUA`."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        quoted = ", ".join(json.dumps(p) for p in paths)
        script.write(
            PACED_LUA.format(paths=quoted, pause_twice=2 * PAUSE_MS)
            if paced
            else LUA.format(paths=quoted)
        )
    for seconds in (WARM_UP_SECONDS, duration):
        output = _wrk(url, script.name, credential, seconds, connections, headers)
    os.unlink(script.name)
    return _wrk_figures(output)


def _wrk(
    url: str,
    script: str,
    credential: str,
    duration: int,
    connections: int,
    headers: tuple[str, ...],
) -> str:
    return subprocess.run(  # noqa: S603 - wrk from Debian
        [
            WRK,
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--latency",
            "--timeout",
            "30s",
            "-H",
            credential,
            *[part for header in headers for part in ("-H", header)],
            "-s",
            script,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _wrk_figures(output: str) -> dict:
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if "50" not in percentiles:
        sys.exit(f"wrk measured nothing:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(found(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": to_ms(percentiles["50"]),
        "p99": to_ms(percentiles["99"]),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def page_interactive(url: str, board: int, repeat: int = 5) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{url}/login/")
        page.fill("#id_username", USERNAME)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        times = []
        for _ in range(repeat + 1):  # the first load fills the browser's cache
            page.goto(f"{url}/dashboards/{board}/")
            page.wait_for_function(READY, timeout=30000)
            times.append(page.evaluate("performance.now()"))
        browser.close()
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    options = parser.parse_args()
    if not Path(WRK).exists():
        sys.exit("wrk is missing: apt-get install wrk (Debian package).")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database for the benchmark.")
    env = {
        **os.environ,
        "DEBUG": "false",
        "PORTAL_VAR_DIR": os.environ.get("PORTAL_VAR_DIR", str(ROOT / "var" / "bench-dashboards")),
        "CACHE_URL": os.environ.get("CACHE_URL", "rediscache://127.0.0.1:6379/1"),
        "OPENBLAS_NUM_THREADS": "1",
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
        # One token from 50 connections far exceeds the production rates: no limit.
        "API_THROTTLE_USER": "",
        "API_THROTTLE_TOKEN": "",
    }
    database_create_if_missing(env["DATABASE_URL"])
    # The var folder's secret key: every gunicorn worker must sign sessions alike.
    manage(env, "prepare_embedded", "--static")
    manage(env, "migrate", "--noinput", "-v0")
    result = manage(
        env,
        "shell",
        stdin=PREPARE.format(username=USERNAME, password=PASSWORD, board=BOARD, kinds=KINDS),
    )
    token, board, session = found(r"RESULT (\S+) (\d+) (\S+)", result).groups()
    by_token = f"Authorization: Token {token}"
    by_session = f"Cookie: sessionid={session}"
    measure = {"duration": options.duration, "connections": options.connections}
    rows: list[tuple[str, dict]] = []
    with gunicorn(env, options.workers, options.connections) as url:
        detail = get_json(f"{url}/api/dashboards/{board}/", token)
        paths = [w["data_url"] for w in detail["widgets"]]
        for path in paths:  # prime the cache: the warm phases never build
            get_json(url + path, token)
        floor = load(url, ["/api/dashboards/widget-kinds/"], by_token, **measure)
        rows.append(("floor (widget kinds)", floor))
        warm = load(url, paths, by_token, **measure)
        rows.append(("warm, token (audited)", warm))
        page_warm = load(url, paths, by_session, **measure)
        rows.append(("warm, session", page_warm))
        paced = load(url, paths, by_session, paced=True, **measure)
        rows.append(("warm, session, paced", paced))
        versions = f"/api/dashboards/{board}/versions/"
        request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
            url + versions, headers={"Authorization": f"Token {token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - localhost
            etag = response.headers["ETag"]
        poll = load(url, [versions], by_session, headers=(f"If-None-Match: {etag}",), **measure)
        rows.append(("poll, session, 304", poll))
        for name, row in rows:
            print(name, row, flush=True)  # kept should a later phase fail
        interactive = page_interactive(url, int(board))
        print(f"page interactive {interactive:.0f} ms", flush=True)
    with gunicorn(
        {**env, "CACHE_URL": "dummycache://"}, options.workers, options.connections
    ) as url:
        rows.append(("cold, token", load(url, paths, by_token, **measure)))

    print(
        f"\n{options.connections} connections, {options.duration} s each, "
        f"gunicorn {options.workers} workers × {THREADS} threads (at most "
        f"{worker_connections(options.connections, options.workers)} connections each), "
        f"{os.cpu_count()} CPUs; "
        f"paced: each connection pauses a random 0-{2 * PAUSE_MS} ms after every answer\n"
    )
    print(f"{'endpoint':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, row in rows:
        print(
            f"{name:<24}{row['rps']:>10.0f}{row['p50']:>10.1f}{row['p99']:>10.1f}{row['errors']:>8}"
            + (f"  socket errors: {row['socket_errors']}" if row["socket_errors"] else "")
        )
    print(
        f"\n10-widget dashboard interactive (median of 5, warm browser cache): {interactive:.0f} ms"
    )

    def verdict(ok: bool) -> str:
        return "met" if ok else "missed"

    print("\nGoals:")
    print(
        f"  warm p99 ≤ 2 × floor p99 (both flat out, token): {warm['p99']:.1f} vs "
        f"{2 * floor['p99']:.1f} ms ({verdict(warm['p99'] <= 2 * floor['p99'])})"
    )
    print(
        f"  ≥ 300 req/s warm, flat out: token {warm['rps']:.0f}, session "
        f"{page_warm['rps']:.0f} ({verdict(min(warm['rps'], page_warm['rps']) >= 300)})"
    )
    print(
        f"  warm p99 < 100 ms while serving ≥ 300 req/s (paced): p99 {paced['p99']:.1f} ms at "
        f"{paced['rps']:.0f} req/s ({verdict(paced['p99'] < 100 and paced['rps'] >= 300)})"
    )
    print(f"  page < 1.5 s: {verdict(interactive < 1500)}")


if __name__ == "__main__":
    main()
