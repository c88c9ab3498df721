"""Todo change events for live clients: one channel-layer group per user.

`todos.services` calls `publish_todo_change` after each commit; the websocket
consumer (`todos.consumers.TodoConsumer`) forwards the events to the browser.
"""

from __future__ import annotations

from typing import Any, Literal

from accounts.revocation import user_group
from config.broadcast import send_to_group

TodoChange = Literal["created", "updated", "deleted"]

# The channel-layer message type; Channels dispatches it to `TodoConsumer.todo_change`.
MESSAGE_TYPE = "todo.change"


def group_name(user_id: int) -> str:
    """The group every live connection of one user joins (accounts owns its name:
    revocations are sent to it too)."""
    return user_group(user_id)


def change_message(*, kind: TodoChange, todo: dict[str, Any]) -> dict[str, Any]:
    """What the consumer sends to the browser: {"type": "todo.<kind>", "todo": {...}}."""
    return {"type": f"todo.{kind}", "todo": todo}


def publish_todo_change(*, user_id: int, kind: TodoChange, todo: dict[str, Any]) -> None:
    """Tell the owner's live clients that a todo changed. Call after commit."""
    message = {"type": MESSAGE_TYPE, "event": change_message(kind=kind, todo=todo)}
    send_to_group(group_name(user_id), message, what="a todo change")
