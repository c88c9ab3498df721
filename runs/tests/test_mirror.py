"""runs/mirror.py on a real Redis: a run's copies for other workers are bounded."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.core.cache import caches

from config import async_cache
from runs import mirror
from runs.registry import Run


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": async_cache.REDIS_BACKEND,
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"test-mirror-{uuid.uuid4().hex}",
        }
    }
    yield
    caches["default"].clear()


async def producer(gate: asyncio.Event):
    yield b"first;"
    await gate.wait()
    yield b"last;"


async def read(key: str) -> list[bytes]:
    async def running() -> bool:
        return True

    return [chunk async for chunk in mirror.follow_stream(key, running)]


async def test_one_copy_too_many_ends_the_oldest(redis_cache, settings):
    # Re-attaching again and again from another worker had the run's worker copy it
    # into one more Redis stream each time, every one kept until the run's end.
    settings.RUNS = {**settings.RUNS, "MAX_LISTENERS": 2}
    gate = asyncio.Event()
    run = Run(user_id=1).start(producer(gate))
    keys = [mirror.new_stream_key("thr_1") for _ in range(3)]
    for key in keys:
        mirror.copy_to_stream(run, key)
        await asyncio.sleep(0)  # each copy starts in its turn (oldest first)

    # The oldest ended while the run goes on: its follower ends with what it had.
    assert await asyncio.wait_for(read(keys[0]), timeout=5) in ([], [b"first;"])
    assert not run.finished
    gate.set()
    await run.wait()
    for key in keys[1:]:  # the others are whole
        assert await asyncio.wait_for(read(key), timeout=5) == [b"first;", b"last;"]
