"""The folders and the secret key the embedded default keeps under ``var/``.

Settings only name these paths; importing them creates nothing. ``manage.py
prepare_embedded`` (run by ``make run`` and ``make test``) creates the folders and,
when ``SECRET_KEY`` is not set, writes the key file that web, worker and beat then
share, so sessions and encrypted credentials survive restarts. With ``--static``
it also collects the static files (hashed names, gzip and Brotli copies) whenever
one changed since the last collection, as every non-DEBUG process needs them.
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.management import call_command
from django.core.management.utils import get_random_secret_key


def embedded_folders() -> list[Path]:
    """Every folder the embedded default writes to: the var folder, static files,
    media, the file mail backend's folder and the filesystem broker's folders."""
    folders = [Path(settings.VAR_DIR), Path(settings.STATIC_ROOT), Path(settings.MEDIA_ROOT)]
    if getattr(settings, "EMAIL_FILE_PATH", None):
        folders.append(Path(settings.EMAIL_FILE_PATH))
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    folders += [
        Path(options[key])
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")
        if key in options
    ]
    return folders


def embedded_prepare() -> list[Path]:
    """Create the missing folders and the secret key file; return what was created."""
    created = []
    for folder in embedded_folders():
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            created.append(folder)
    key_file = Path(settings.SECRET_KEY_FILE)
    if not key_file.exists():
        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
        created.append(key_file)
    return created


def static_files_stale() -> bool:
    """Whether ``collectstatic`` has to run: no manifest yet under ``STATIC_ROOT``, or
    a file that the finders list (``static/`` and every installed app's) is missing
    from it or was modified after it was written. A storage without a manifest is
    always stale."""
    storage = staticfiles_storage
    if not isinstance(storage, ManifestFilesMixin):
        return True
    manifest = Path(storage.manifest_storage.path(storage.manifest_name))
    if not manifest.exists():
        return True
    written = manifest.stat().st_mtime
    collected, _ = storage.load_manifest()
    ignore_patterns = apps.get_app_config("staticfiles").ignore_patterns
    for finder in finders.get_finders():
        for path, source in finder.list(ignore_patterns):
            if path not in collected or Path(source.path(path)).stat().st_mtime > written:
                return True
    return False


def static_files_collect() -> bool:
    """Run ``collectstatic`` when :func:`static_files_stale`; return whether it ran."""
    if not static_files_stale():
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    return True
