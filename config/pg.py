"""psycopg's async connections to the default database, one small pool per event loop.

For the few statements on a chat turn's hot path (chat/pgstore.py, the user lookup in
accounts/services.py): awaited on the event loop, with no trip to a worker thread and
no ORM query building. The ORM owns the schema and everything else. On when the
database is PostgreSQL and `CHATKIT_ASYNC_DATABASE` is on (the default).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import psycopg
from django.conf import settings
from django.core.signals import setting_changed
from django.db import connections
from django.dispatch import receiver
from psycopg import AsyncConnection, AsyncCursor
from psycopg.conninfo import make_conninfo

from config.pgpool import LoopPool, PoolTimeout, StockPool

POSTGRESQL = "django.db.backends.postgresql"
# Django's own entries in OPTIONS; the rest are libpq parameters (sslmode, ...).
DJANGO_OPTIONS = frozenset(
    {"pool", "server_side_binding", "isolation_level", "assume_role", "cursor_factory"}
)

# Statements sent through here, for the benchmark's SQL-per-request count (the ORM's
# are counted by Django's execute wrappers, these are not).
statements = 0
# How long a retried statement waits for a connection (see _run).
RETRY_WAIT_SECONDS = 2.0

_conninfos: dict[str, str] = {}
_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, LoopPool | StockPool]] = (
    weakref.WeakKeyDictionary()
)


def conninfo() -> str:
    """The default database's connection string (the test database under tests)."""
    # The handler's settings, the very dict each connection's `settings_dict` is (the
    # test runner renames the database in it): `connections["default"]` would look the
    # connection up in asgiref's context-local storage and build a DatabaseWrapper in
    # every context that has none yet (a run's task, each task it gathers): four per turn.
    db = connections.settings["default"]
    # Built once per database name (the test runner renames it; nothing else changes
    # unless DATABASES does, which clears this).
    cached = _conninfos.get(db["NAME"])
    if cached is None:
        options = {k: v for k, v in db.get("OPTIONS", {}).items() if k not in DJANGO_OPTIONS}
        # Times come back in UTC, as the ORM gives them; keep any libpq `options` given
        # in DATABASE_URL (search_path, statement_timeout, ...).
        server_options = " ".join(filter(None, [options.pop("options", None), "-c TimeZone=UTC"]))
        cached = _conninfos[db["NAME"]] = make_conninfo(
            dbname=db["NAME"],
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None,
            port=str(db["PORT"]) if db.get("PORT") else None,
            options=server_options,
            **options,
        )
    return cached


def pool() -> LoopPool | StockPool:
    """This event loop's pool (config/pgpool.py), sized like Django's."""
    loop = asyncio.get_running_loop()
    info = conninfo()
    held = _pools.get(loop)
    if held is not None and held[0] == info:
        return held[1]
    sizes = connections.settings["default"].get("OPTIONS", {}).get("pool")
    sizes = sizes if isinstance(sizes, dict) else {}
    # CHATKIT_FAST_PATHS=0: psycopg_pool's own pool, the same sizes (config/pgpool.py).
    kind = LoopPool if settings.CHATKIT_FAST_PATHS else StockPool
    new = kind(
        info, max_size=int(sizes.get("max_size", 10)), timeout=float(sizes.get("timeout", 30))
    )
    _pools[loop] = (info, new)
    return new


async def close_pools() -> None:
    """Close the running loop's pool. A server's pool lives as long as its process; a
    script or test that runs its own event loop closes it before the loop ends."""
    held = _pools.pop(asyncio.get_running_loop(), None)
    if held is not None:
        await held[1].close()


def enabled() -> bool:
    """Whether the hot path's statements go through these connections."""
    # From settings, not `connection.vendor`: that looks the connection up in asgiref's
    # context-local storage, which costs more than the rest of this check.
    engine = settings.DATABASES["default"]["ENGINE"]
    return engine == POSTGRESQL and bool(settings.CHATKIT["ASYNC_DATABASE"])


async def fetchall(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return await _run(sql, params, lambda cursor: cursor.fetchall())


async def fetchone(sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    return await _run(sql, params, lambda cursor: cursor.fetchone())


async def execute(sql: str, params: tuple[Any, ...]) -> int:
    """Run a statement; the number of rows it touched."""
    return await _run(sql, params, None)


async def execute_once(sql: str, params: tuple[Any, ...]) -> int:
    """Run a statement that is not safe to repeat (a plain insert): never retried."""
    return await _on(pool().connection(), sql, params, None)


async def _run(
    sql: str, params: tuple[Any, ...], read: Callable[[AsyncCursor], Awaitable[Any]] | None
) -> Any:
    """One statement on a pooled connection. Every caller's statement is safe to run
    twice (a read, or an idempotent upsert), so one that fails on a dead connection
    (PostgreSQL restarted since the pool opened it) runs again on a fresh one."""
    held = pool()
    try:
        return await _on(held.connection(), sql, params, read)
    except psycopg.OperationalError as exc:
        if not _connection_lost(exc):
            raise  # a full pool, a timeout, a deadlock: not ours to repeat
        # Drop the idle connections (as dead as this one), then try once more, waiting
        # a short while at most: while PostgreSQL is still down, this fails fast too.
        held.discard_idle()
        return await _on(held.connection(timeout=RETRY_WAIT_SECONDS), sql, params, read)


def _connection_lost(exc: psycopg.OperationalError) -> bool:
    """The server closed or lost this connection (not an error of the statement)."""
    if isinstance(exc, PoolTimeout):
        return False
    state = exc.sqlstate
    # No SQLSTATE: the socket closed under us. 08: connection exceptions. 57P01-3:
    # administrator shutdown, crash shutdown, cannot connect now.
    return state is None or state.startswith("08") or state in {"57P01", "57P02", "57P03"}


async def _on(
    checkout: AbstractAsyncContextManager[AsyncConnection],
    sql: str,
    params: tuple[Any, ...],
    read: Callable[[AsyncCursor], Awaitable[Any]] | None,
) -> Any:
    global statements
    async with checkout as conn:
        statements += 1
        cursor = await conn.execute(sql, params)
        return cursor.rowcount if read is None else await read(cursor)


@receiver(setting_changed)
def _forget_pools(*, setting: str, **kwargs: Any) -> None:
    if setting == "DATABASES":
        _pools.clear()
        _conninfos.clear()
