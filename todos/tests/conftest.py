"""Fixtures for the todos tests: live-event listener, API helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from accounts.models import User
from todos import events

_SENTINEL = "todos.tests.sentinel"


class EventListener:
    """A real channel on the real channel layer, joined to one user's todo group."""

    def __init__(self, user: User) -> None:
        self.layer = get_channel_layer()
        self.group = events.group_name(user.pk)
        self.channel = ""

    async def join(self) -> EventListener:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        return self

    async def leave(self) -> None:
        await self.layer.group_discard(self.group, self.channel)

    def received(self) -> list[dict[str, Any]]:
        """Everything published so far: a sentinel sent now marks the end (no waiting)."""
        return async_to_sync(self.areceived)()

    async def areceived(self) -> list[dict[str, Any]]:
        await self.layer.group_send(self.group, {"type": _SENTINEL})
        found = []
        while True:
            message = await self.layer.receive(self.channel)
            if message["type"] == _SENTINEL:
                return found
            found.append(message["event"])


@pytest.fixture
def listen() -> Iterator[Callable[[User], EventListener]]:
    """listen(user) -> listener whose .received() lists the user's todo events."""
    listeners: list[EventListener] = []

    def make(user: User) -> EventListener:
        listeners.append(async_to_sync(EventListener(user).join)())
        return listeners[-1]

    yield make
    for listener in listeners:
        async_to_sync(listener.leave)()


@pytest.fixture
async def alisten() -> AsyncIterator[Callable[[User], Awaitable[EventListener]]]:
    """The async twin of `listen`: `await alisten(user)`, then `await .areceived()`."""
    listeners: list[EventListener] = []

    async def make(user: User) -> EventListener:
        listeners.append(await EventListener(user).join())
        return listeners[-1]

    yield make
    for listener in listeners:
        await listener.leave()
