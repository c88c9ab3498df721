"""ChatKit widgets: small pure builders, data in, `WidgetRoot` out.

Only standard components (ListView, ListViewItem, Card, Row, Col, Text, Caption,
Badge, Button, Checkbox, Spacer, Form, Input, DatePicker, Select), so any ChatKit
client can render them, and each carries `copy_text` for clients that render none.
Every control's label names its todo ("buy milk" on the checkbox, `Delete “buy
milk”` on the button), which is also its accessible name.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Literal

from chatkit.actions import ActionConfig
from chatkit.widgets import (
    Badge,
    BasicRoot,
    Button,
    Caption,
    Card,
    Checkbox,
    Col,
    DatePicker,
    Form,
    Input,
    ListView,
    ListViewItem,
    Row,
    Select,
    Spacer,
    Text,
    WidgetRoot,
)
from django.utils import timezone

from todos.models import Todo

Status = Literal["open", "completed", "all"]

# Action types the widgets dispatch (chat/actions.py handles them).
TODO_COMPLETE = "todos.complete"
TODO_REOPEN = "todos.reopen"
TODO_DELETE = "todos.delete"
TODO_CREATE = "todos.create"  # the list's add form
TODO_MORE = "todos.more"  # "Show more" under a list that shows fewer than exist
CHAT_RETRY = "chat.retry"

# A list shows this many rows at first, and "Show more" adds as many again, up to
# MAX_WIDGET_ROWS_TOTAL (beyond that, a search finds the rest).
MAX_WIDGET_ROWS = 50
MAX_WIDGET_ROWS_TOTAL = 200
ROW_KEY_PREFIX = "todo-"
LIST_KEY_PREFIX = "todo-list-"
MORE_KEY = "more"
ADD_FORM_KEY = "add-form"
ERROR_CARD_KEY = "chat-error"
PREVIEW_KEY_PREFIX = "todo-preview-"
STATUSES: tuple[Status, ...] = ("open", "completed", "all")
PRIORITY_OPTIONS = [
    {"value": "low", "label": "Low priority"},
    {"value": "medium", "label": "Medium priority"},
    {"value": "high", "label": "High priority"},
]

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


def short_date(day: datetime.date, today: datetime.date) -> str:
    """ "Jan 5", with the year when it is not this year's: as the todo panel shows it."""
    text = f"{day:%b} {day.day}"
    return text if day.year == today.year else f"{text}, {day.year}"


def due_label(
    todo: Todo, today: datetime.date
) -> tuple[str, Literal["danger", "warning", "secondary"]]:
    """How a due date reads, and its tone: overdue (danger), due today (warning), else plain."""
    assert todo.due_date is not None
    if todo.due_date == today:
        return "due today", "warning"
    if todo.due_date < today and not todo.completed:
        return f"overdue · due {short_date(todo.due_date, today)}", "danger"
    return f"due {short_date(todo.due_date, today)}", "secondary"


def _todo_row(todo: Todo, today: datetime.date) -> ListViewItem:
    payload = {"id": todo.id}
    toggle = ActionConfig(type=TODO_REOPEN if todo.completed else TODO_COMPLETE, payload=payload)
    details: list[Caption | Badge] = []
    if todo.due_date is not None:
        text, tone = due_label(todo, today)
        details.append(Caption(value=text, size="sm", color=tone))
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


def todo_line(todo: Todo, today: datetime.date | None = None) -> str:
    """One todo as plain text: `- [x] #12 buy milk (high priority, due 2030-01-02)`."""
    extras = []
    if todo.priority != "medium":
        extras.append(f"{todo.priority} priority")
    if todo.due_date is not None:
        extras.append(f"due {todo.due_date.isoformat()}")
        if today is not None and todo.due_date == today:
            extras.append("due today")
        elif today is not None and todo.due_date < today and not todo.completed:
            extras.append("overdue")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return f"- [{'x' if todo.completed else ' '}] #{todo.id} {todo.title}{suffix}"


def todo_list_widget(
    todos: Sequence[Todo],
    *,
    heading: str,
    total: int | None = None,
    status: Status | None = None,
    limit: int = MAX_WIDGET_ROWS,
    today: datetime.date | None = None,
) -> tuple[ListView, str]:
    """A list of todos with per-row actions, an add form, and its copy text.

    At most `limit` rows; when `total` (how many exist, default: as many as given)
    is more, a last row says how many more and, for a list of a known `status`,
    offers to show more. An empty list still renders (as a status line).
    """
    today = today or timezone.localdate()
    shown = list(todos[:limit])
    total = max(total if total is not None else len(todos), len(shown))
    more = total - len(shown)
    rows = [_todo_row(todo, today) for todo in shown] or [
        ListViewItem(key="empty", children=[Text(value="Nothing here.", size="sm")])
    ]
    if more:
        rows.append(_more_row(more, status=status, shown=len(shown)))
    rows.append(_add_form_row(status))
    widget = ListView(
        key=f"{LIST_KEY_PREFIX}{status}" if status else None,
        status={"text": heading, "icon": "check-circle"},
        children=rows,
    )
    lines = [heading, *(todo_line(todo, today) for todo in shown)]
    if more:
        lines.append(f"…and {more} more.")
    if not shown:
        lines.append("Nothing here.")
    return widget, "\n".join(lines)


def _more_row(more: int, *, status: Status | None, shown: int) -> ListViewItem:
    """ "and N more", with a "Show more" button while the widget may still grow."""
    children: list = [Caption(value=f"and {more} more", size="sm"), Spacer()]
    if status is not None and shown < MAX_WIDGET_ROWS_TOTAL:
        step = min(MAX_WIDGET_ROWS, more, MAX_WIDGET_ROWS_TOTAL - shown)
        children.append(
            Button(
                label=f"Show {step} more",
                size="sm",
                variant="outline",
                onClickAction=ActionConfig(
                    type=TODO_MORE, payload={"status": status, "limit": shown + step}
                ),
            )
        )
    else:
        children.append(Caption(value="Search to find the rest.", size="sm"))
    return ListViewItem(key=MORE_KEY, gap=2, align="center", children=children)


def _add_form_row(status: Status | None) -> ListViewItem:
    """The add form: a title, an optional due date and priority; submits todos.create."""
    payload = {"status": status} if status else {}
    return ListViewItem(
        key=ADD_FORM_KEY,
        children=[
            Form(
                direction="row",
                gap=2,
                align="center",
                wrap="wrap",
                onSubmitAction=ActionConfig(type=TODO_CREATE, payload=payload),
                children=[
                    Input(name="title", placeholder="New todo title", required=True),
                    DatePicker(name="due_date", placeholder="Due date", clearable=True),
                    Select(
                        name="priority",
                        placeholder="Priority",
                        defaultValue="medium",
                        options=PRIORITY_OPTIONS,  # type: ignore[arg-type]
                    ),
                    Button(label="Add todo", submit=True, size="sm", style="primary"),
                ],
            )
        ],
    )


def list_status(widget: WidgetRoot) -> Status | None:
    """The status (open, completed, all) a list widget was built for, if it says."""
    key = getattr(widget, "key", None) or ""
    status = key[len(LIST_KEY_PREFIX) :] if key.startswith(LIST_KEY_PREFIX) else None
    return status if status in STATUSES else None  # type: ignore[return-value]


def todo_preview_widget(todo: Todo, today: datetime.date | None = None) -> tuple[BasicRoot, str]:
    """One todo's details and actions, and its copy text: what a tag's preview shows
    (`GET /api/chatkit/entities/<id>/preview`, ChatKit's `entities.onRequestPreview`)."""
    today = today or timezone.localdate()
    payload = {"id": todo.id}
    facts: list = [
        Badge(
            label="done" if todo.completed else "open",
            color="success" if todo.completed else "info",
            size="sm",
        ),
        Badge(
            label=f"{todo.priority} priority", color=_PRIORITY_COLOR.get(todo.priority), size="sm"
        ),
    ]
    if todo.due_date is not None:
        text, tone = due_label(todo, today)
        facts.append(Caption(value=text, size="sm", color=tone))
    body: list = [
        Text(value=todo.title, weight="semibold"),
        Row(gap=2, align="center", children=facts),
    ]
    if todo.description:
        body.append(Text(value=todo.description, size="sm", color="secondary"))
    toggle = ActionConfig(type=TODO_REOPEN if todo.completed else TODO_COMPLETE, payload=payload)
    body.append(
        Row(
            gap=2,
            children=[
                Button(
                    label=f"{'Reopen' if todo.completed else 'Complete'} “{todo.title}”",
                    size="sm",
                    style="secondary",
                    onClickAction=toggle,
                ),
                Button(
                    label=f"Delete “{todo.title}”",
                    size="sm",
                    variant="ghost",
                    color="danger",
                    onClickAction=ActionConfig(type=TODO_DELETE, payload=payload),
                ),
            ],
        )
    )
    # ChatKit's entity previews take a Basic root: the same components, as JSON.
    preview = BasicRoot.model_validate(
        {
            "type": "Basic",
            "key": f"{PREVIEW_KEY_PREFIX}{todo.id}",
            "direction": "col",
            "gap": 2,
            "padding": 3,
            "children": [part.model_dump(mode="json", exclude_none=True) for part in body],
        }
    )
    return preview, todo_line(todo, today)[2:]


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
