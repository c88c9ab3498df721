"""Runs: a turn's events produced by a task this worker owns, heard by any listeners.

A chat turn used to live inside its HTTP response: a client that went away
cancelled it. Here the producer (the ChatKit server's event stream, as SSE bytes)
runs in a task of its own; the response is one listener of the run, and others
(a re-attach after a reload) may join from the start of the turn. A listener that
leaves only stops listening; `stop()` ends the run itself, which the producer sees
as a cancellation, exactly as it saw a request's cancellation before.

This package knows nothing of ChatKit: events are opaque bytes, a run is named by
the thread id its producer holds (`hold`), and callers hook in with callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractContextManager
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings

from config import logcontext

logger = logging.getLogger(__name__)

# A run keeps at most this many chunks for listeners that join late (RUNS["MAX_EVENTS"]);
# past it the oldest go and a late listener starts from the oldest kept.
DEFAULT_MAX_EVENTS = 4000

# thread id → the run holding it on this worker.
_held: dict[str, Run] = {}
# Runs whose task is still going (strong references: the loop keeps only weak ones).
_tasks: set[asyncio.Task[None]] = set()


def max_events() -> int:
    return int(getattr(settings, "RUNS", {}).get("MAX_EVENTS", DEFAULT_MAX_EVENTS))


def running(thread_id: str) -> Run | None:
    """The run holding `thread_id` on this worker, if one is going."""
    return _held.get(thread_id)


class Run:
    """One turn: its producer task, the chunks it made so far, and its listeners."""

    def __init__(self, *, user_id: object) -> None:
        self.user_id = user_id
        self.thread_id: str | None = None
        self.chunks: list[bytes] = []
        self.dropped = 0  # chunks trimmed from the front
        self.finished = False
        self.stopped = False
        self.task: asyncio.Task[None] | None = None
        self._max_events = max_events()
        # Listeners waiting for the next chunk (or the end, or a heartbeat due): a
        # future each, made only when one waits, resolved by _notify.
        self._waiters: list[asyncio.Future[None]] = []
        self._on_hold: list[Callable[[Run], Awaitable[None] | None]] = []
        self._on_renew: list[Callable[[], Awaitable[None]]] = []
        self._lease: asyncio.Task[None] | None = None
        self._lease_timer: asyncio.TimerHandle | None = None
        self._on_release: list[Callable[[Run], Awaitable[None] | None]] = []

    # --- the producer --------------------------------------------------------------

    def start(
        self,
        events: AsyncIterator[bytes],
        *,
        on_end: Callable[[], Awaitable[None]] | None = None,
    ) -> Run:
        """Run `events` to its end in a task of this worker, not of the request.

        The task gets a context of its own: nothing of the request that started it
        (Django's per-request thread, closed when the response ends) leaks in, but its
        log fields (request id, user, thread: config/logcontext.py)."""
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._produce(events, on_end), context=logcontext.fresh_context())
        self.task = task
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
        return self

    async def _produce(
        self, events: AsyncIterator[bytes], on_end: Callable[[], Awaitable[None]] | None
    ) -> None:
        async with ThreadSensitiveContext():  # the run's own database thread (SQLite)
            try:
                async for chunk in events:
                    self._append(chunk)
            except asyncio.CancelledError:
                pass  # stopped: the producer saved what it had (its own cancellation path)
            except Exception:
                logger.exception("A run's producer failed")
            finally:
                self.finished = True
                self._notify()
                if on_end is not None:
                    try:
                        await on_end()
                    except Exception:
                        logger.exception("A run's end hook failed")

    def _append(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        limit = self._max_events
        if len(self.chunks) > limit:  # bounded memory: trim the oldest
            cut = len(self.chunks) - limit
            del self.chunks[:cut]
            self.dropped += cut
        self._notify()

    def _notify(self) -> None:
        # Nothing to do when no listener waits (it is busy, or there is none): a chunk
        # cost an asyncio.Event of its own before.
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    # --- the thread it holds ---------------------------------------------------------

    def on_hold(self, callback: Callable[[Run], Awaitable[None] | None]) -> None:
        self._on_hold.append(callback)

    def on_release(self, callback: Callable[[Run], Awaitable[None] | None]) -> None:
        self._on_release.append(callback)

    def on_renew(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Called with each renewal of the run's lease (every few seconds)."""
        self._on_renew.append(callback)

    async def _renew(self) -> None:
        for callback in self._on_renew:
            await callback()

    def _start_lease(self) -> None:
        from runs import leases

        if self.thread_id is not None and not self.finished:
            self._lease = self.task.get_loop().create_task(
                leases.keep(self.thread_id, self.user_id, renew=self._renew),
                context=logcontext.fresh_context(),
            )

    async def hold(self, thread_id: str) -> None:
        """The producer holds `thread_id` (its turn lock): the run is found by it."""
        from runs import bus, leases  # both act on the runs registered here

        self.thread_id = thread_id
        _held[thread_id] = self
        # A lease only for a run that outlives its first second (runs/leases.py): a
        # timer until then, so the many short turns start no task for it.
        loop = asyncio.get_running_loop()
        self._lease_timer = loop.call_later(leases.first_lease_seconds(), self._start_lease)
        await bus.listen()
        for callback in self._on_hold:
            result = callback(self)
            if result is not None:
                await result

    def let_go(self) -> Coroutine[Any, Any, None] | None:
        """`release()` for a caller that shields it: None when the run is already let
        go here, without awaiting (no lease started, no release hooks: most turns),
        which spares the shield its task; else the coroutine to await."""
        if self._lease is not None or self._on_release:
            return self.release()
        self._unhold()
        return None

    def _unhold(self) -> None:
        if self.thread_id is not None and _held.get(self.thread_id) is self:
            del _held[self.thread_id]
        if self._lease_timer is not None:
            self._lease_timer.cancel()

    async def release(self) -> None:
        """The producer let go of its thread (its turn ended, however)."""
        self._unhold()
        if self._lease is not None:
            self._lease.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lease
        for callback in self._on_release:
            result = callback(self)
            if result is not None:
                await result

    # --- listeners -------------------------------------------------------------------

    async def listen(
        self,
        *,
        stop_on_close: bool = False,
        heartbeat: float = 0.0,
        beat: bytes = b"",
        ended: Callable[[], bool] | None = None,
        during: AbstractContextManager[object] | None = None,
    ) -> AsyncIterator[bytes]:
        """The run's chunks from its start (or the oldest kept), then live to its end.

        A listener that goes away (its client disconnected) just stops listening,
        unless `stop_on_close`: then the run is stopped too (the SDK's behaviour).
        With `heartbeat` > 0, `beat` is yielded after that many seconds without a chunk
        (SSE comments for proxies: chat/heartbeat.py's, without a task of its own,
        since the run's task already keeps the producer apart from this reader).
        With `ended`, the listener stops as soon as it says so (checked at each wake:
        call `wake()` after it changes), and the run goes on even with `stop_on_close`
        (the listener's access was revoked: the client did not go away). `during` is
        entered at the first read and left at the end (the revocation watch of the
        listener's access: accounts/access_watch.py), in place of a generator around
        this one."""
        loop = asyncio.get_running_loop()
        index = self.dropped
        last_sent = loop.time()
        beat_due = False
        timer: asyncio.TimerHandle | None = None

        def check_silence() -> None:
            # One timer per listener, re-armed for when the silence would reach `heartbeat`.
            nonlocal timer, beat_due
            due = last_sent + heartbeat
            if loop.time() >= due:
                beat_due = True
                self._notify()  # wakes every listener; the others find nothing new
                due = loop.time() + heartbeat
            timer = loop.call_at(due, check_silence)

        if heartbeat > 0:
            timer = loop.call_at(last_sent + heartbeat, check_silence)
        if during is not None:
            during.__enter__()
        try:
            while True:
                if ended is not None and ended():
                    return
                start = max(index, self.dropped) - self.dropped
                if start < len(self.chunks):
                    batch = self.chunks[start:]
                    index = self.dropped + len(self.chunks)
                    yield batch[0] if len(batch) == 1 else b"".join(batch)
                elif self.finished:
                    return
                elif beat_due:
                    yield beat
                else:
                    # Nothing new: wait for _notify (nothing ran since the checks above).
                    waiter = loop.create_future()
                    self._waiters.append(waiter)
                    await waiter
                    continue
                last_sent, beat_due = loop.time(), False
        finally:
            if during is not None:
                during.__exit__(None, None, None)
            if timer is not None:
                timer.cancel()
            if stop_on_close and not self.finished and not (ended is not None and ended()):
                self.stop()

    def wake(self) -> None:
        """Wake every listener (to look at its `ended` again)."""
        self._notify()

    def stop(self) -> bool:
        """End the run (its producer sees a cancellation); False if it had ended."""
        if self.finished or self.task is None or self.task.done():
            return False
        self.stopped = True
        self.task.cancel()
        return True

    async def wait(self) -> None:
        """Until the run's task has ended (saves and end hooks included)."""
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self.task)
