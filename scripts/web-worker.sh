#!/usr/bin/env bash
# The ASGI server command we ship: serves config.asgi:application (HTTP, the /chatkit
# event stream, websockets) on HOST:PORT. scripts/prod-start.sh runs it after its checks;
# compose.yaml and the nginx test (config/tests/test_nginx.py) run it as is.
#
#   APP_SERVER        uvicorn (default) or daphne
#   HOST, PORT        where to listen (0.0.0.0:8000)
#   WEB_CONCURRENCY   uvicorn worker processes (default: CPU count). daphne is one
#                     process: run one per core (more containers, or more ports behind nginx)
#   LISTEN_BACKLOG    connections the kernel queues before the server accepts them
#                     (2048; Twisted's default of 50 made daphne drop streams when
#                     hundreds of clients connected at once: docs/performance.md)
#   TRUSTED_PROXIES   the proxies whose X-Forwarded-For the app believes (comma list of
#                     addresses or networks; unset: none). The app reads it itself
#                     (config/proxy.py), the same under both servers, so neither server
#                     is given proxy headers: daphne's --proxy-headers trusted any peer
#                     and took the client's own left-most value.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="python3"

APP_SERVER="${APP_SERVER:-uvicorn}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-8000}"
if [ "$APP_SERVER" = daphne ]; then
    WORKERS="${WEB_CONCURRENCY:-1}"
else
    WORKERS="${WEB_CONCURRENCY:-$(nproc)}"
fi
BACKLOG="${LISTEN_BACKLOG:-2048}"

# /metrics from every worker: prometheus-client's multiprocess mode keeps each worker's
# samples in files under one directory, whose last run's files go at start (usage/metrics.py). Set
# PROMETHEUS_MULTIPROC_DIR yourself to place it (a tmpfs is best); with one worker it
# is not needed.
if [ "$WORKERS" -gt 1 ] && [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    export PROMETHEUS_MULTIPROC_DIR="${TMPDIR:-/tmp}/chatkit-metrics-${PORT}"
fi
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -delete  # the last run's samples
fi

case "$APP_SERVER" in
daphne)
    if [ "$WORKERS" -gt 1 ]; then
        echo "web-worker: daphne runs one process; start one per core (WEB_CONCURRENCY=1)" >&2
        exit 2
    fi
    # The endpoint string is the only way to raise daphne's listen backlog (-b/-p can't).
    # Through config/daphne.py: daphne's own command line, its access log redacted.
    exec "$PYTHON" -m config.daphne \
        -e "tcp:port=${PORT}:interface=${HOST//:/\\:}:backlog=${BACKLOG}" \
        --websocket_connect_timeout 30 \
        --application-close-timeout 30 \
        config.asgi:application
    ;;
uvicorn)
    exec "$PYTHON" -m uvicorn config.asgi:application \
        --host "$HOST" \
        --port "$PORT" \
        --workers "$WORKERS" \
        --no-proxy-headers \
        --backlog "$BACKLOG" \
        --ws-per-message-deflate false \
        --timeout-keep-alive 5 \
        --timeout-graceful-shutdown 30 \
        --no-access-log \
        --no-server-header
    ;;
*)
    echo "web-worker: APP_SERVER must be uvicorn or daphne, got '$APP_SERVER'" >&2
    exit 2
    ;;
esac
