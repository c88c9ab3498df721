"""`make run` on a port that is taken fails at once and says how to pick another one
(daphne's runserver logged "Address already in use" and went on running as if it served)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from config.tests.servers import BASE_DIR

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no `make` here")


def test_make_run_on_a_taken_port_fails_fast_and_names_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            # Whatever happens, not the worktree's own demo database.
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        }
        make = subprocess.Popen(
            ["make", "-s", "run", f"PORT={port}", "HOST=127.0.0.1"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = make.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGTERM)
            out, err = make.communicate()
            pytest.fail(f"`make run` kept running on a taken port:\n{out}\n{err}")

    assert make.returncode != 0
    assert f"127.0.0.1:{port} is already in use" in err
    assert "make run PORT=" in err
    assert "migrate" not in out + err  # it stopped before doing anything


def test_the_check_passes_on_a_free_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "scripts/check-port.py", "127.0.0.1", str(port)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stderr) == (0, "")
