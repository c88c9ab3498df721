"""Todo change events for live clients (filled in by the realtime work)."""

from __future__ import annotations

from typing import Any, Literal

TodoChange = Literal["created", "updated", "deleted"]


def publish_todo_change(*, user_id: int, kind: TodoChange, todo: dict[str, Any]) -> None:
    """Tell the owner's live clients that a todo changed. Call after commit."""
