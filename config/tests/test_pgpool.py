"""config/pgpool.py: a lock-free pool for one event loop keeps psycopg_pool's promises
(a bounded number of connections, waiters served in turn, a broken or half-used
connection never handed out again) on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import socket

import psycopg
import pytest
from django.db import connection

from config import pg, pgpool
from config.pgpool import LoopPool, PoolTimeout

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL connections"),
]


@pytest.fixture
async def make_pool():
    made: list[LoopPool] = []

    def make(max_size: int = 2, timeout: float = 5.0) -> LoopPool:
        made.append(LoopPool(pg.conninfo(), max_size=max_size, timeout=timeout))
        return made[-1]

    yield make
    for pool in made:
        await pool.close()


async def _pid(pool: LoopPool) -> int:
    async with pool.connection() as conn:
        return conn.info.backend_pid


async def _waiting(pool: LoopPool, count: int) -> None:
    """Let the tasks just created take their first step: a caller queues at once."""
    await asyncio.sleep(0)
    assert sum(not w.done() for w in pool._waiters) == count


async def test_an_idle_connection_is_used_again(make_pool):
    pool = make_pool()
    assert await _pid(pool) == await _pid(pool)
    assert pool._size == 1


async def test_never_more_than_max_size_and_every_caller_is_served(make_pool):
    pool = make_pool(max_size=3)
    pids: set[int] = set()

    async def query(n: int) -> int:
        async with pool.connection() as conn:
            pids.add(conn.info.backend_pid)
            cursor = await conn.execute("SELECT %s::int", (n,))
            return (await cursor.fetchone())[0]

    assert await asyncio.gather(*(query(n) for n in range(60))) == list(range(60))
    assert len(pids) <= 3 and pool._size <= 3
    assert not [w for w in pool._waiters if not w.done()]


async def test_a_caller_that_waits_too_long_gets_pool_timeout(make_pool):
    pool = make_pool(max_size=1, timeout=0.05)
    async with pool.connection():
        with pytest.raises(PoolTimeout):
            async with pool.connection():
                pass
    assert await _pid(pool)  # the pool still serves once the connection is back


async def test_a_statement_cancelled_half_way_frees_the_connection_for_the_next(make_pool):
    pool = make_pool(max_size=1)
    started = asyncio.Event()

    async def slow() -> None:
        async with pool.connection() as conn:
            started.set()
            await conn.execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(slow())
    await started.wait()
    waiter = asyncio.create_task(_pid(pool))
    await _waiting(pool, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # psycopg cancels the statement on the server: the waiter is served at once.
    assert await asyncio.wait_for(waiter, 5)
    assert pool._size == 1


async def test_a_connection_left_in_a_transaction_is_closed_not_reused(make_pool):
    pool = make_pool(max_size=1)
    async with pool.connection() as conn:
        await conn.execute("BEGIN")
        pid = conn.info.backend_pid
    await asyncio.gather(*pool._closing)

    assert conn.closed
    assert await _pid(pool) != pid
    assert pool._size == 1


async def test_a_long_idle_connection_is_closed(make_pool, monkeypatch):
    pool = make_pool(max_size=2)
    first = await _pid(pool)
    monkeypatch.setattr(pgpool, "MAX_IDLE_SECONDS", -1.0)  # everything idle is too idle

    assert await _pid(pool) != first
    await asyncio.gather(*pool._closing)
    assert pool._size == 1


async def test_an_old_connection_is_replaced(make_pool, monkeypatch):
    pool = make_pool(max_size=2)
    monkeypatch.setattr(pgpool, "MAX_LIFETIME_SECONDS", 0.0)  # old as soon as it is used

    first = await _pid(pool)
    assert pool._idle == [] and pool._size == 0
    assert await _pid(pool) != first


async def test_opening_a_connection_counts_against_the_timeout(make_pool):
    silent = socket.socket()  # accepts TCP connections, never answers PostgreSQL's hello
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        port = silent.getsockname()[1]
        pool = LoopPool(f"host=127.0.0.1 port={port} dbname=x user=x", max_size=1, timeout=0.2)
        with pytest.raises(PoolTimeout):
            async with pool.connection():
                pass
        assert pool._size == 0
    finally:
        silent.close()


async def test_a_waiter_cancelled_as_it_is_served_gives_the_connection_back(make_pool):
    pool = make_pool(max_size=1)
    async with pool.connection() as conn:
        first = conn
        waiter = asyncio.create_task(_pid(pool))
        await _waiting(pool, 1)
    # The connection went to the waiter; the waiter is cancelled before it runs.
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert [conn for conn, _ in pool._idle] == [first] and pool._size == 1


async def test_a_dead_connection_is_not_handed_out_again(make_pool):
    pool = make_pool(max_size=1)
    dead = await _pid(pool)
    async with await psycopg.AsyncConnection.connect(pg.conninfo(), autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (dead,))
    with pytest.raises(psycopg.OperationalError):
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
    assert await _pid(pool) != dead
    assert pool._size == 1


async def test_closing_fails_the_waiters_and_closes_what_comes_back(make_pool):
    pool = make_pool(max_size=1)
    async with pool.connection() as conn:
        waiter = asyncio.create_task(_pid(pool))
        await _waiting(pool, 1)
        await pool.close()
        with pytest.raises(PoolTimeout):
            await waiter
    await asyncio.gather(*pool._closing)  # its close, scheduled when it came back
    assert conn.closed
    with pytest.raises(PoolTimeout):
        await _pid(pool)
