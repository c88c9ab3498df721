"""Candidate fix measured by the benchmark (`--settings bench.settings_pool`): a bounded
psycopg connection pool per worker instead of one new PostgreSQL connection per request.

Without it every in-flight request holds its own connection for its whole stream, so
about 100 concurrent streams exhaust PostgreSQL's default `max_connections`.
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES, env_int

if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": env_int("BENCH_POOL_MAX_SIZE", 40),
        # Waiting for a free connection is queueing, not an error.
        "timeout": 60,
    }
