"""The idle timeout of a turn's event stream: only the producer's silence counts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chat.idle_timeout import with_idle_timeout


async def spaced(count: int, gap: float) -> AsyncIterator[int]:
    for index in range(count):
        await asyncio.sleep(gap)
        yield index


async def silent_after(count: int, silent: asyncio.Event | None = None) -> AsyncIterator[int]:
    for index in range(count):
        yield index
    if silent is not None:
        silent.set()
    await asyncio.Event().wait()  # a model that stops answering
    yield count


async def test_events_in_time_all_arrive_even_when_the_stream_outlasts_the_timeout() -> None:
    # 6 gaps of 0.1 s: the stream takes 0.6 s, each wait far less than 0.4 s (a loaded
    # machine's pause of 60 ms tripped the 0.1 s limit over gaps of 0.04 s).
    received = [event async for event in with_idle_timeout(spaced(6, 0.1), 0.4)]

    assert received == list(range(6))


async def test_a_silent_producer_raises_timeout_error_after_what_came_before() -> None:
    received: list[int] = []
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(TimeoutError):
        async for event in with_idle_timeout(silent_after(2), 0.05):
            received.append(event)

    assert received == [0, 1]
    assert loop.time() - started >= 0.05


async def test_a_slow_consumer_never_trips_it() -> None:
    received = []
    # A limit that a pause of the loop while the producer's next event is due cannot
    # reach (0.05 s could); our side's time is well past it.
    async for event in with_idle_timeout(spaced(3, 0), 0.3):
        await asyncio.sleep(0.45)  # our side (saving, sending) takes longer than the limit
        received.append(event)

    assert received == [0, 1, 2]


async def test_someone_elses_cancellation_stays_a_cancellation() -> None:
    silent = asyncio.Event()

    async def consume() -> None:
        async for _ in with_idle_timeout(silent_after(1, silent), 30):
            pass

    task = asyncio.create_task(consume())
    # Cancelled while it waits on the silent producer (not before it got there).
    await asyncio.wait_for(silent.wait(), timeout=5)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_timeout_leaves_the_task_usable() -> None:
    with pytest.raises(TimeoutError):
        async for _ in with_idle_timeout(silent_after(0), 0.01):
            pass

    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0
    await asyncio.sleep(0)  # no cancellation left pending


async def test_a_producer_that_ends_when_cancelled_leaves_no_cancellation_behind() -> None:
    async def gives_up_quietly() -> AsyncIterator[int]:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return  # ends the stream instead of letting the cancellation out
        yield 0

    assert [event async for event in with_idle_timeout(gives_up_quietly(), 0.01)] == []

    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0
    with pytest.raises(TimeoutError):  # and the next timeout is still a timeout
        async for _ in with_idle_timeout(silent_after(0), 0.01):
            pass
