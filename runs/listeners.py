"""How many re-attach streams one user holds open on this worker.

A re-attach (`GET …/events`) served elsewhere than the run's worker costs a copy of the
run on that worker and a Redis stream (runs/mirror.py); served here, a listener. A user
holds at most `RUNS["MAX_LISTENERS"]` of them open on one worker: one more is refused
before its stream starts (the adapter answers 429), and each stream counts from its
first read to its end, so one never started (its client gone before the first byte)
holds no place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator

from django.conf import settings

DEFAULT_MAX_LISTENERS = 5

# user id → re-attach streams open on this worker.
_open: Counter[object] = Counter()


def max_listeners() -> int:
    return int(getattr(settings, "RUNS", {}).get("MAX_LISTENERS", DEFAULT_MAX_LISTENERS))


def has_room(user_id: object) -> bool:
    """Whether `user_id` may open one more re-attach stream on this worker."""
    return _open[user_id] < max_listeners()


async def counted(user_id: object, chunks: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    """Relay `chunks` (an async generator, not yet started) while it holds one of the
    user's places; with none left (others took them since `has_room`), end at once
    without starting it (no copy is asked for)."""
    if not has_room(user_id):
        await chunks.aclose()
        return
    _open[user_id] += 1
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        _open[user_id] -= 1
        if _open[user_id] <= 0:
            del _open[user_id]
        await chunks.aclose()


def open_count(user_id: object) -> int:
    return _open[user_id]
