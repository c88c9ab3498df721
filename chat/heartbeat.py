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
    return float(settings.CHATKIT["HEARTBEAT_SECONDS"])


async def with_heartbeat(
    chunks: AsyncIterator[bytes], interval: float | None = None
) -> AsyncIterator[bytes]:
    """Relay `chunks`, adding HEARTBEAT after every `interval` seconds without one."""
    seconds = heartbeat_interval() if interval is None else interval
    if seconds <= 0:  # heartbeats off: relay as is
        async for chunk in chunks:
            yield chunk
        return
    relay = _Relay(chunks, seconds)
    try:
        while (out := await relay.next_write()) is not None:
            yield out
            relay.written()
    finally:
        await relay.close()


class _Relay:
    """One stream's pump task (producer → buffer) and silence timer (→ heartbeat due)."""

    __slots__ = (
        "beat_due",
        "chunks",
        "drained",
        "end",
        "last_sent",
        "loop",
        "pending",
        "ready",
        "seconds",
        "task",
        "timer",
    )

    def __init__(self, chunks: AsyncIterator[bytes], seconds: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.chunks = chunks
        self.seconds = seconds
        self.pending: list[bytes] = []
        self.ready = asyncio.Event()
        self.drained = asyncio.Event()
        self.end: list[BaseException | None] = []  # set once the producer is finished
        self.last_sent = self.loop.time()
        self.beat_due = False
        self.timer = self.loop.call_at(self.last_sent + seconds, self._check_silence)
        self.task = asyncio.ensure_future(self._pump())

    async def next_write(self) -> bytes | None:
        """What goes out next: everything produced since the last write, else a due
        heartbeat; None once the producer has finished (its failure is raised here)."""
        while True:
            if not self.pending and not self.end and not self.beat_due:
                await self.ready.wait()
            self.ready.clear()
            if self.pending:
                pending = self.pending
                out = pending[0] if len(pending) == 1 else b"".join(pending)
                pending.clear()
                self.drained.set()
                return out
            if self.end:
                if self.end[0] is not None:
                    raise self.end[0]
                return None
            if self.beat_due:
                if self.task.done():  # the pump was cancelled elsewhere
                    raise asyncio.CancelledError
                return HEARTBEAT

    def written(self) -> None:
        """Every write ends here: silence restarts once it is done (a beat that fell
        due while a slow client took its time would only follow bytes just sent)."""
        self.last_sent = self.loop.time()
        self.beat_due = False

    async def close(self) -> None:
        """Stop the timer and the producer (a client that went away cancels the model)."""
        self.timer.cancel()
        if not self.task.done():
            self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def _pump(self) -> None:
        try:
            async for chunk in self.chunks:
                self.pending.append(chunk)
                self.ready.set()
                if len(self.pending) >= MAX_PENDING_CHUNKS:  # a slow reader: wait for it
                    self.drained.clear()
                    await self.drained.wait()
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self.end.append(exc)
        else:
            self.end.append(None)
        self.ready.set()

    def _check_silence(self) -> None:
        # One timer for the whole stream, re-armed for when the silence would reach
        # `seconds`: a timeout per chunk cost more than the relay itself.
        due = self.last_sent + self.seconds
        if self.loop.time() >= due:
            self.beat_due = True
            self.ready.set()
            due = self.loop.time() + self.seconds
        self.timer = self.loop.call_at(due, self._check_silence)
