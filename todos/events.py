"""Todo change events for live clients: one channel-layer group per user.

`todos.services` calls `publish_todo_change` after each commit; the websocket
consumer (`todos.consumers.TodoConsumer`) forwards the events to the browser.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

TodoChange = Literal["created", "updated", "deleted"]

# The channel-layer message type; Channels dispatches it to `TodoConsumer.todo_change`.
MESSAGE_TYPE = "todo.change"


def group_name(user_id: int) -> str:
    """The group every live connection of one user joins."""
    return f"todos.user.{user_id}"


def change_message(*, kind: TodoChange, todo: dict[str, Any]) -> dict[str, Any]:
    """What the consumer sends to the browser: {"type": "todo.<kind>", "todo": {...}}."""
    return {"type": f"todo.{kind}", "todo": todo}


def publish_todo_change(*, user_id: int, kind: TodoChange, todo: dict[str, Any]) -> None:
    """Tell the owner's live clients that a todo changed. Call after commit."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": MESSAGE_TYPE, "event": change_message(kind=kind, todo=todo)}
    group = group_name(user_id)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        # Called from async code on the loop's own thread (async_to_sync would
        # refuse): send in the background; the commit has already happened.
        task = loop.create_task(layer.group_send(group, message))
        task.add_done_callback(_log_failure)
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # the write is committed; a live update is best effort
        logger.exception("Could not publish a todo change to the channel layer")


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error(
            "Could not publish a todo change to the channel layer", exc_info=task.exception()
        )
