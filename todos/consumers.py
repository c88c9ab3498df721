"""`/ws/todos/`: live todo changes for the connected user only, while access lasts.

A socket closes with 4401 when its access ends: at its client secret's expiry (a
timer), when its page session signs out, and when its user is deactivated (a
channel-layer message from accounts.revocation to the session's or user's group,
sent when the sign-out or the deactivation commits). And whatever the path (a save, a
queryset update, a deleted user): the open sockets of each worker re-check their access
together every CHATKIT_SOCKET_RECHECK_SECONDS, with the chat's event streams (one pair
of queries for all of them, accounts.access_watch).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.access_watch import watch
from accounts.client_secrets import SecretClaims
from accounts.revocation import (
    REVOKED_MESSAGE_TYPE,
    SESSION_KEY,
    SocketAccess,
    session_group,
    session_sid,
    user_group,
)
from accounts.ws_auth import SCOPE_CLAIMS, SCOPE_SUBPROTOCOL
from config.wsdispatch import DatabaseFreeDispatchMixin
from todos.events import MESSAGE_TYPE
from usage.metrics import WS_CONNECTIONS

# Close code for "not authenticated" (4000-4999 are for applications).
CLOSE_UNAUTHENTICATED = 4401


class TodoConsumer(DatabaseFreeDispatchMixin, AsyncJsonWebsocketConsumer):
    """Joins the user's group and forwards {"type": "todo.created|updated|deleted", "todo"}."""

    # Handlers that never use the ORM skip Channels' per-message database hop
    # (config/wsdispatch.py); take a type out of here if its handler starts using it.
    # (connect's rare session save hops explicitly, with database_sync_to_async.)
    db_free_message_types = frozenset(
        {
            MESSAGE_TYPE,
            REVOKED_MESSAGE_TYPE,
            "websocket.connect",
            "websocket.receive",
            "websocket.disconnect",
        }
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined: list[str] = []
        self.expiry: asyncio.TimerHandle | None = None
        self.expiry_task: asyncio.Future[None] | None = None
        self.ended = False
        self.counted = False  # in chatkit_ws_connections (an accepted, authenticated socket)
        self.access: SocketAccess | None = None  # what the periodic re-check checks

    async def connect(self) -> None:
        user = self.scope.get("user")
        subprotocol = self.scope.get(SCOPE_SUBPROTOCOL)
        if user is None or not user.is_authenticated:
            # Accept first so the browser sees our close code, not a failed handshake.
            await self.accept(subprotocol)
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        claims: SecretClaims | None = self.scope.get(SCOPE_CLAIMS)
        sid = claims.sid if claims is not None else await self._session_sid()
        self.joined = [user_group(user.pk)] + ([session_group(sid)] if sid else [])
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept(subprotocol)
        self.counted = True
        WS_CONNECTIONS.inc()
        self.access = (user.pk, claims.generation if claims is not None else None, sid)
        watch().add(self)
        if claims is not None:
            delay = max(0.0, claims.expires_at - time.time())
            self.expiry = asyncio.get_running_loop().call_later(delay, self._expire)

    async def _session_sid(self) -> str | None:
        session = self.scope.get("session")
        if session is None:
            return None
        if session.get(SESSION_KEY):
            return session[SESSION_KEY]
        sid = session_sid(session)  # a session from before sids existed
        await database_sync_to_async(session.save)()
        return sid

    def _expire(self) -> None:
        self.expiry_task = asyncio.ensure_future(self._end())

    async def _end(self) -> None:
        """Close once with 4401; nothing is sent after (a server may refuse it)."""
        if not self.ended:
            self.ended = True
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def disconnect(self, code: int) -> None:
        watch().discard(self)
        if self.counted:
            self.counted = False
            WS_CONNECTIONS.dec()
        if self.expiry is not None:
            self.expiry.cancel()
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # Garbage from a client is ignored rather than crashing the connection; so is
        # hostile nesting, which the json module answers with RecursionError.
        try:
            return await super().decode_json(text_data)
        except (ValueError, RecursionError):
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket is one-way; a ping lets clients check it is alive.
        if isinstance(content, dict) and content.get("type") == "ping" and not self.ended:
            await self.send_json({"type": "pong"})

    async def todo_change(self, message: dict[str, Any]) -> None:
        """Channel-layer handler for events.MESSAGE_TYPE."""
        if not self.ended:
            await self.send_json(message["event"])

    async def revoke(self) -> None:
        """The periodic re-check found its access gone (accounts.access_watch)."""
        await self._end()

    async def auth_revoked(self, message: dict[str, Any]) -> None:
        """Channel-layer handler for accounts.revocation.REVOKED_MESSAGE_TYPE."""
        await self._end()
