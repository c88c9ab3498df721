#!/usr/bin/env bash
# Installs Debian's Chromium and its driver for the browser tests, when missing.
# Idempotent: does nothing if /usr/bin/chromium is already there. Playwright's own
# browser download is never used (it cannot reach its CDN on these machines).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core
/usr/bin/chromium --version
