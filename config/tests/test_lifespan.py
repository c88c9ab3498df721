"""A worker's background tasks start with it: at the ASGI lifespan's startup (uvicorn),
else at its first request of any kind (daphne sends no lifespan); once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from config.lifespan import StartWithWorker


class Recorder:
    """The inner app: records the scopes that reach it."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scopes.append(scope["type"])


async def test_the_lifespan_startup_starts_it_before_any_request():
    inner, starts = Recorder(), []
    app = StartWithWorker(inner, on_start=lambda: starts.append(1))
    incoming: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    sent: list[dict[str, str]] = []

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    await incoming.put({"type": "lifespan.startup"})
    await incoming.put({"type": "lifespan.shutdown"})
    await app({"type": "lifespan"}, incoming.get, send)

    assert starts == [1]
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert inner.scopes == []  # the router below knows no lifespan
    await app({"type": "http"}, None, None)
    assert starts == [1] and inner.scopes == ["http"]


@pytest.mark.parametrize("first", ["http", "websocket"])
async def test_without_a_lifespan_the_first_request_starts_it_once(first):
    inner, starts = Recorder(), []
    app = StartWithWorker(inner, on_start=lambda: starts.append(1))

    for kind in (first, "http", "websocket"):
        await app({"type": kind}, None, None)

    assert starts == [1]
    assert inner.scopes == [first, "http", "websocket"]


async def test_a_start_that_fails_is_tried_again_and_never_stops_a_request():
    inner, calls = Recorder(), []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("no loop yet")

    app = StartWithWorker(inner, on_start=flaky)
    for _ in range(3):
        await app({"type": "http"}, None, None)

    assert len(calls) == 2 and inner.scopes == ["http"] * 3


def test_the_shipped_application_starts_the_dead_turn_sweep():
    from chat.recovery import start_sweeping
    from config.asgi import application

    assert isinstance(application, StartWithWorker)
    assert application.on_start is start_sweeping
