"""Shared fixture plugins (settings come from config.test_settings)."""

from collections.abc import AsyncIterator

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

pytest_plugins = [
    "accounts.tests.fixtures",
    "config.tests.servers",
    "chat.tests.fixtures",
    "chat.tests.browser",
]


@pytest.fixture
async def close_db_connections() -> AsyncIterator[None]:
    """Close the connections the ORM opened in its sync_to_async thread during the test.

    Outside a request nothing closes them (a view's request_finished does), and an
    open one keeps the PostgreSQL test database from being dropped. Autouse for
    chat's and attachments' tests (their conftest.py); other modules ask for it.
    """
    yield
    await sync_to_async(connections.close_all)()
