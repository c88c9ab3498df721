"""Importing the settings writes nothing: local state is made on first use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BETTER_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_importing_the_settings_writes_nothing_and_setup_makes_the_directories(tmp_path):
    env = {
        "DJANGO_DEBUG": "1",
        "DEV_SECRET_KEY_PATH": str(tmp_path / "keys" / "secret"),
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'db.sqlite3'}",
    }

    imported = run("import config.settings", env)

    assert imported.returncode == 0, imported.stderr
    assert list(tmp_path.iterdir()) == []

    set_up = run("import django; django.setup()", env)

    assert set_up.returncode == 0, set_up.stderr
    assert (tmp_path / "static").is_dir() and (tmp_path / "db").is_dir()
    assert not (tmp_path / "keys").exists()  # the secret key waits for its first use


def test_a_wrong_value_stops_the_start_with_the_variables_name():
    result = run("import config.settings", {"DJANGO_DEBUG": "1", "CHATKIT_HEARTBEAT_SECONDS": "x"})
    assert result.returncode != 0
    assert "CHATKIT_HEARTBEAT_SECONDS must be a number, got 'x'" in result.stderr
