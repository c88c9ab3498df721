"""SSE heartbeats: a comment line whenever the stream has been silent for a while.

A reasoning model can think for a minute before its first token, and proxies (nginx's
`proxy_read_timeout`, load balancers' idle timeouts, 60 s by default almost everywhere)
cut a connection that carries no bytes for that long. Every `interval` seconds of
silence the stream gets `: keep-alive`, an SSE comment that clients ignore
(the ChatKit web component, EventSource, our fallback client).

The wrapped stream runs in one pump task that appends to a buffer, and one timer per
stream marks a heartbeat due, so silence never cancels the producer (the model, the
SDK's saves) and a chunk costs no timer of its own; what the producer made while the
last write was going out leaves in one write (the SDK emits several events at once at
the start and end of a turn). Closing the wrapper (a client that went away) cancels
the pump, which the SDK sees exactly as it would have seen the request's own
cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from django.conf import settings

HEARTBEAT = b": keep-alive\n\n"
# Chunks the producer may run ahead of a slow reader before it waits.
MAX_PENDING_CHUNKS = 64


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
    loop = asyncio.get_running_loop()
    pending: list[bytes] = []
    ready, drained = asyncio.Event(), asyncio.Event()
    end: list[BaseException | None] = []  # set once the producer is finished
    last_sent = loop.time()
    beat_due = False

    async def pump() -> None:
        try:
            async for chunk in chunks:
                pending.append(chunk)
                ready.set()
                if len(pending) >= MAX_PENDING_CHUNKS:  # a slow reader: wait for it
                    drained.clear()
                    await drained.wait()
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            end.append(exc)
        else:
            end.append(None)
        ready.set()

    def check_silence() -> None:
        # One timer for the whole stream, re-armed for when the silence would reach
        # `seconds`: a timeout per chunk cost more than the relay itself.
        nonlocal timer, beat_due
        due = last_sent + seconds
        if loop.time() >= due:
            beat_due = True
            ready.set()
            due = loop.time() + seconds
        timer = loop.call_at(due, check_silence)

    timer = loop.call_at(last_sent + seconds, check_silence)
    task = asyncio.ensure_future(pump())
    try:
        while True:
            if not pending and not end and not beat_due:
                await ready.wait()
            ready.clear()
            if pending:
                # Everything produced since the last send goes out in one write.
                out = pending[0] if len(pending) == 1 else b"".join(pending)
                pending.clear()
                drained.set()
                yield out
            elif end:
                if end[0] is not None:
                    raise end[0]
                return
            elif beat_due:
                if task.done():  # the pump was cancelled elsewhere
                    raise asyncio.CancelledError
                yield HEARTBEAT
            else:
                continue
            # Every write ends here: silence restarts once it is done (a beat that fell
            # due while a slow client took its time would only follow bytes just sent).
            last_sent = loop.time()
            beat_due = False
    finally:
        timer.cancel()
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
