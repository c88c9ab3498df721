"""Best-effort group sends (config/broadcast.py)."""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer

from config import broadcast


async def test_a_send_from_async_code_is_held_until_it_is_done(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("test-broadcast", channel)

    broadcast.send_to_group("test-broadcast", {"type": "hello"}, what="a test message")

    # Started in the background, and referenced until it finishes.
    [task] = broadcast.sending
    assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": "hello"}
    await task
    await asyncio.sleep(0)  # its done callbacks, scheduled as it finished
    assert task not in broadcast.sending
