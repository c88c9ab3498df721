"""Start-up configuration, checked in fresh processes (settings are read once)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-0123456789",
    "BETTER_AUTH_URL": "https://auth.example.com",
    "DJANGO_ALLOWED_HOSTS": "todo.example.com",
    "DATABASE_URL": "sqlite:////tmp/settings-check.sqlite3",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BETTER_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("missing", "message"),
    [("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY is not set"), ("BETTER_AUTH_URL", "BETTER_AUTH_URL")],
)
def test_production_refuses_to_start_without_its_settings(missing, message):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr.splitlines()[-1]


def test_check_deploy_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_better_auth_issuer_and_audience_default_to_the_origin():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.BETTER_AUTH['ISSUER'], s.BETTER_AUTH['AUDIENCE'], s.BETTER_AUTH['JWKS_URL'])"
    )
    result = python(code, {**PRODUCTION, "BETTER_AUTH_URL": "https://auth.example.com/"})
    assert result.stdout.split() == [
        "https://auth.example.com",
        "https://auth.example.com",
        "https://auth.example.com/api/auth/jwks",
    ]


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BETTER_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRINT_KEY = (
    "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
)


def test_debug_without_a_secret_key_makes_a_random_one_kept_under_var(tmp_path):
    path = tmp_path / "var" / "dev_secret_key"
    env = {"DJANGO_DEBUG": "1", "DEV_SECRET_KEY_PATH": str(path)}

    first, again = python(PRINT_KEY, env), python(PRINT_KEY, env)

    key = first.stdout.strip()
    assert first.returncode == 0, first.stderr
    assert len(key) >= 50 and "insecure" not in key
    assert again.stdout.strip() == key  # kept: sessions survive a restart
    assert path.read_text().strip() == key
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner only
    other = python(PRINT_KEY, {**env, "DEV_SECRET_KEY_PATH": str(tmp_path / "elsewhere")})
    assert other.stdout.strip() != key  # per checkout, not a constant


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("https://auth.example.com", True),
        ("http://localhost:3000", False),
        ("http://127.0.0.1:3000", False),
    ],
)
def test_debug_with_a_real_better_auth_url_is_warned_about(url, warned, tmp_path):
    env = {"DJANGO_DEBUG": "1", "BETTER_AUTH_URL": url, "DEV_SECRET_KEY_PATH": str(tmp_path / "k")}
    result = manage("check", env=env)
    assert result.returncode == 0
    assert ("accounts.W001" in result.stderr + result.stdout) is warned


def test_production_without_collected_static_files_refuses_to_start(tmp_path):
    env = {**PRODUCTION, "DJANGO_STATIC_ROOT": str(tmp_path / "static")}
    result = python("import config.asgi", env)
    assert result.returncode != 0
    assert "Static files are not collected" in result.stderr
    assert "collectstatic" in result.stderr.splitlines()[-1]

    collected = manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
    assert collected.returncode == 0, collected.stderr
    assert python("import config.asgi", env).returncode == 0
