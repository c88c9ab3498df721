"""ChatKit widgets: small pure builders, data in, `WidgetRoot` out.

Only standard components (ListView, ListViewItem, Card, Row, Col, Text, Caption,
Badge, Button, Checkbox, Spacer), so any ChatKit client can render them, and each
carries `copy_text` for clients that render none. Every control's label names its
todo ("buy milk" on the checkbox, `Delete “buy milk”` on the button), which is
also its accessible name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from chatkit.actions import ActionConfig
from chatkit.widgets import (
    Badge,
    Button,
    Caption,
    Card,
    Checkbox,
    Col,
    ListView,
    ListViewItem,
    Row,
    Spacer,
    Text,
    WidgetRoot,
)

from todos.models import Todo

# Action types the widgets dispatch (chat/actions.py handles them).
TODO_COMPLETE = "todos.complete"
TODO_REOPEN = "todos.reopen"
TODO_DELETE = "todos.delete"
CHAT_RETRY = "chat.retry"

# One widget never lists more (the copy text says how many are left out).
MAX_WIDGET_ROWS = 50
ROW_KEY_PREFIX = "todo-"
ERROR_CARD_KEY = "chat-error"

_PRIORITY_COLOR: dict[str, Literal["danger", "secondary", "info"]] = {
    "high": "danger",
    "medium": "secondary",
    "low": "info",
}


def row_key(todo_id: int) -> str:
    return f"{ROW_KEY_PREFIX}{todo_id}"


def todo_ids(widget: WidgetRoot) -> list[int]:
    """The ids of the todos a list widget shows, in its order."""
    if not isinstance(widget, ListView):
        return []
    ids = []
    for row in widget.children:
        key = row.key or ""
        if key.startswith(ROW_KEY_PREFIX) and key[len(ROW_KEY_PREFIX) :].isdigit():
            ids.append(int(key[len(ROW_KEY_PREFIX) :]))
    return ids


def _todo_row(todo: Todo) -> ListViewItem:
    payload = {"id": todo.id}
    toggle = ActionConfig(type=TODO_REOPEN if todo.completed else TODO_COMPLETE, payload=payload)
    details: list[Caption | Badge] = []
    if todo.due_date is not None:
        details.append(Caption(value=f"due {todo.due_date.isoformat()}", size="sm"))
    details.append(Badge(label=todo.priority, color=_PRIORITY_COLOR.get(todo.priority), size="sm"))
    return ListViewItem(
        key=row_key(todo.id),
        gap=2,
        align="center",
        children=[
            Checkbox(
                name=f"done-{todo.id}",
                label=todo.title,
                defaultChecked=todo.completed,
                onChangeAction=toggle,
            ),
            Spacer(),
            *details,
            Button(
                label=f"Delete “{todo.title}”",
                size="sm",
                variant="ghost",
                color="danger",
                onClickAction=ActionConfig(type=TODO_DELETE, payload=payload),
            ),
        ],
    )


def todo_line(todo: Todo) -> str:
    """One todo as plain text: `- [x] #12 buy milk (high priority, due 2030-01-02)`."""
    extras = []
    if todo.priority != "medium":
        extras.append(f"{todo.priority} priority")
    if todo.due_date is not None:
        extras.append(f"due {todo.due_date.isoformat()}")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return f"- [{'x' if todo.completed else ' '}] #{todo.id} {todo.title}{suffix}"


def todo_list_widget(todos: Sequence[Todo], *, heading: str) -> tuple[ListView, str]:
    """A list of todos with per-row actions, and its copy text.

    At most MAX_WIDGET_ROWS rows; an empty list still renders (as a status line).
    """
    shown = list(todos[:MAX_WIDGET_ROWS])
    widget = ListView(
        status={"text": heading, "icon": "check-circle"},
        children=[_todo_row(todo) for todo in shown]
        or [ListViewItem(key="empty", children=[Text(value="Nothing here.", size="sm")])],
    )
    lines = [heading, *(todo_line(todo) for todo in shown)]
    if len(todos) > len(shown):
        lines.append(f"…and {len(todos) - len(shown)} more.")
    if not shown:
        lines.append("Nothing here.")
    return widget, "\n".join(lines)


def list_heading(widget: WidgetRoot) -> str:
    """The heading a list widget was built with."""
    status = getattr(widget, "status", None) or {}
    return str(status.get("text") or "Your todos")


def error_card(message: str, *, user_message_id: str | None) -> Card:
    """A failed turn, kept in the thread: the message and a "Try again" button."""
    children: list = [
        Row(gap=2, align="center", children=[Text(value=message, size="sm", color="danger")])
    ]
    if user_message_id is not None:
        children.append(
            Row(
                children=[
                    Button(
                        label="Try again",
                        size="sm",
                        style="secondary",
                        onClickAction=ActionConfig(
                            type=CHAT_RETRY, payload={"item_id": user_message_id}
                        ),
                    )
                ]
            )
        )
    return Card(key=ERROR_CARD_KEY, size="sm", children=[Col(gap=2, children=children)])


def error_card_used(card: WidgetRoot) -> WidgetRoot:
    """The same card once its "Try again" has run: the button disabled, no action."""
    used = card.model_copy(deep=True)
    for node in _walk(used):
        action = getattr(node, "onClickAction", None)
        if isinstance(node, Button) and action is not None and action.type == CHAT_RETRY:
            node.label, node.disabled, node.onClickAction = "Tried again", True, None
    return used


def retry_target(card: WidgetRoot) -> str | None:
    """The user message id an error card's live "Try again" button reruns, if any."""
    for node in _walk(card):
        action = getattr(node, "onClickAction", None)
        if isinstance(node, Button) and action is not None and action.type == CHAT_RETRY:
            item_id = (action.payload or {}).get("item_id")
            return item_id if isinstance(item_id, str) else None
    return None


def _walk(node: object) -> list[object]:
    """A widget's components, depth first."""
    found = [node]
    children = getattr(node, "children", None)
    if isinstance(children, list):
        for child in children:
            found += _walk(child)
    elif children is not None:
        found += _walk(children)
    return found
