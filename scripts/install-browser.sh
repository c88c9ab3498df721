#!/usr/bin/env bash
# A Chromium for the browser tests, best available first; never fails the build:
#   1. Debian's /usr/bin/chromium, if present, or installed with apt (root or sudo);
#   2. else Playwright's own Chromium build (`playwright install chromium`: a
#      download, works on macOS and without root);
#   3. else nothing, and the browser tests skip with one line saying why.
# Idempotent. PYTHON is the virtualenv's interpreter (the Makefile passes it).
set -uo pipefail
PYTHON="${PYTHON:-.venv/bin/python}"

if [ -x /usr/bin/chromium ]; then
    echo "browser: Debian's $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
    fi
    if [ "$SUDO" != "none" ]; then
        export DEBIAN_FRONTEND=noninteractive
        if $SUDO apt-get update -qq && \
           $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; then
            echo "browser: Debian's $(/usr/bin/chromium --version)"
            exit 0
        fi
        echo "browser: apt could not install chromium; trying Playwright's build"
    fi
fi

if "$PYTHON" -m playwright install chromium >/dev/null 2>&1; then
    echo "browser: Playwright's Chromium (no Debian chromium here)"
    exit 0
fi

echo "browser: no Chromium available (no apt/root, and Playwright's download failed):" \
     "the browser tests will be skipped"
exit 0
