"""Database-free handlers skip Channels' per-message connection clean-up hop; the
others still go through Channels' own dispatch."""

from __future__ import annotations

from typing import Any

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from config.wsdispatch import DatabaseFreeDispatchMixin

# The communicator's own default is 1 s, and "probe.slow" takes a thread hop (Channels'
# connection clean-up): a loaded machine can take longer. A wait returns when it holds.
WAIT = 10


class Probe(DatabaseFreeDispatchMixin, AsyncJsonWebsocketConsumer):
    db_free_message_types = frozenset({"probe.fast"})

    async def connect(self) -> None:
        await self.accept()
        await self.send_json({"channel": self.channel_name})

    async def probe_fast(self, message: dict[str, Any]) -> None:
        await self.send_json({"got": "fast"})

    async def probe_slow(self, message: dict[str, Any]) -> None:
        await self.send_json({"got": "slow"})


# Channels' own dispatch (the unlisted types) closes old database connections.
@pytest.mark.django_db(transaction=True)
async def test_listed_types_run_on_the_loop_and_others_as_before(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    communicator = WebsocketCommunicator(Probe.as_asgi(), "/probe/")
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    channel = (await communicator.receive_json_from(timeout=WAIT))["channel"]
    layer = get_channel_layer()

    await layer.send(channel, {"type": "probe.fast"})
    fast = await communicator.receive_json_from(timeout=WAIT)
    await layer.send(channel, {"type": "probe.slow"})
    slow = await communicator.receive_json_from(timeout=WAIT)

    assert fast["got"] == "fast" and slow["got"] == "slow"
    await communicator.disconnect(timeout=WAIT)
