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

from config.db import calling_loop

logger = logging.getLogger(__name__)

_sending: set[asyncio.Task[None]] = set()


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
        _send_soon(layer, group, message, what)
        return
    caller = calling_loop()
    if caller is not None and not caller.is_closed():
        # A database call of an async request (config/db.run_sync): hand the send to
        # the request's loop and go on, rather than hold this thread (and the turn
        # that waits for it) until Redis has answered.
        caller.call_soon_threadsafe(_send_soon, layer, group, message, what)
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("Could not send %s to the channel layer", what)


def _send_soon(layer: Any, group: str, message: dict[str, Any], what: str) -> None:
    task = asyncio.get_running_loop().create_task(layer.group_send(group, message))
    _sending.add(task)  # a reference, so the task is not collected before it runs
    task.add_done_callback(_sending.discard)
    task.add_done_callback(lambda done: _log_failure(done, what))


def _log_failure(task: asyncio.Task[None], what: str) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("Could not send %s to the channel layer", what, exc_info=task.exception())
