"""Every chat test closes the ORM's worker-thread connections (root conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _closes_db_connections(close_db_connections: None) -> None:
    pass
