"""`/ws/todos/`: live todo changes for the connected user only."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from config.wsdispatch import DatabaseFreeDispatchMixin
from todos.events import MESSAGE_TYPE, group_name

# Close code for "not authenticated" (4000-4999 are for applications).
CLOSE_UNAUTHENTICATED = 4401


class TodoConsumer(DatabaseFreeDispatchMixin, AsyncJsonWebsocketConsumer):
    """Joins the user's group and forwards {"type": "todo.created|updated|deleted", "todo"}."""

    # Handlers that never use the ORM skip Channels' per-message database hop
    # (config/wsdispatch.py); take a type out of here if its handler starts using it.
    db_free_message_types = frozenset(
        {MESSAGE_TYPE, "websocket.connect", "websocket.receive", "websocket.disconnect"}
    )

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first so the browser sees our close code, not a failed handshake.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = group_name(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # Garbage from a client is ignored rather than crashing the connection.
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket is one-way; a ping lets clients check it is alive.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def todo_change(self, message: dict[str, Any]) -> None:
        """Channel-layer handler for events.MESSAGE_TYPE."""
        await self.send_json(message["event"])
