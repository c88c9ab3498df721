"""A stream that fails with TimeoutError when its producer goes quiet for too long.

A model that stops answering must not hold a turn (and its thread's lock) forever,
but a reasoning model may think for a while and a slow client may take its time:
only the wait for the producer's next event counts, never the time our consumer
spends on one (saving it, sending it).

`asyncio.timeout` around each wait would do it, at a timer armed and cancelled per
event: about 10 µs each, more than the relay of the event itself. Here one timer
covers the stream and is re-armed only when it fires early (a new wait began since
it was set), at most once per `seconds`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

T = TypeVar("T")


async def with_idle_timeout(events: AsyncIterator[T], seconds: float) -> AsyncIterator[T]:
    """Re-yield events, raising TimeoutError when the next one takes `seconds` or more."""
    loop = asyncio.get_running_loop()
    iterator = aiter(events)
    waiting_since: float | None = None  # None while our consumer has the event
    waiter: asyncio.Task | None = None
    expired = False
    timer: asyncio.TimerHandle | None = None

    def check() -> None:
        nonlocal timer, expired
        timer = None
        if waiting_since is None or waiter is None:
            return  # not waiting: the next wait arms it again
        due = waiting_since + seconds
        if loop.time() < due:
            timer = loop.call_at(due, check)
            return
        expired = True
        waiter.cancel()

    try:
        while True:
            waiting_since = loop.time()
            waiter = asyncio.current_task()
            already_cancelling = waiter.cancelling() if waiter is not None else 0
            if timer is None:
                timer = loop.call_at(waiting_since + seconds, check)
            try:
                event = await anext(iterator)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                # Ours (the timer fired) unless someone else cancelled the task too;
                # as asyncio.timeout does, our cancellation is taken back either way.
                if expired and waiter is not None:
                    expired = False
                    if waiter.uncancel() <= already_cancelling:
                        raise TimeoutError from None
                raise
            finally:
                waiting_since = None
                if expired and waiter is not None:  # fired, but the wait ended otherwise
                    expired = False
                    waiter.uncancel()
            yield event
    finally:
        if timer is not None:
            timer.cancel()
