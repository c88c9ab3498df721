#!/usr/bin/env bash
# Production start: deploy checks, migrations, static files, then the ASGI server
# (scripts/web-worker.sh: several uvicorn workers, or daphne with APP_SERVER=daphne)
# serving config.asgi:application (HTTP, the /chatkit stream and websockets).
#
# Why uvicorn --workers by default: it is already a runtime dependency (uvicorn[standard]: uvloop,
# httptools), its supervisor restarts a dead worker, it applies backpressure to slow
# readers, and on the benchmark it served 500 concurrent streams on one worker without an
# error where daphne dropped a few, at the same CPU per turn (docs/performance.md).
# Daphne has no multi-process mode of its own; gunicorn would add a dependency for the
# same job. One worker per CPU: a worker is one event loop on one core, and past one
# core's worth of turns (~30/s on the benchmark machine) latency is queueing.
#
# Database connections: each worker keeps two psycopg pools of up to DATABASE_POOL_SIZE
# connections each (default 20): Django's, and the async one for a chat turn's own
# statements (config/pg.py; one pool when CHATKIT_ASYNC_DATABASE=0). A stream holds a
# connection only while it reads or writes, so 10-20 serve hundreds of streams.
# WORKERS x pools x DATABASE_POOL_SIZE must stay below PostgreSQL's max_connections (100
# by default) minus its reserved slots, with room left for migrations, admin shells and
# a second release during a deploy (4 workers: DATABASE_POOL_SIZE=10 at most): the
# script checks this before starting and refuses otherwise.
#
# Required environment (the settings refuse to start without them):
#   DJANGO_SECRET_KEY, BETTER_AUTH_URL, DATABASE_URL (PostgreSQL), DJANGO_ALLOWED_HOSTS
# and, with more than one worker, REDIS_URL: rate limits, the cache and the websocket
# channel layer must be shared by all workers.
# Optional: WEB_CONCURRENCY (workers, default: number of CPUs), DATABASE_POOL_SIZE
# (per pool and worker, default 20), APP_SERVER, HOST, PORT, LISTEN_BACKLOG, TRUSTED_PROXIES
# (see scripts/web-worker.sh).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="python3"

export DJANGO_DEBUG="${DJANGO_DEBUG:-0}"
if [ "$DJANGO_DEBUG" != "0" ]; then
    echo "prod-start: DJANGO_DEBUG must be 0 in production" >&2
    exit 2
fi

if [ "${APP_SERVER:-uvicorn}" = daphne ]; then
    WORKERS="${WEB_CONCURRENCY:-1}"  # one daphne process per container
else
    WORKERS="${WEB_CONCURRENCY:-$(nproc)}"
fi
if [ "$WORKERS" -gt 1 ] && [ -z "${REDIS_URL:-}" ]; then
    echo "prod-start: $WORKERS workers need REDIS_URL (shared rate limits and websockets);" \
        "set REDIS_URL or WEB_CONCURRENCY=1" >&2
    exit 2
fi

# Warnings fail the start too: a deploy check is only useful when it is clean.
"$PYTHON" manage.py check --deploy --fail-level WARNING
"$PYTHON" manage.py migrate --noinput
# Every worker's pools at their fullest must fit in PostgreSQL's max_connections.
PROD_WORKERS="$WORKERS" "$PYTHON" manage.py shell --no-startup --no-imports --command '
import os, sys
from django.db import connection
from config import pg
pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
if connection.vendor == "postgresql" and pool:
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        limit = int(cursor.fetchone()[0])
        cursor.execute("SHOW superuser_reserved_connections")
        limit -= int(cursor.fetchone()[0])
    workers, size = int(os.environ["PROD_WORKERS"]), pool["max_size"]
    pools = 2 if pg.enabled() else 1
    if workers * pools * size >= limit:
        sys.exit(
            f"prod-start: {workers} workers x {pools} pools x DATABASE_POOL_SIZE={size} = "
            f"{workers * pools * size} connections, but PostgreSQL allows {limit}: lower "
            "WEB_CONCURRENCY or DATABASE_POOL_SIZE, or raise max_connections"
        )
'
# WhiteNoise serves the collected, hashed and compressed files from every worker.
"$PYTHON" manage.py collectstatic --noinput --verbosity 0

# The server itself (uvicorn --workers, or daphne with a raised listen backlog).
WEB_CONCURRENCY="$WORKERS" exec bash scripts/web-worker.sh
