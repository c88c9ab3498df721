"""Stopping a run held by another worker: a message to every worker's runs channel.

With Redis (REDIS_URL) the channel layer reaches every worker; each one listens
on its own channel in the group `runs` (from its first run on) and stops the run
a message names if it holds it, or copies it into a Redis stream for a re-attach
(runs/mirror.py). Without Redis there is one worker, and the run is
in this process's registry.
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

_listener: asyncio.Task[None] | None = None
_joined_at = 0.0


def _shared_layer():
    layer = get_channel_layer()
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return None  # one process: its registry is the whole truth
    return layer


async def listen() -> None:
    """Make sure this worker hears stop messages (idempotent, cheap once started)."""
    global _listener, _joined_at
    layer = _shared_layer()
    if layer is None:
        return
    if _listener is not None and not _listener.done():
        if time.monotonic() - _joined_at < REJOIN_SECONDS:
            return
        _listener.cancel()
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)
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
