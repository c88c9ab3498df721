"""config/broadcast.py: a group message sent from a database call of an async request
goes out on the request's loop without holding the call's thread."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer

from config.broadcast import send_to_group
from config.db import run_sync


class GatedLayer(InMemoryChannelLayer):
    """Channels' in-memory layer whose sends wait until the test opens the gate."""

    gate: asyncio.Event

    async def group_send(self, group: str, message: dict) -> None:
        await self.gate.wait()
        await super().group_send(group, message)


@pytest.fixture
def gated_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.GatedLayer"}}
    layer = get_channel_layer()
    layer.gate = asyncio.Event()
    return layer


@pytest.mark.django_db(transaction=True)
async def test_a_send_from_a_database_thread_is_handed_to_the_loop(gated_layer):
    channel = await gated_layer.new_channel()
    await gated_layer.group_add("todos.user.1", channel)

    # Were the thread to wait for the send (async_to_sync), this would never return:
    # the send waits for the gate, which opens only after it.
    result = await asyncio.wait_for(
        run_sync(lambda: send_to_group("todos.user.1", {"type": "t.x"}, what="a test")), 5
    )
    gated_layer.gate.set()

    assert result is None
    assert await asyncio.wait_for(gated_layer.receive(channel), 5) == {"type": "t.x"}
