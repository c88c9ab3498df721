"""The database: SQLite under var/ by default, PostgreSQL (psycopg 3) with a pool."""

from __future__ import annotations

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str, env_url
from config.settings.base import VAR_DIR

DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql", "pgsql", "postgis"),
)
try:
    _default = dj_database_url.parse(
        DATABASE_URL,
        # Async views hop between threads: a persistent connection per thread
        # would leak, so connections go back (to the pool) after each request.
        conn_max_age=0,
    )
except ValueError as exc:  # dj_database_url's errors for a URL it cannot read
    raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from exc

if _default["ENGINE"] == "django.db.backends.postgresql":
    # A bounded pool per worker: chat streams hand their connection back while the
    # model talks (config/db.py), so a few connections serve hundreds of streams.
    _default.setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": env_int("DATABASE_POOL_SIZE", 20),
        "timeout": 30,  # waiting for a free connection is queueing, not an error
    }
    # Parameters sent apart from the SQL (no quoting in Python), and statements run 5+
    # times prepared once per connection: -10 ms CPU per chat turn (docs/performance.md).
    _default["OPTIONS"]["server_side_binding"] = True

# A suffix keeps parallel test runs (and their server processes) apart.
TEST_DB_SUFFIX = env_str("TEST_DB_SUFFIX", "")
if _default["ENGINE"] == "django.db.backends.sqlite3":
    _default.setdefault("OPTIONS", {}).update(
        {
            # WAL and a busy timeout let the chat stream and the REST API write
            # concurrently without "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # A file, not memory: server processes started by tests share it.
    _default["TEST"] = {"NAME": str(VAR_DIR / f"test_db{TEST_DB_SUFFIX}.sqlite3")}
else:
    _default["TEST"] = {"NAME": f"test_{_default['NAME']}{TEST_DB_SUFFIX}"}

DATABASES = {"default": _default}
