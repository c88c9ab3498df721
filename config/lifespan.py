"""ASGI: what a worker starts when it starts (its sweep for dead turns, chat/recovery.py).

Uvicorn sends the ASGI lifespan protocol: `on_start` runs at `lifespan.startup`, on
the worker's event loop, before its first request. Daphne sends none: `on_start`
runs at the first request of any kind (HTTP or websocket; a health check counts).
`on_start` must be idempotent and cheap once done: it is called again on every
request until it says it ran (a flag check after that).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class StartWithWorker:
    """Call `on_start` (synchronously, on the running event loop) when the worker starts."""

    def __init__(self, app: Any, on_start: Callable[[], None]) -> None:
        self.app = app
        self.on_start = on_start
        self.started = False

    def _start(self) -> None:
        if self.started:
            return
        try:
            self.on_start()
        except Exception:  # a worker serves without it rather than not at all
            logger.exception("Could not start the worker's background tasks")
            return
        self.started = True

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        self._start()
        await self.app(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
