"""A pool of psycopg async connections for one event loop, with no lock.

psycopg_pool's AsyncConnectionPool guards every checkout and every return with one
asyncio.Lock, and once that lock is contended it convoys: each acquirer waits for the
one before it to be woken, one pass of the event loop each. At 50 concurrent chat
streams the benchmark measured 40 ms to check a connection out and 38 ms to hand it
back, around a 3 ms statement: the first token waited on the lock, not on PostgreSQL
(docs/performance.md). A pool used by one event loop needs no lock: nothing else runs
between two of its lines unless they await, so a list of idle connections and a queue
of waiting futures are enough.

What it keeps of psycopg_pool's contract: at most `max_size` connections, opened on
demand; a caller waits up to `timeout` for one, opening included (`PoolTimeout`); a
connection returned in any state but idle (a transaction left open, a lost server) is
closed, never handed out again, and its place goes to the next waiter; connections are
replaced after about an hour and closed after ten idle minutes, as psycopg_pool's
defaults do (a worker gives back what a burst opened, and no connection outlives what
a firewall or a proxy in between would allow).
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import psycopg
import psycopg_pool
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

MAX_LIFETIME_SECONDS = 3600.0
MAX_IDLE_SECONDS = 600.0

# Called with the seconds a checkout waited for a free connection (only when it had
# to wait); usage/apps.py points it at a Prometheus histogram.
on_wait: Callable[[float], None] | None = None


class PoolTimeout(psycopg.OperationalError):
    """No connection became free, or could be opened, in time (or the pool is closed)."""


class LoopPool:
    """Connections to one database, for the event loop that uses them."""

    def __init__(self, conninfo: str, *, max_size: int, timeout: float) -> None:
        self.conninfo = conninfo
        self.max_size = max_size
        self.timeout = timeout
        # Idle connections, each with the loop time it went idle; the newest last.
        self._idle: list[tuple[AsyncConnection, float]] = []
        self._expires: dict[AsyncConnection, float] = {}
        # A waiter gets a connection, or None: "a place is free, open one".
        self._waiters: deque[asyncio.Future[AsyncConnection | None]] = deque()
        self._size = 0  # connections open, being opened, or promised to a waiter
        self._closed = False
        self._closing: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[AsyncConnection]:
        conn = await self._acquire(self.timeout if timeout is None else timeout)
        try:
            yield conn
        finally:
            self._release(conn)

    async def _acquire(self, timeout: float) -> AsyncConnection:
        if self._closed:
            raise PoolTimeout("the connection pool is closed")
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._idle and now - self._idle[0][1] > MAX_IDLE_SECONDS:
            self._discard(self._idle.pop(0)[0])  # the longest idle first
        if self._idle:
            return self._idle.pop()[0]  # the most recently used: warm, and the rest can age
        deadline = now + timeout
        if self._size < self.max_size:
            self._size += 1
            return await self._open(deadline)
        waiter: asyncio.Future[AsyncConnection | None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                conn = await waiter
        except BaseException as exc:
            _waited(loop.time() - now)
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Handed a connection (or a place) just as this caller gave up.
                self._give_back(waiter.result())
            else:
                waiter.cancel()  # skipped by _release from now on
            if isinstance(exc, TimeoutError):
                raise PoolTimeout(f"no database connection free after {timeout:.1f} s") from None
            raise
        _waited(loop.time() - now)
        return conn if conn is not None else await self._open(deadline)

    async def _open(self, deadline: float) -> AsyncConnection:
        """A new connection, in a place already counted in `_size`, by `deadline`."""
        try:
            async with asyncio.timeout_at(deadline):
                conn = await AsyncConnection.connect(self.conninfo, autocommit=True)
        except BaseException as exc:
            self._size -= 1
            self._pass_place()
            if isinstance(exc, TimeoutError):
                raise PoolTimeout("no database connection could be opened in time") from None
            raise
        # Spread over the last tenth, so a burst's connections are not replaced at once.
        lifetime = MAX_LIFETIME_SECONDS * random.uniform(0.9, 1.0)
        self._expires[conn] = asyncio.get_running_loop().time() + lifetime
        return conn

    def _give_back(self, conn: AsyncConnection | None) -> None:
        if conn is None:
            self._size -= 1
            self._pass_place()
        else:
            self._release(conn)

    def _release(self, conn: AsyncConnection) -> None:
        now = asyncio.get_running_loop().time()
        if (
            self._closed
            or conn.closed
            or conn.pgconn.transaction_status != TransactionStatus.IDLE
            or now > self._expires.get(conn, 0.0)
        ):
            # Left in a transaction or mid-statement, lost, old, or the pool is closing.
            self._discard(conn)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append((conn, now))

    def _discard(self, conn: AsyncConnection) -> None:
        self._expires.pop(conn, None)
        self._size -= 1
        task = asyncio.ensure_future(conn.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        self._pass_place()

    def _pass_place(self) -> None:
        """A place fell free: the first live waiter opens a connection in it."""
        while self._waiters and not self._closed:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._size += 1
                waiter.set_result(None)
                return

    def discard_idle(self) -> None:
        """Close every idle connection (after one was found dead: PostgreSQL restarted,
        so the others are dead too); new ones open on demand."""
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            self._discard(conn)

    async def close(self) -> None:
        """Close idle connections now, the others as they come back."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolTimeout("the connection pool is closed"))
        self.discard_idle()
        await asyncio.gather(*self._closing, return_exceptions=True)


def _waited(seconds: float) -> None:
    if on_wait is not None:
        on_wait(seconds)


class StockPool:
    """psycopg_pool's AsyncConnectionPool behind LoopPool's three methods: the pool
    CHATKIT_FAST_PATHS=0 uses. Its lock is the one that convoyed under load
    (docs/performance.md); every checkout checks the connection, as psycopg_pool offers."""

    def __init__(self, conninfo: str, *, max_size: int, timeout: float) -> None:
        self.timeout = timeout
        self.pool = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection,
            open=False,
        )
        self._opened = False

    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[AsyncConnection]:
        if not self._opened:
            self._opened = True
            await self.pool.open(wait=False)
        try:
            async with self.pool.connection(timeout=timeout) as conn:
                yield conn
        except psycopg_pool.PoolTimeout as exc:
            raise PoolTimeout(str(exc)) from exc

    def discard_idle(self) -> None:
        """Nothing to do: each checkout checks its connection."""

    async def close(self) -> None:
        await self.pool.close()
