"""Channel-layer events delivered without a database thread hop per socket.

Channels' `AsyncConsumer.dispatch` runs `close_old_connections` in the sync thread
(`sync_to_async`, one hop through Django's single thread-sensitive executor) before
every handler. For a change fanned out to 2,000 open sockets that is 2,000 serialized
hops, seconds of delay, for handlers that never touch the database. A consumer lists
its database-free message types; those skip the hop, everything else is unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

from channels.consumer import get_handler_name


class DatabaseFreeDispatchMixin:
    """Put before the Channels consumer class; list handlers that use no ORM."""

    db_free_message_types: ClassVar[frozenset[str]] = frozenset()

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") in self.db_free_message_types:
            handler = getattr(self, get_handler_name(message), None)
            if handler is not None:
                await handler(message)
                return
        await super().dispatch(message)  # type: ignore[misc]
