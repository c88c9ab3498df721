"""Widget actions (`threads.custom_action`): validate the payload, then one small
handler per action type, acting through todos.services for the caller only.

Payloads come from the client and are untrusted: `parse_action` turns anything
that does not validate into SPEC's 400 before a stream starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chatkit.actions import Action
from chatkit.store import Store
from chatkit.types import HiddenContextItem, ThreadCustomActionParams, WidgetItem
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from accounts.models import User
from chat.context import RequestContext
from chat.widgets import (
    CHAT_RETRY,
    TODO_COMPLETE,
    TODO_DELETE,
    TODO_REOPEN,
    list_heading,
    todo_ids,
    todo_list_widget,
)
from config.exceptions import BadRequest
from todos import selectors, services
from todos.models import Todo

TODO_ACTIONS = (TODO_COMPLETE, TODO_REOPEN, TODO_DELETE)
_PAST_TENSE = {TODO_COMPLETE: "completed", TODO_REOPEN: "reopened", TODO_DELETE: "deleted"}


class TodoPayload(BaseModel):
    """`{"id": <todo id>}`; clients may add keys of their own, which are ignored."""

    model_config = ConfigDict(extra="ignore")
    id: StrictInt = Field(gt=0, le=2**63 - 1)


class RetryPayload(BaseModel):
    """`{"item_id": <user message id>}` from an error card's "Try again"."""

    model_config = ConfigDict(extra="ignore")
    item_id: str = Field(min_length=1, max_length=255)


class ActionInvalid(BadRequest):
    """An action of an unknown type, or whose payload does not validate."""


def parse_action(action: Action[str, Any]) -> TodoPayload | RetryPayload:
    """The validated payload of an action this server knows; else ActionInvalid (400)."""
    model: type[TodoPayload] | type[RetryPayload]
    if action.type in TODO_ACTIONS:
        model = TodoPayload
    elif action.type == CHAT_RETRY:
        model = RetryPayload
    else:
        raise ActionInvalid(f"Unknown action type '{action.type[:64]}'.")
    try:
        return model.model_validate(action.payload)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ())) or "payload"
        raise ActionInvalid(f"Invalid payload for '{action.type}' ({where}).") from None


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


async def refreshed_widget(*, user: User, sender: WidgetItem | None) -> WidgetItem | None:
    """The sender's todo list rebuilt from the database (deleted todos drop out)."""
    if sender is None:
        return None
    ids = todo_ids(sender.widget)
    if not ids:
        return None
    todos = await selectors.atodo_list_by_ids(user=user, ids=ids)
    widget, copy_text = todo_list_widget(todos, heading=list_heading(sender.widget))
    return sender.model_copy(update={"widget": widget, "copy_text": copy_text})
