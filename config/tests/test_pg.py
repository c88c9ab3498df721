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
    held = pg.pool()
    async with held.connection():  # its first connection, open and then idle
        pass
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


@pytest.fixture
def server_options():
    """libpq `options` given in DATABASE_URL (dj_database_url puts them in OPTIONS)."""
    options = connection.settings_dict.setdefault("OPTIONS", {})
    options["options"] = "-c statement_timeout=200"
    pg._conninfos.clear()
    yield
    del options["options"]
    pg._conninfos.clear()


async def test_options_from_database_url_are_kept_beside_utc(server_options, pool):
    assert await pg.fetchone("SHOW statement_timeout", ()) == ("200ms",)
    assert await pg.fetchone("SHOW TimeZone", ()) == ("UTC",)


async def test_a_statement_timeout_is_not_run_again(server_options, pool):
    before = pg.statements
    with pytest.raises(psycopg.errors.QueryCanceled):
        await pg.fetchone("SELECT pg_sleep(2)", ())
    assert pg.statements - before == 1
