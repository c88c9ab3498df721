"""Stopping a run held by another worker: a message to every worker's runs channel.

With Redis (a Redis channel layer, REDIS_URL) every worker subscribes, from its first
run on, to one Redis pub/sub channel (`<channel layer prefix>:runs`) and stops the run
a message names if it holds it, or copies it into a Redis stream for a re-attach
(runs/mirror.py). Without Redis there is one worker, and the run is in this
process's registry.

The subscription is this module's own connection, read with a blocking read: the
channel layer's receiver polls Redis ten times a second (channels_redis's pub/sub
layer, `get_message(timeout=0.1)`), which cost a worker with no socket open about
3 ms of CPU a second, idle or not: about 1 ms per turn at one user's pace
(docs/performance.md, "Runs").

Redis down must not break a turn (config/tests/test_faults.py; the rate limit and
the turn lock fail open): when subscribing fails, the worker logs one warning for
the outage and goes on with its own registry alone (a run here is still stopped and
re-attached from this worker; another worker cannot reach it until Redis is back),
trying again at most every `RETRY_SECONDS`, so turns in an outage pay nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from typing import Any

from django.conf import settings
from redis import asyncio as aioredis

from runs import mirror, registry

logger = logging.getLogger(__name__)

STOP = "runs.stop"
COPY = "runs.copy"
# After a failed subscription, turns go on without the channel this long before one tries again.
RETRY_SECONDS = 30.0
# A subscription that takes longer than this counts as failed (an unreachable host).
JOIN_TIMEOUT_SECONDS = 2.0

_listener: asyncio.Task[None] | None = None
_failed_at: float | None = None  # the last failed subscription of an outage; None when joined
# One client per event loop for sending (a stop or a copy request is rare).
_senders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, aioredis.Redis]] = (
    weakref.WeakKeyDictionary()
)


def _redis() -> tuple[str, str] | None:
    """(Redis URL, channel name) when the channel layer is Redis's; None for one process."""
    config = getattr(settings, "CHANNEL_LAYERS", {}).get("default", {})
    if not str(config.get("BACKEND", "")).startswith("channels_redis."):
        return None  # one process: its registry is the whole truth
    options = config.get("CONFIG", {})
    hosts = options.get("hosts") or ["redis://localhost:6379"]
    host = hosts[0]
    url = host if isinstance(host, str) else host.get("address")
    if not isinstance(url, str):
        return None
    return url, f"{options.get('prefix', 'asgi')}:runs"


async def listen() -> None:
    """Make sure this worker hears stop messages (idempotent, cheap once started).

    Never raises: with Redis unreachable the worker serves its own runs (one warning
    per outage, see above)."""
    global _listener, _failed_at
    redis = _redis()
    if redis is None:
        return
    loop = asyncio.get_running_loop()
    if _listener is not None and not _listener.done() and _listener.get_loop() is loop:
        return
    now = time.monotonic()
    if _failed_at is not None and now - _failed_at < RETRY_SECONDS:
        return
    url, channel = redis
    # No socket timeout: the subscriber blocks in its read until a message comes.
    client = aioredis.Redis.from_url(url, socket_connect_timeout=JOIN_TIMEOUT_SECONDS)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        async with asyncio.timeout(JOIN_TIMEOUT_SECONDS):
            await pubsub.subscribe(channel)
    except Exception as exc:  # noqa: BLE001 - Redis down must not stop a turn (above)
        await _close(client, pubsub)
        if _failed_at is None:
            logger.warning(
                "Runs channel unavailable (%s: %s); runs are stopped and re-attached on "
                "the worker that holds them only, until it is back",
                type(exc).__name__,
                exc,
            )
        _failed_at = time.monotonic()
        return
    if _failed_at is not None:
        logger.info("Runs channel reachable again; stops reach every worker")
        _failed_at = None
    _listener = loop.create_task(_receive(client, pubsub))


async def _close(client: aioredis.Redis, pubsub: Any) -> None:
    try:
        await pubsub.aclose()
        await client.aclose()
    except Exception:
        logger.debug("Closing the runs channel failed", exc_info=True)


async def _receive(client: aioredis.Redis, pubsub: Any) -> None:
    """Until the connection fails (then the next run's `listen` subscribes again)."""
    try:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                _handle(message["data"])
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.warning("Runs channel failed; subscribing again with the next run", exc_info=True)
    finally:
        await asyncio.shield(_close(client, pubsub))


def _handle(data: bytes) -> None:
    try:
        message = json.loads(data)
    except ValueError:
        logger.warning("Unreadable runs message ignored")
        return
    run = registry.running(str(message.get("thread_id")))
    if run is None:
        return
    if message.get("type") == STOP:
        run.stop()
    elif message.get("type") == COPY:
        mirror.copy_to_stream(run, str(message["stream"]))


def shared() -> bool:
    """Whether other workers can be reached (Redis)."""
    return _redis() is not None


async def _publish(message: dict[str, str]) -> None:
    redis = _redis()
    if redis is None:
        return
    url, channel = redis
    loop = asyncio.get_running_loop()
    held = _senders.get(loop)
    if held is None or held[0] != url:
        held = _senders[loop] = (
            url,
            aioredis.Redis.from_url(
                url, socket_connect_timeout=JOIN_TIMEOUT_SECONDS, socket_timeout=5
            ),
        )
    await held[1].publish(channel, json.dumps(message))


async def copy_elsewhere(thread_id: str, stream: str) -> None:
    """Ask the worker that holds `thread_id`'s run to copy it into `stream`."""
    await _publish({"type": COPY, "thread_id": thread_id, "stream": stream})


async def stop_elsewhere(thread_id: str) -> None:
    """Ask every worker to stop the run holding `thread_id` (best effort)."""
    try:
        await _publish({"type": STOP, "thread_id": thread_id})
    except Exception:
        logger.exception("Could not send a stop to the other workers")
