"""The run registry: a run outlives its listeners, keeps a bounded buffer, stops on ask."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from runs.registry import Run, running


async def chunks(count: int, gate: asyncio.Event | None = None) -> AsyncIterator[bytes]:
    for number in range(count):
        if gate is not None and number == 1:
            await gate.wait()
        yield f"{number};".encode()


async def test_a_listener_that_leaves_does_not_end_the_run():
    gate = asyncio.Event()
    run = Run(user_id=1).start(chunks(5, gate))
    listener = run.listen()
    assert await anext(listener) == b"0;"
    await listener.aclose()  # the client went away
    gate.set()
    await run.wait()
    assert b"".join(run.chunks) == b"0;1;2;3;4;" and not run.stopped


async def test_stop_on_close_stops_the_run():
    gate = asyncio.Event()
    run = Run(user_id=1).start(chunks(5, gate))
    listener = run.listen(stop_on_close=True)
    assert await anext(listener) == b"0;"
    await listener.aclose()
    await run.wait()
    assert run.stopped and b"".join(run.chunks) == b"0;"


async def test_the_buffer_is_bounded_and_a_late_listener_starts_at_the_oldest_kept(settings):
    settings.RUNS = {"MAX_EVENTS": 10}
    run = Run(user_id=1).start(chunks(25))
    await run.wait()
    assert len(run.chunks) == 10 and run.dropped == 15
    heard = b"".join([chunk async for chunk in run.listen()])
    assert heard == b"".join(f"{n};".encode() for n in range(15, 25))


async def test_a_held_thread_names_its_run_until_released():
    gate = asyncio.Event()
    run = Run(user_id=1).start(chunks(3, gate))
    await run.hold("thr_1")
    assert running("thr_1") is run
    assert run.stop()
    await run.wait()
    await run.release()
    assert running("thr_1") is None
    assert not run.stop()  # ended: nothing to stop
