"""Best-effort messages to a channel-layer group, from sync or async code.

Todo changes and revocations are stored before they are announced; the socket
message only tells live clients sooner, so a failure to send is logged, never
raised into the request that made the change. The channel layer unreachable (Redis
down) is logged once per outage: a warning at the first failed send, an info at the
first send that works again; any other failure is logged with its traceback.

From async code with channels_redis's pub/sub layer on one plain `redis://` host (the
shipped configuration), a message is published on a connection of our own
(config/layer_publisher.py, a shortcut CHATKIT_FAST_PATHS=0 turns off).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from redis import exceptions as redis_errors

from config.layer_publisher import publisher_for

logger = logging.getLogger(__name__)

# What an unreachable channel layer raises (refused, reset, timed out, name not found).
UNREACHABLE = (OSError, TimeoutError, redis_errors.ConnectionError, redis_errors.TimeoutError)
# The channel layer the last send found unreachable (its outage is logged once); a
# layer built anew (other settings) starts afresh.
_down: weakref.ref[Any] | None = None

# Sends started from async code, held until done: the event loop keeps only a weak
# reference to a task, so one nobody holds can be garbage-collected mid-send.
sending: set[asyncio.Task[None]] = set()


def send_to_group(group: str, message: dict[str, Any], *, what: str) -> None:
    """Send `message` to `group` on any worker; `what` names it in failure logs."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        # Called from async code on the loop's own thread (async_to_sync would
        # refuse): send in the background; the change is already stored.
        publisher = publisher_for(layer, loop) if settings.CHATKIT_FAST_PATHS else None
        send = layer.group_send if publisher is None else publisher.publish
        task = loop.create_task(send(group, message))
        sending.add(task)
        task.add_done_callback(sending.discard)
        task.add_done_callback(lambda done: _outcome(done, layer, what))
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception as exc:  # noqa: BLE001 - logged (below), never raised into the change
        _failed(exc, layer, what)
    else:
        _sent()


def _outcome(task: asyncio.Task[None], layer: Any, what: str) -> None:
    if task.cancelled():
        return
    if task.exception() is not None:
        _failed(task.exception(), layer, what)
    else:
        _sent()


def _failed(exc: BaseException, layer: Any, what: str) -> None:
    global _down
    if not isinstance(exc, UNREACHABLE):
        logger.error("Could not send %s to the channel layer", what, exc_info=exc)
        return
    if _down is None or _down() is not layer:
        _down = weakref.ref(layer)
        logger.warning(
            "Channel layer unreachable (%s: %s); live updates and socket closes are not "
            "sent until it is back (logged once)",
            type(exc).__name__,
            exc,
        )


def _sent() -> None:
    global _down
    if _down is not None:
        _down = None
        logger.info("Channel layer reachable again; live updates are sent")
