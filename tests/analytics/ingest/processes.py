"""Portal processes for the crash tests: a Celery worker, a command or a web server
started against the test database, whose first import sleeps inside its data
transaction so that the test can kill the process half way.

The slowing down is a small module that the test writes under its ``tmp_path``
and that the process imports before it starts (on ``PYTHONPATH``); the product's
code has no hook for it. The first import of the test to take its table lock
writes its process id to ``SLOW_IMPORT_MARKER`` and sleeps; every later import
(the recovery) runs at full speed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings

from tests.database_url import tests_database_url

ROOT = Path(settings.BASE_DIR)

SLOW_PATCH = '''
"""Test-only: the first import sleeps inside its data transaction."""
import os
import sys
import time
from pathlib import Path

MARKER = Path(os.environ["SLOW_IMPORT_MARKER"])


def install():
    from analytics.ingest import bulk

    original = bulk.staging_lock

    def staging_lock(*args, **kwargs):
        original(*args, **kwargs)
        try:
            marker = os.open(MARKER, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(marker, str(os.getpid()).encode())
        os.close(marker)
        time.sleep(float(os.environ.get("SLOW_IMPORT_SECONDS", "300")))

    bulk.staging_lock = staging_lock


def worker():
    """``celery`` with the patch in every pool child."""
    from celery.signals import worker_process_init

    worker_process_init.connect(lambda **_: install(), weak=False)
    from celery.__main__ import main

    main()


def manage():
    """``manage.py`` with the patch."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    install()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *sys.argv[1:]])
'''

T = TypeVar("T")


class SlowPortal:
    """Starts portal processes with the slow first import (see the module)."""

    def __init__(self, folder: Path, **environment: str):
        (folder / "slow_patch.py").write_text(SLOW_PATCH, encoding="utf-8")
        self.marker = folder / "slow-import.pid"
        self.environment = {
            **os.environ,
            "DATABASE_URL": tests_database_url(),
            "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
            "SLOW_IMPORT_MARKER": str(self.marker),
            **environment,
        }
        self.folder = folder
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def start(self, entry: str, *arguments: str) -> subprocess.Popen:
        """``entry`` is ``worker`` (celery arguments) or ``manage`` (manage.py ones).
        The output goes to a file (a pipe nobody reads would fill and block it)."""
        log = self.folder / f"process-{len(self.processes)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-c", f"import slow_patch; slow_patch.{entry}()", *arguments],
                cwd=ROOT,
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append((process, log))
        return process

    def slow_import_pid(self, seconds: float = 120) -> int:
        """The process id of the first import once it sleeps in its transaction."""
        return wait_for(
            lambda: self.marker.exists() and int(self.marker.read_text() or 0), seconds=seconds
        )

    def stop(self) -> None:
        """End the processes this object started, and show their output (printed,
        so pytest shows it when a test fails)."""
        for process, _ in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, log in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            output = log.read_text(encoding="utf-8", errors="replace")
            print(f"--- {process.args[3:]} exited {process.returncode}\n{output[-4000:]}")


def wait_for(find: Callable[[], T | bool | None], seconds: float = 120) -> T:
    """The first truthy value of ``find()``, polled until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := find():
            return found  # type: ignore[return-value]
        time.sleep(0.2)
    raise AssertionError("the processes did not get there in time")
