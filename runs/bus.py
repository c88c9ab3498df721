"""Stopping a run held by another worker: a message to every worker's runs channel.

With Redis (REDIS_URL) the channel layer reaches every worker; each one listens
on its own channel in the group `runs` (from its first run on) and stops the run
a message names if it holds it, or copies it into a Redis stream for a re-attach
(runs/mirror.py). Without Redis there is one worker, and the run is
in this process's registry.

Redis down must not break a turn (config/tests/test_faults.py; the rate limit and
the turn lock fail open): when joining the group fails, the worker logs one warning
for the outage and goes on with its own registry alone (a run here is still stopped
and re-attached from this worker; another worker cannot reach it until Redis is back),
trying again at most every `RETRY_SECONDS`, so turns in an outage pay nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time

from channels.layers import InMemoryChannelLayer, get_channel_layer

from runs import mirror, registry

logger = logging.getLogger(__name__)

GROUP = "runs"
STOP = "runs.stop"
COPY = "runs.copy"
# channels_redis forgets a group's members after a day: join again well before.
REJOIN_SECONDS = 3600.0
# After a failed join, turns go on without the channel this long before one tries again.
RETRY_SECONDS = 30.0
# A join that takes longer than this counts as failed (an unreachable host, not refused).
JOIN_TIMEOUT_SECONDS = 2.0

_listener: asyncio.Task[None] | None = None
_joined_at = 0.0
_failed_at: float | None = None  # the last failed join of an outage; None when joined


def _shared_layer():
    layer = get_channel_layer()
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return None  # one process: its registry is the whole truth
    return layer


async def listen() -> None:
    """Make sure this worker hears stop messages (idempotent, cheap once started).

    Never raises: with the channel layer unreachable the worker serves its own runs
    (one warning per outage, see above)."""
    global _listener, _joined_at, _failed_at
    layer = _shared_layer()
    if layer is None:
        return
    now = time.monotonic()
    if _listener is not None and not _listener.done():
        if now - _joined_at < REJOIN_SECONDS:
            return
        _listener.cancel()
        _listener = None
    if _failed_at is not None and now - _failed_at < RETRY_SECONDS:
        return
    try:
        async with asyncio.timeout(JOIN_TIMEOUT_SECONDS):
            channel = await layer.new_channel()
            await layer.group_add(GROUP, channel)
    except Exception as exc:  # noqa: BLE001 - Redis down must not stop a turn (above)
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
    _joined_at = time.monotonic()
    _listener = asyncio.get_running_loop().create_task(_receive(layer, channel))


async def _receive(layer, channel: str) -> None:
    while True:
        try:
            message = await layer.receive(channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("Runs channel failed; listening again", exc_info=True)
            await asyncio.sleep(1)
            continue
        run = registry.running(str(message.get("thread_id")))
        if run is None:
            continue
        if message.get("type") == STOP:
            run.stop()
        elif message.get("type") == COPY:
            mirror.copy_to_stream(run, str(message["stream"]))


def shared() -> bool:
    """Whether other workers can be reached (Redis)."""
    return _shared_layer() is not None


async def copy_elsewhere(thread_id: str, stream: str) -> None:
    """Ask the worker that holds `thread_id`'s run to copy it into `stream`."""
    layer = _shared_layer()
    if layer is not None:
        await layer.group_send(GROUP, {"type": COPY, "thread_id": thread_id, "stream": stream})


async def stop_elsewhere(thread_id: str) -> None:
    """Ask every worker to stop the run holding `thread_id` (best effort)."""
    layer = _shared_layer()
    if layer is None:
        return
    try:
        await layer.group_send(GROUP, {"type": STOP, "thread_id": thread_id})
    except Exception:
        logger.exception("Could not send a stop to the other workers")
