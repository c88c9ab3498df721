#!/usr/bin/env bash
# What `make test` needs beyond Python, installed the same way for each; never fails
# the build (a test whose tool is missing skips, and says so):
#   chromium    the browser tests (chat/tests/test_browser*.py)
#   nginx       the proxy tests (config/tests/test_nginx.py) and the benchmark's
#               nginx phase (config/tests/test_bench_smoke.py skips it exactly when
#               the proxy tests skip: both ask config.tests.nginx.nginx_binary())
#   prometheus  the metrics tests (a real Prometheus scrapes /metrics)
#   axe-core    the accessibility tests (chat/tests/test_browser_a11y.py): from npm into
#               var/node, pinned like chat/tests/axe.py's AXE_CORE_VERSION
# Each is Debian's package, installed with apt when it is missing and apt and root
# (or password-less sudo) are there. Chromium has a second way: Playwright's own
# build (`playwright install chromium`: a download, works on macOS and without root).
# Idempotent: what is there is left alone.
#
# The tests find the tools at CHROMIUM_PATH (/usr/bin/chromium), NGINX_PATH
# (/usr/sbin/nginx, else nginx on PATH) and PROMETHEUS_PATH (/usr/bin/prometheus);
# this script checks the same places. TEST_DEPS_APT=0 installs nothing with apt
# (a machine without root; scripts/fresh-clone-check.sh uses it).
# PYTHON is the virtualenv's interpreter (the Makefile passes it).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
PROMETHEUS_PATH="${PROMETHEUS_PATH:-/usr/bin/prometheus}"

nginx_path() {
    if [ -n "${NGINX_PATH:-}" ]; then echo "$NGINX_PATH"
    elif [ -x /usr/sbin/nginx ]; then echo /usr/sbin/nginx
    else command -v nginx || echo /usr/sbin/nginx
    fi
}

have() { [ -x "$1" ]; }

missing=()
have "$CHROMIUM_PATH" || missing+=(chromium fonts-dejavu-core)
have "$(nginx_path)" || missing+=(nginx)
have "$PROMETHEUS_PATH" || missing+=(prometheus)

if [ "${#missing[@]}" -gt 0 ]; then
    SUDO="none"
    if [ "${TEST_DEPS_APT:-1}" = "0" ]; then
        echo "test deps: TEST_DEPS_APT=0: not installing ${missing[*]} with apt"
    elif ! command -v apt-get >/dev/null 2>&1; then
        echo "test deps: no apt-get here: not installing ${missing[*]}"
    elif [ "$(id -u)" -eq 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo"
    else
        echo "test deps: not root (and no password-less sudo): not installing ${missing[*]}"
    fi
    if [ "$SUDO" != "none" ]; then
        echo "test deps: installing Debian's ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # One package that apt cannot find (an older release) must not stop the others.
        $SUDO apt-get update -qq || true
        if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
            for package in "${missing[@]}"; do
                $SUDO apt-get install -y -qq --no-install-recommends "$package" >/dev/null \
                    || echo "test deps: apt could not install $package"
            done
        fi
    fi
fi

AXE_CORE_VERSION="$(sed -n 's/^AXE_CORE_VERSION = "\(.*\)".*/\1/p' chat/tests/axe.py 2>/dev/null)"
AXE_JS="var/node/node_modules/axe-core/axe.min.js"
if [ ! -f "$AXE_JS" ] && [ -n "$AXE_CORE_VERSION" ] && command -v npm >/dev/null 2>&1; then
    npm install --prefix var/node --no-audit --no-fund --loglevel=error \
        "axe-core@$AXE_CORE_VERSION" >/dev/null 2>&1 || true
fi

if have "$CHROMIUM_PATH"; then
    echo "test deps: chromium: Debian's $("$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH")"
elif "$PYTHON" -m playwright install chromium >/dev/null 2>&1; then
    echo "test deps: chromium: Playwright's build (no Debian chromium here)"
else
    echo "test deps: chromium: none (no apt/root, and Playwright's download failed):" \
         "the browser tests will be skipped"
fi
if have "$(nginx_path)"; then
    echo "test deps: nginx: $("$(nginx_path)" -v 2>&1)"
else
    echo "test deps: nginx: none: the proxy tests and the benchmark's nginx phase will be skipped"
fi
if have "$PROMETHEUS_PATH"; then
    echo "test deps: prometheus: $("$PROMETHEUS_PATH" --version 2>/dev/null | head -1)"
else
    echo "test deps: prometheus: none: the metrics format tests will be skipped"
fi
if [ -f "$AXE_JS" ]; then
    echo "test deps: axe-core: $(sed -n 's/.*"version": "\([^"]*\)".*/\1/p' var/node/node_modules/axe-core/package.json | head -1) (var/node)"
else
    echo "test deps: axe-core: none (no npm, or it could not install): the accessibility tests will be skipped"
fi
exit 0
