"""Best-effort messages to a channel-layer group, from sync or async code.

Todo changes and revocations are stored before they are announced; the socket
message only tells live clients sooner, so a failure to send is logged, never
raised into the request that made the change.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

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
        task = loop.create_task(layer.group_send(group, message))
        sending.add(task)
        task.add_done_callback(sending.discard)
        task.add_done_callback(lambda done: _log_failure(done, what))
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("Could not send %s to the channel layer", what)


def _log_failure(task: asyncio.Task[None], what: str) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("Could not send %s to the channel layer", what, exc_info=task.exception())
