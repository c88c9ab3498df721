"""`make test` installs what its tests use (chromium, nginx, prometheus) the same way,
and a tool that is missing skips its tests cleanly, the benchmark's nginx phase
included (on a fresh machine `make test` failed: the bench smoke test expected the
nginx phase, which only `.ci/run` had installed nginx for)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from config.tests.nginx import nginx_binary
from config.tests.servers import BASE_DIR

SCRIPT = BASE_DIR / "scripts" / "install-test-deps.sh"
ABSENT = {
    "CHROMIUM_PATH": "/nonexistent/chromium",
    "NGINX_PATH": "/nonexistent/nginx",
    "PROMETHEUS_PATH": "/nonexistent/prometheus",
    # No Playwright download from a test: its fallback fails at once.
    "PYTHON": "/bin/false",
    # apt allowed, whatever the caller's environment says (fresh-clone-check sets 0).
    "TEST_DEPS_APT": "1",
}


def _fake_apt(tmp_path: Path) -> Path:
    """An apt-get on PATH that only records what it was asked (nothing is installed)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    fake = bin_dir / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(0o755)
    return bin_dir


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    path = f"{_fake_apt(tmp_path)}:{os.environ['PATH']}"
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, **ABSENT, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_nginx_path_decides_whether_there_is_an_nginx(monkeypatch) -> None:
    monkeypatch.setenv("NGINX_PATH", "/nonexistent/nginx")
    assert nginx_binary() is None
    real = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(real, os.X_OK):
        pytest.skip("nginx is not installed")
    monkeypatch.setenv("NGINX_PATH", real)
    assert nginx_binary() == Path(real)


@pytest.mark.skipif(os.geteuid() != 0, reason="the apt path is taken as root")
def test_missing_tools_are_installed_with_apt(tmp_path: Path) -> None:
    done = _run(tmp_path)

    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    install = next(call for call in calls if call.startswith("install"))
    assert {"chromium", "nginx", "prometheus"} <= set(install.split())
    # Still missing (the fake installs nothing): each says what will be skipped.
    assert "nginx: none: the proxy tests and the benchmark's nginx phase" in done.stdout
    assert "chromium: none" in done.stdout and "prometheus: none" in done.stdout


def test_without_apt_nothing_is_installed_and_the_skips_are_named(tmp_path: Path) -> None:
    done = _run(tmp_path, TEST_DEPS_APT="0")

    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "apt.log").exists()
    assert "not installing chromium fonts-dejavu-core nginx prometheus" in done.stdout
    assert "the browser tests will be skipped" in done.stdout


def test_tools_already_there_are_left_alone(tmp_path: Path) -> None:
    present = {name: "/bin/true" for name in ("CHROMIUM_PATH", "NGINX_PATH", "PROMETHEUS_PATH")}
    done = _run(tmp_path, **present)

    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "apt.log").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="no `make` here")
def test_make_test_installs_them_and_ci_does_not_on_its_own() -> None:
    plan = subprocess.run(
        ["make", "-n", "test"], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert "scripts/install-test-deps.sh" in plan.stdout
    ci = (BASE_DIR / ".ci" / "run").read_text()
    assert "apt-get" not in ci and "make test" in ci
