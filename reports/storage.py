"""Where report files live: Django's storage ``storages["reports"]``.

By default a folder under ``var/reports`` (``FileSystemStorage``); any
django-storages backend in production (``REPORTS_STORAGE_BACKEND`` and
``REPORTS_STORAGE_OPTIONS``, see the settings). Files are stored as
``runs/<run id>/<attempt>/<file name>``: an attempt that lost its lease and a
later one that took over never write to the same name.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage, storages

from reports.models import ReportFile


def report_storage() -> Storage:
    return storages["reports"]


def report_file_save(*, run_id: int, attempt: int, path: Path) -> str:
    """Store the local file ``path`` for a run's attempt; returns its storage name."""
    storage = report_storage()
    name = f"runs/{run_id}/{attempt}/{path.name}"
    if storage.exists(name):
        storage.delete(name)
    with path.open("rb") as handle:
        return storage.save(name, File(handle, name=path.name))


def report_files_delete(names: Iterable[str]) -> None:
    """Remove stored files (an attempt whose outcome was not stored)."""
    storage = report_storage()
    for name in names:
        storage.delete(name)


def report_file_content(file: ReportFile) -> bytes | Path:
    """The stored bytes of ``file``: a local path when the storage has one (so a
    download streams it), else its bytes. Pass it to
    ``portal.exports.download_response_audited``."""
    storage = report_storage()
    try:
        return Path(storage.path(file.storage_name))
    except NotImplementedError:
        with storage.open(file.storage_name, "rb") as handle:
            return handle.read()
