#!/usr/bin/env bash
# Production start: deploy checks, migrations, static files, then several uvicorn
# workers serving config.asgi:application (HTTP, the /chatkit stream and websockets).
#
# Why uvicorn --workers: it is already a runtime dependency (uvicorn[standard]: uvloop,
# httptools), its supervisor restarts a dead worker, and on the benchmark it costs less
# CPU per streamed turn than daphne (docs/performance.md). Daphne has no multi-process
# mode of its own; gunicorn would add a dependency for the same job.
#
# Required environment (the settings refuse to start without them):
#   DJANGO_SECRET_KEY, BETTER_AUTH_URL, DATABASE_URL (PostgreSQL), DJANGO_ALLOWED_HOSTS
# and, with more than one worker, REDIS_URL: rate limits, the cache and the websocket
# channel layer must be shared by all workers.
# Optional: WEB_CONCURRENCY (workers, default: number of CPUs), HOST (0.0.0.0),
# PORT (8000), FORWARDED_ALLOW_IPS (the proxy in front; default 127.0.0.1).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="python3"

export DJANGO_DEBUG="${DJANGO_DEBUG:-0}"
if [ "$DJANGO_DEBUG" != "0" ]; then
    echo "prod-start: DJANGO_DEBUG must be 0 in production" >&2
    exit 2
fi

WORKERS="${WEB_CONCURRENCY:-$(nproc)}"
if [ "$WORKERS" -gt 1 ] && [ -z "${REDIS_URL:-}" ]; then
    echo "prod-start: $WORKERS workers need REDIS_URL (shared rate limits and websockets);" \
        "set REDIS_URL or WEB_CONCURRENCY=1" >&2
    exit 2
fi

# Warnings fail the start too: a deploy check is only useful when it is clean.
"$PYTHON" manage.py check --deploy --fail-level WARNING
"$PYTHON" manage.py migrate --noinput
# WhiteNoise serves the collected, hashed and compressed files from every worker.
"$PYTHON" manage.py collectstatic --noinput --verbosity 0

exec "$PYTHON" -m uvicorn config.asgi:application \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --workers "$WORKERS" \
    --proxy-headers \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
    --backlog 2048 \
    --timeout-keep-alive 5 \
    --timeout-graceful-shutdown 30 \
    --no-server-header
