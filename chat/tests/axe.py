"""axe-core in the browser tests: the accessibility rules run on a real page.

axe-core comes from npm into var/node (`scripts/install-test-deps.sh`, which `make
test` runs; the first test that needs it installs it the same way if it is missing),
pinned to AXE_CORE_VERSION. It is put into the page as an init script (Playwright's,
outside the page's Content-Security-Policy: the page itself loads no such script).
Without npm and without a copy, the accessibility tests skip and say so (fail on CI).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from playwright.sync_api import Page

from chat.tests.browser import on_ci
from config.tests.servers import BASE_DIR

AXE_CORE_VERSION = "4.14.1"  # scripts/install-test-deps.sh installs the same
NODE_PREFIX = BASE_DIR / "var" / "node"
AXE_JS = NODE_PREFIX / "node_modules" / "axe-core" / "axe.min.js"
# What the page must pass: WCAG 2.1 A and AA, and axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")


def axe_source() -> str:
    """axe.min.js, installed into var/node when it is missing and npm is here."""
    if not AXE_JS.exists() and shutil.which("npm"):
        subprocess.run(
            ["npm", "install", "--prefix", str(NODE_PREFIX), "--no-audit", "--no-fund",
             "--loglevel=error", f"axe-core@{AXE_CORE_VERSION}"],
            check=False, capture_output=True, timeout=300,
        )  # fmt: skip
    if not AXE_JS.exists():
        reason = f"no axe-core ({AXE_JS} missing and npm could not install it)"
        if on_ci():
            raise RuntimeError(f"CI is set and {reason}")
        pytest.skip(f"accessibility tests skipped: {reason}")
    return AXE_JS.read_text(encoding="utf-8")


def blocking_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe violations of the page as it is now: rule, impact, how
    many elements, the first few of them."""
    results = page.evaluate(
        """async (tags) => {
          const { violations } = await window.axe.run(document, {
            runOnly: { type: "tag", values: tags },
            resultTypes: ["violations"],
          });
          return violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.failureSummary),
          }));
        }""",
        TAGS,
    )
    return [
        {**violation, "count": len(violation["nodes"]), "nodes": violation["nodes"][:4]}
        for violation in results
        if violation["impact"] in BLOCKING
    ]
