"""SSE heartbeats: a comment line whenever the stream has been silent for a while.

A reasoning model can think for a minute before its first token, and proxies (nginx's
`proxy_read_timeout`, load balancers' idle timeouts, 60 s by default almost everywhere)
cut a connection that carries no bytes for that long. Every `interval` seconds of
silence the stream gets `: keep-alive`, an SSE comment that clients ignore
(the ChatKit web component, EventSource, our fallback client).

The wrapped stream runs in one pump task that feeds a one-slot queue, so waiting for
the next chunk can time out without cancelling the producer (the model, the SDK's
saves). Closing the wrapper (a client that went away) cancels the pump, which the SDK
sees exactly as it would have seen the request's own cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from django.conf import settings

HEARTBEAT = b": keep-alive\n\n"
_DONE = object()


def heartbeat_interval() -> float:
    """Seconds of silence before a heartbeat (`CHATKIT_HEARTBEAT_SECONDS`, default 15)."""
    return float(settings.CHATKIT.get("HEARTBEAT_SECONDS", 15))


async def with_heartbeat(
    chunks: AsyncIterator[bytes], interval: float | None = None
) -> AsyncIterator[bytes]:
    """Relay `chunks`, adding HEARTBEAT after every `interval` seconds without one."""
    seconds = heartbeat_interval() if interval is None else interval
    if seconds <= 0:  # heartbeats off: relay as is
        async for chunk in chunks:
            yield chunk
        return
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1)

    async def pump() -> None:
        end: object = _DONE
        try:
            async for chunk in chunks:
                await queue.put(chunk)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            end = exc
        await queue.put(end)

    task = asyncio.ensure_future(pump())
    try:
        while True:
            if queue.empty():
                try:
                    async with asyncio.timeout(seconds):
                        item = await queue.get()
                except TimeoutError:
                    if task.done() and queue.empty():  # the pump was cancelled elsewhere
                        raise asyncio.CancelledError from None
                    yield HEARTBEAT
                    continue
            else:
                item = queue.get_nowait()
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            yield item  # type: ignore[misc]
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
