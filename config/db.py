"""Database connections for long-lived async requests.

Django gives every async request its own thread and connection, kept until the
request ends. A chat stream lives for seconds while the model talks, so with
hundreds of streams PostgreSQL runs out of connections. With the connection
pool (PostgreSQL), code that awaits the model hands its connection back first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connections
from django.db.models import QuerySet

from config import pg

P = ParamSpec("P")
T = TypeVar("T")


def _pooled(alias: str) -> bool:
    return bool(connections.settings[alias].get("OPTIONS", {}).get("pool"))


def _release() -> None:
    for connection in connections.all(initialized_only=True):
        if _pooled(connection.alias) and not connection.in_atomic_block:
            connection.close()  # back to the pool, not a real disconnect


def _call_then_release(function: Callable[..., T], args: tuple, kwargs: dict) -> T:
    try:
        return function(*args, **kwargs)
    finally:
        _release()


async def run_sync(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`sync_to_async(function)(...)` that hands pooled connections back in the same hop.

    Each call is whole (its own transaction, its connection handed back), so none needs
    the request's own thread: with the async database on (PostgreSQL, as shipped) calls
    run on the event loop's shared worker threads, and /chatkit requests get no thread
    of their own (config/fastpath.py). Otherwise (SQLite, the in-process tests) they run
    where Django's `sync_to_async` puts them, the request's thread."""
    shared = pg.enabled()
    return await sync_to_async(_call_then_release, thread_sensitive=not shared)(
        function, args, kwargs
    )


def first_or_none(queryset: QuerySet[T]) -> T | None:
    """The row a unique filter names, or None: `first()` without its ORDER BY.

    `first()` orders by the model's Meta.ordering (or pk), and compiling that ordering
    was a large part of a hot lookup's CPU; a filter on a unique key needs none."""
    rows = list(queryset.order_by()[:1])
    return rows[0] if rows else None


async def afirst_or_none(queryset: QuerySet[T]) -> T | None:
    """`first_or_none` from async code (one trip to a database thread)."""
    return await run_sync(first_or_none, queryset)
