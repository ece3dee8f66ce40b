"""Importing the settings creates nothing; ``prepare_embedded`` creates the embedded
default's folders and the secret key that every process then shares."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "SECRET_KEY", "MEDIA_ROOT"}
    }
    environment.update(
        {"PORTAL_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "portal.settings"}
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_importing_the_settings_creates_no_folder_and_no_file(tmp_path):
    var_dir = tmp_path / "var"
    result = _run(var_dir, "-c", "import django; django.setup(); print('ready')")
    assert result.returncode == 0, result.stderr
    assert "ready" in result.stdout
    assert not var_dir.exists()


def test_prepare_embedded_creates_the_folders_and_one_secret_key(tmp_path):
    var_dir = tmp_path / "var"
    first = _run(var_dir, "manage.py", "prepare_embedded")
    assert first.returncode == 0, first.stderr
    for folder in ("staticfiles", "media", "mail", "broker/queue", "broker/processed"):
        assert (var_dir / folder).is_dir(), folder
    key = (var_dir / "secret_key").read_text()
    assert len(key) >= 50
    assert oct((var_dir / "secret_key").stat().st_mode & 0o777) == "0o600"

    second = _run(var_dir, "manage.py", "prepare_embedded")
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert (var_dir / "secret_key").read_text() == key

    shared = _run(
        var_dir,
        "-c",
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECRET_KEY)",
    )
    assert shared.stdout.strip() == key
