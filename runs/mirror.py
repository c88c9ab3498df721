"""Re-attach from another worker: a run's events copied into a Redis stream on request.

A re-attach served by the worker that holds the run listens to it directly. Another
worker asks the holder (runs/bus.py) to copy the run into a stream of the asker's own
naming: everything from the start of the turn (`XADD`, trimmed to `RUNS["MAX_EVENTS"]`)
and then each new chunk as it comes, an end mark when the run ends, and the stream
expires a minute later. The asker follows it with `XREAD`. An undisturbed turn pays
nothing: streams are written only for a turn someone re-attached to elsewhere.

A run has at most `RUNS["MAX_LISTENERS"]` copies going (runs/listeners.py bounds the
askers per user and worker; this bounds what re-attaching again and again costs the
holder): one more ends the oldest, with an end mark, so its follower (most likely
gone already: a reload) ends too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable

from config import async_cache
from runs import listeners, registry

logger = logging.getLogger(__name__)

END = b"end"
# A stream outlives its run by this long; while the run goes it is kept this long ahead.
EXPIRE_AFTER_RUN_SECONDS = 60
EXPIRE_WHILE_RUNNING_SECONDS = 600
# XREAD blocks at most this long per call (under the client's 1 s socket timeout).
BLOCK_MS = 500

_copies: set[asyncio.Task[None]] = set()
# A run → its copies going, oldest first.
_copies_of: weakref.WeakKeyDictionary[registry.Run, list[asyncio.Task[None]]] = (
    weakref.WeakKeyDictionary()
)


def new_stream_key(thread_id: str) -> str:
    return f"runs:events:{thread_id}:{uuid.uuid4().hex}"


def copy_to_stream(run: registry.Run, key: str) -> None:
    """Start copying `run` into the stream `key` (the holder's side); past the run's
    bound of copies, the oldest one ends."""
    going = _copies_of.setdefault(run, [])
    going[:] = [task for task in going if not task.done()]
    while going and len(going) >= listeners.max_listeners():
        going.pop(0).cancel()
    task = asyncio.get_running_loop().create_task(_copy(run, key))
    going.append(task)
    _copies.add(task)
    task.add_done_callback(_copies.discard)


async def _copy(run: registry.Run, key: str) -> None:
    client = async_cache.redis_client()
    if client is None:
        return
    name = async_cache.redis_key(key)
    limit = registry.max_events()
    try:
        with contextlib.suppress(asyncio.CancelledError):  # ended early: a newer copy
            async for chunk in run.listen():
                pipe = client.pipeline(transaction=False)
                pipe.xadd(name, {"d": chunk}, maxlen=limit, approximate=True)
                pipe.expire(name, EXPIRE_WHILE_RUNNING_SECONDS)
                await pipe.execute()
        pipe = client.pipeline(transaction=False)
        pipe.xadd(name, {"d": END, "end": b"1"}, maxlen=limit, approximate=True)
        pipe.expire(name, EXPIRE_AFTER_RUN_SECONDS)
        await pipe.execute()
    except Exception:
        logger.exception("Could not copy a run's events to Redis")


async def follow_stream(
    key: str,
    still_running: Callable[[], Awaitable[bool]],
    *,
    first_wait: float = 3.0,
    ended: Callable[[], bool] | None = None,
) -> AsyncIterator[bytes]:
    """The chunks of the stream `key` until its end mark (the asker's side). Gives up
    when nothing came within `first_wait` seconds and `still_running()` says no run
    holds the thread any more (it ended meanwhile, or its holder died), and within a
    read (`BLOCK_MS`) of `ended()` saying so (the listener's access was revoked)."""
    client = async_cache.redis_client()
    if client is None:
        return
    name = async_cache.redis_key(key)
    last, waited = "0", 0.0
    while ended is None or not ended():
        answer = await client.xread({name: last}, block=BLOCK_MS, count=500)
        if not answer:
            waited += BLOCK_MS / 1000
            if waited >= first_wait:
                if not await still_running():
                    return  # ended or gone, with nothing (more) to read
                waited = 0.0
            continue
        waited = 0.0
        for entry_id, fields in answer[0][1]:
            last = entry_id
            if fields.get(b"end") or (ended is not None and ended()):
                return
            yield fields[b"d"]
