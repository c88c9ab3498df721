"""config/pg.py: statements on the async pool survive connections PostgreSQL dropped."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from config import pg

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's async pool"),
]


@pytest.fixture
async def pool():
    held = await pg.pool()
    await held.wait()  # its first connection is open and idle
    yield held
    await pg.close_pools()


async def _terminate(pids: list[int]) -> None:
    """End these sessions from the server side, as a PostgreSQL restart would."""
    async with await psycopg.AsyncConnection.connect(pg.conninfo(), autocommit=True) as admin:
        for pid in pids:
            await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def test_a_statement_on_a_dropped_connection_runs_again_on_a_fresh_one(pool):
    assert await pg.fetchone("SELECT 1", ()) == (1,)
    async with pool.connection() as idle:
        pid = idle.info.backend_pid
    await _terminate([pid])

    assert await pg.fetchone("SELECT 2", ()) == (2,)
    assert await pg.execute("SELECT 1 WHERE false", ()) == 0


async def test_an_error_in_the_statement_itself_is_not_retried(pool):
    with pytest.raises(psycopg.errors.UndefinedTable):
        await pg.fetchall("SELECT * FROM no_such_table", ())
    assert await pg.fetchone("SELECT 3", ()) == (3,)
