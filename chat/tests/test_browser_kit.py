"""The browser test kit's own rule: no browser is a skip on a laptop, a failure on CI."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from config.tests.servers import BASE_DIR

pytestmark = pytest.mark.slow


def collect_browser_tests(ci: str | None) -> subprocess.CompletedProcess[str]:
    """Collect chat/tests/test_browser.py in a fresh pytest where no Chromium exists."""
    env = {
        **os.environ,
        "CHROMIUM_PATH": "/nonexistent/chromium",
        "PLAYWRIGHT_BROWSERS_PATH": "/nonexistent/ms-playwright",
    }
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "chat/tests/test_browser.py", "--collect-only", "-q"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_browser_the_browser_tests_skip_off_ci():
    run = collect_browser_tests(None)
    assert run.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, run.stdout + run.stderr
    assert "browser tests skipped: no Chromium" in run.stdout


def test_without_a_browser_a_ci_run_fails():
    run = collect_browser_tests("true")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    # The count follows the module's tests; what matters is the refusal and its reason.
    assert re.search(r"CI is set and \d+ browser tests cannot run: no Chromium", run.stderr)
