"""Widget actions (`threads.custom_action`): validate the payload, then one small
handler per action type, acting through todos.services for the caller only.

Payloads come from the client and are untrusted: `parse_action` turns anything
that does not validate into SPEC's 400 before a stream starts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from chatkit.actions import Action
from chatkit.errors import CustomStreamError
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    ClientEffectEvent,
    HiddenContextItem,
    SDKHiddenContextItem,
    ThreadCustomActionParams,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
)
from django.utils import timezone
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
)

from accounts.models import User
from chat.context import RequestContext
from chat.widgets import (
    ADD_FORM_KEY,
    CHAT_RETRY,
    MAX_WIDGET_ROWS,
    MAX_WIDGET_ROWS_TOTAL,
    TODO_COMPLETE,
    TODO_CREATE,
    TODO_DELETE,
    TODO_MORE,
    TODO_REOPEN,
    Status,
    error_card_used,
    list_heading,
    list_status,
    retry_target,
    todo_ids,
    todo_list_widget,
)
from config.errors import first_validation_error
from config.exceptions import BadRequest
from todos import selectors, services
from todos.exceptions import TodoInvalid, TodoNotFound
from todos.models import Todo

TODO_ACTIONS = (TODO_COMPLETE, TODO_REOPEN, TODO_DELETE)
TODOS_CHANGED_EFFECT = "todos.changed"

MSG_UNKNOWN_TODO = "That todo was not found; it may have been deleted."
MSG_NOT_RETRYABLE = "This message can't be tried again."
_PAST_TENSE = {TODO_COMPLETE: "completed", TODO_REOPEN: "reopened", TODO_DELETE: "deleted"}


class TodoPayload(BaseModel):
    """`{"id": <todo id>}`; clients may add keys of their own, which are ignored."""

    model_config = ConfigDict(extra="ignore")
    id: StrictInt = Field(gt=0, le=2**63 - 1)


class RetryPayload(BaseModel):
    """`{"item_id": <user message id>}` from an error card's "Try again"."""

    model_config = ConfigDict(extra="ignore")
    item_id: str = Field(min_length=1, max_length=255)


_STATUS_FILTER: dict[str, bool | None] = {"open": False, "completed": True, "all": None}


def _check(clean: Callable[[Any], Any], value: Any) -> Any:
    """A todos.services rule as a pydantic check: its message becomes the error's."""
    try:
        return clean(value)
    except TodoInvalid as exc:
        raise ValueError(exc.message) from None


class CreatePayload(BaseModel):
    """The add form's fields: `title`, optional `due_date` (YYYY-MM-DD) and `priority`."""

    model_config = ConfigDict(extra="ignore")
    title: str
    due_date: str | None = None
    priority: str | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _check(services.clean_title, value)

    @field_validator("due_date")
    @classmethod
    def _due_date(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        # A date picker may send a whole ISO timestamp: its day is the date.
        if len(value) > 10 and value[10] == "T":
            value = value[:10]
        day = _check(services.clean_due_date, value)
        return day.isoformat() if day is not None else None

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: str | None) -> str:
        return _check(services.clean_priority, value or "medium")


class MorePayload(BaseModel):
    """`{"status": "open"|"completed"|"all", "limit": n}` from a list's "Show more"."""

    model_config = ConfigDict(extra="ignore")
    status: Status
    limit: StrictInt = Field(gt=0, le=MAX_WIDGET_ROWS_TOTAL)


Payload = TodoPayload | RetryPayload | CreatePayload | MorePayload
_PAYLOADS: dict[str, type[Payload]] = {
    **dict.fromkeys(TODO_ACTIONS, TodoPayload),
    CHAT_RETRY: RetryPayload,
    TODO_CREATE: CreatePayload,
    TODO_MORE: MorePayload,
}


class ActionInvalid(BadRequest):
    """An action of an unknown type, or whose payload does not validate."""


def parse_action(action: Action[str, Any]) -> Payload:
    """The validated payload of an action this server knows; else ActionInvalid (400)."""
    model = _PAYLOADS.get(action.type)
    if model is None:
        raise ActionInvalid(f"Unknown action type '{action.type[:64]}'.")
    try:
        return model.model_validate(action.payload)
    except ValidationError as exc:
        kind, where, message = first_validation_error(exc)
        rule = f": {message}" if kind == "value_error" else ""  # a todos.services rule
        raise ActionInvalid(
            f"Invalid payload for '{action.type}' ({where or 'payload'}){rule}"
        ) from None


async def check_action_request(
    store: Store[RequestContext], params: ThreadCustomActionParams, context: RequestContext
) -> None:
    """Refuse what no handler could do: a bad action (400), a missing item (404,
    NotFoundError), an item that is not a widget (400)."""
    parse_action(params.action)
    if params.item_id is None:
        if params.action.type == CHAT_RETRY:
            raise ActionInvalid("'chat.retry' comes from an error card: item_id is required.")
        return
    item = await store.load_item(params.thread_id, params.item_id, context)
    if not isinstance(item, WidgetItem):
        raise ActionInvalid("Actions must come from a widget item.")


@dataclass
class TodoActionResult:
    todo: Todo
    widget: WidgetItem | None
    hidden: HiddenContextItem


async def apply_todo_action(
    *,
    user: User,
    action_type: str,
    todo_id: int,
    sender: WidgetItem | None,
    thread_id: str,
    hidden_id: str,
) -> TodoActionResult:
    """Complete, reopen or delete one of the user's todos (TodoNotFound otherwise),
    and say what the widget and the model should now show and know."""
    if action_type == TODO_DELETE:
        todo = await services.atodo_delete(user=user, todo_id=todo_id)
    else:
        completed = action_type == TODO_COMPLETE
        todo = await services.atodo_set_completed(user=user, todo_id=todo_id, completed=completed)
    brief = json.dumps({"id": todo.pk, "title": todo.title}, ensure_ascii=False)
    hidden = HiddenContextItem(
        id=hidden_id,
        thread_id=thread_id,
        created_at=timezone.now(),
        content=f"The user {_PAST_TENSE[action_type]} a todo from a widget: {brief}",
    )
    return TodoActionResult(
        todo=todo, widget=await refreshed_widget(user=user, sender=sender), hidden=hidden
    )


def is_todo_list(widget: Any) -> bool:
    """A list widget of ours: it names a status, shows todos, or has the add form."""
    keys = {row.key for row in getattr(widget, "children", None) or [] if hasattr(row, "key")}
    return bool(list_status(widget) or todo_ids(widget) or keys & {"empty", ADD_FORM_KEY})


def _matches(todo: Todo, status: Status) -> bool:
    completed = _STATUS_FILTER[status]
    return completed is None or todo.completed == completed


async def refreshed_widget(
    *, user: User, sender: WidgetItem | None, first: int | None = None
) -> WidgetItem | None:
    """The sender's todo list rebuilt from the database (deleted todos drop out), with
    the todo `first` (just added) on top, and "and N more" counted again."""
    if sender is None or not is_todo_list(sender.widget):
        return None
    ids = todo_ids(sender.widget)
    if first is not None:
        ids = [first, *(todo_id for todo_id in ids if todo_id != first)]
    todos = await selectors.atodo_list_by_ids(user=user, ids=ids) if ids else []
    status = list_status(sender.widget)
    total = None
    if status is not None:
        count = await selectors.atodo_count(user=user, completed=_STATUS_FILTER[status])
        shown_matching = sum(1 for todo in todos if _matches(todo, status))
        total = len(todos) + max(0, count - shown_matching)
    widget, copy_text = todo_list_widget(
        todos,
        heading=list_heading(sender.widget),
        total=total,
        status=status,
        limit=max(MAX_WIDGET_ROWS, len(todos)),
    )
    return sender.model_copy(update={"widget": widget, "copy_text": copy_text})


# --- the handlers (TodoChatKitServer.action dispatches to them) ---------------------


async def todo_action_events(
    store: Store[RequestContext],
    thread: ThreadMetadata,
    action_type: str,
    payload: TodoPayload,
    sender: WidgetItem | None,
    context: RequestContext,
) -> AsyncIterator[ThreadStreamEvent]:
    """todos.complete / reopen / delete: the change, the widget in place, a note, the effect."""
    try:
        result = await apply_todo_action(
            user=context.user,
            action_type=action_type,
            todo_id=payload.id,
            sender=sender,
            thread_id=thread.id,
            hidden_id=store.generate_item_id("message", thread, context),
        )
    except TodoNotFound:
        # Show the list as it is now (the todo may be gone), then say so.
        widget = await refreshed_widget(user=context.user, sender=sender)
        if widget is not None:
            yield ThreadItemReplacedEvent(item=widget)
        raise CustomStreamError(MSG_UNKNOWN_TODO, allow_retry=False) from None
    if result.widget is not None:
        yield ThreadItemReplacedEvent(item=result.widget)
    yield ThreadItemDoneEvent(item=result.hidden)  # saved, never sent to the client
    yield ClientEffectEvent(name=TODOS_CHANGED_EFFECT, data={})


async def create_events(
    store: Store[RequestContext],
    thread: ThreadMetadata,
    payload: CreatePayload,
    sender: WidgetItem | None,
    context: RequestContext,
) -> AsyncIterator[ThreadStreamEvent]:
    """todos.create, the list's add form: the todo for the caller, on top of the list."""
    try:
        todo = await services.atodo_create(
            user=context.user,
            title=payload.title,
            priority=payload.priority or "medium",
            due_date=payload.due_date,
        )
    except TodoInvalid as exc:  # validated already; a rule the payload check missed
        raise CustomStreamError(exc.message, allow_retry=False) from None
    widget = await refreshed_widget(user=context.user, sender=sender, first=todo.pk)
    if widget is not None:
        yield ThreadItemReplacedEvent(item=widget)
    brief = json.dumps({"id": todo.pk, "title": todo.title}, ensure_ascii=False)
    yield ThreadItemDoneEvent(
        item=HiddenContextItem(
            id=store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=timezone.now(),
            content=f"The user added a todo with a widget's form: {brief}",
        )
    )
    yield ClientEffectEvent(name=TODOS_CHANGED_EFFECT, data={})


async def more_events(
    payload: MorePayload, sender: WidgetItem | None, context: RequestContext
) -> AsyncIterator[ThreadStreamEvent]:
    """todos.more, a list's "Show more": the same list with up to `limit` rows."""
    if sender is None or not is_todo_list(sender.widget):
        raise CustomStreamError("This list can't show more.", allow_retry=False)
    completed = _STATUS_FILTER[payload.status]
    count = await selectors.atodo_count(user=context.user, completed=completed)
    todos = await selectors.atodo_newest(
        user=context.user, completed=completed, limit=payload.limit
    )
    widget, copy_text = todo_list_widget(
        todos,
        heading=list_heading(sender.widget),
        total=count,
        status=payload.status,
        limit=payload.limit,
    )
    yield ThreadItemReplacedEvent(
        item=sender.model_copy(update={"widget": widget, "copy_text": copy_text})
    )


Respond = Callable[
    [ThreadMetadata, UserMessageItem | None, RequestContext], AsyncIterator[ThreadStreamEvent]
]


async def retry_events(
    store: Store[RequestContext],
    respond: Respond,
    thread: ThreadMetadata,
    payload: RetryPayload,
    sender: WidgetItem | None,
    context: RequestContext,
) -> AsyncIterator[ThreadStreamEvent]:
    """chat.retry, an error card's "Try again": rerun its user message once, if it is
    still the latest; what followed it goes, as with threads.retry_after_item."""
    if sender is None or retry_target(sender.widget) != payload.item_id:
        raise CustomStreamError(MSG_NOT_RETRYABLE, allow_retry=False)
    # The button is spent before anything else can fail.
    yield ThreadItemReplacedEvent(
        item=sender.model_copy(update={"widget": error_card_used(sender.widget)})
    )
    try:
        message = await store.load_item(thread.id, payload.item_id, context)
        later = await store.load_thread_items(thread.id, message.id, 200, "asc", context)
    except NotFoundError:
        raise CustomStreamError(MSG_NOT_RETRYABLE, allow_retry=False) from None
    if (
        not isinstance(message, UserMessageItem)
        or later.has_more
        or any(isinstance(item, UserMessageItem) for item in later.data)
    ):
        raise CustomStreamError(MSG_NOT_RETRYABLE, allow_retry=False)
    for item in later.data:  # the card included
        if isinstance(item, HiddenContextItem | SDKHiddenContextItem):
            await store.delete_thread_item(thread.id, item.id, context)
        else:
            yield ThreadItemRemovedEvent(item_id=item.id)
    context.rerun = True
    async for event in respond(thread, message, context):
        yield event
