"""Asking instead of guessing: a `structured_input` item, and acting on its answer.

A tool that cannot tell which todo the user means (several open todos match the
reference), or is about to add a title that is already open, asks with one
`multiple_choice` input and stops the run. Just before the question it keeps
what it was about to do as a hidden context item (`{"pending_choice": …}`).

`threads.add_structured_input` stores the answer and calls `respond` with no
user message: the server finds the answered question not yet acted on (a hidden
`{"choice_resolved": …}` record marks those it acted on) and its pending call, and
makes that change itself, for the chosen todo only, whichever model asked. The
answer is never sent to a model to act on: a model could act on another todo than
the one chosen.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from chatkit.store import Store
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    HiddenContextItem,
    ProgressUpdateEvent,
    StructuredInputItem,
    StructuredInputMultipleChoice,
    StructuredInputMultipleChoiceOption,
    ThreadItem,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadStreamEvent,
)
from django.utils import timezone

from chat.context import RequestContext
from config.db import run_sync
from todos import services
from todos.exceptions import TodoInvalid, TodoNotFound
from todos.models import Todo

PENDING_KEY = "pending_choice"
RESOLVED_KEY = "choice_resolved"  # hidden record that a question's answer was acted on
INPUT_ID = "choice"
# The duplicate question's two answers (the option's value is what the user sees).
ADD_AGAIN = "Add it again"
DONT_ADD = "Don't add it"
# The tools that can ask which todo, and how their change reads.
WHICH_TOOLS = {
    "complete_todo": ("complete", "Marked “{title}” as done."),
    "reopen_todo": ("reopen", "Reopened “{title}”."),
    "delete_todo": ("delete", "Deleted “{title}”."),
    "update_todo": ("update", "Updated “{title}”."),
}
MSG_SKIPPED = "OK, I left your todos as they are."
MSG_GONE = "That todo is gone now, so I changed nothing."


@dataclass(frozen=True)
class PendingChoice:
    """A question asked, and the change it waits to make."""

    item_id: str
    tool: str
    fields: dict[str, Any]
    option_ids: list[int]

    def to_content(self) -> dict[str, Any]:
        return {
            PENDING_KEY: {
                "item_id": self.item_id,
                "tool": self.tool,
                "fields": self.fields,
                "option_ids": self.option_ids,
            }
        }

    @classmethod
    def from_content(cls, content: Any) -> PendingChoice | None:
        data = content.get(PENDING_KEY) if isinstance(content, dict) else None
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                item_id=str(data["item_id"]),
                tool=str(data["tool"]),
                fields=dict(data.get("fields") or {}),
                option_ids=[int(value) for value in data.get("option_ids") or []],
            )
        except (KeyError, TypeError, ValueError):
            return None


def describe(content: Any) -> str | None:
    """A pending choice or its resolution as the model reads it (None: neither)."""
    if isinstance(content, dict) and RESOLVED_KEY in content:
        return f"The app acted on the user's answer to {content[RESOLVED_KEY]}."
    pending = PendingChoice.from_content(content)
    if pending is None:
        return None
    return (
        f"The assistant asked the user a question before {pending.tool} "
        f"(structured input {pending.item_id}); the app acts on the answer itself."
    )


def _quoted(title: str) -> str:
    return f"“{title}”"


def which_question(tool: str, ref: str, candidates: Sequence[Todo]) -> str:
    verb = WHICH_TOOLS.get(tool, ("change", ""))[0]
    listed = ", ".join(f"{todo.pk} = {_quoted(todo.title)}" for todo in candidates)
    return f"More than one todo matches {_quoted(ref)} ({listed}). Which one should I {verb}?"


def duplicate_question(existing: Todo) -> str:
    return f"{_quoted(existing.title)} is already on your list (#{existing.pk}). Add it again?"


def question_items(
    *,
    thread: ThreadMetadata,
    item_id: str,
    hidden_id: str,
    tool: str,
    fields: dict[str, Any],
    question: str,
    options: list[str],
    option_ids: list[int],
) -> tuple[HiddenContextItem, StructuredInputItem]:
    """The hidden record of the pending change, and the question itself."""
    now = timezone.now()
    pending = PendingChoice(item_id=item_id, tool=tool, fields=fields, option_ids=option_ids)
    hidden = HiddenContextItem(
        id=hidden_id, thread_id=thread.id, created_at=now, content=pending.to_content()
    )
    asked = StructuredInputItem(
        id=item_id,
        thread_id=thread.id,
        created_at=now,
        inputs=[
            StructuredInputMultipleChoice(
                id=INPUT_ID,
                question=question,
                options=[StructuredInputMultipleChoiceOption(value=value) for value in options],
            )
        ],
    )
    return hidden, asked


def answered_choice(
    history_desc: Sequence[ThreadItem],
) -> tuple[StructuredInputItem, PendingChoice] | None:
    """The question of ours answered and not yet acted on, if any (the newest such):
    `threads.add_structured_input` has just answered it, whichever question it was."""
    pending: dict[str, PendingChoice] = {}
    resolved: set[str] = set()
    for item in history_desc:
        if isinstance(item, HiddenContextItem):
            if isinstance(item.content, dict) and RESOLVED_KEY in item.content:
                resolved.add(str(item.content[RESOLVED_KEY]))
            elif (record := PendingChoice.from_content(item.content)) is not None:
                pending[record.item_id] = record
    for item in history_desc:
        if (
            isinstance(item, StructuredInputItem)
            and item.status != "pending"
            and item.id in pending
            and item.id not in resolved
        ):
            return item, pending[item.id]
    return None


def _answer(item: StructuredInputItem) -> str | None:
    """The one value chosen, or None when skipped or unanswered."""
    if item.status != "answered":
        return None
    for question in item.inputs:
        if question.id == INPUT_ID and question.answer and not question.answer.skipped:
            values = question.answer.values
            return values[0] if values else None
    return None


def _apply(context: RequestContext, pending: PendingChoice, value: str) -> Todo | str:
    """The pending change for the chosen todo (or the confirmed add); a str says why not."""
    user = context.user
    if pending.tool == "add_todo":
        if value != ADD_AGAIN:
            return MSG_SKIPPED
        return services.todo_create(user=user, **pending.fields)
    try:
        todo_id = int(value)
    except ValueError:
        return MSG_SKIPPED
    if todo_id not in pending.option_ids:  # only a todo the question offered
        return MSG_SKIPPED
    match pending.tool:
        case "complete_todo" | "reopen_todo":
            completed = pending.tool == "complete_todo"
            return services.todo_set_completed(user=user, todo_id=todo_id, completed=completed)
        case "delete_todo":
            return services.todo_delete(user=user, todo_id=todo_id)
        case "update_todo":
            return services.todo_update(user=user, todo_id=todo_id, **pending.fields)
    return MSG_SKIPPED


def _done_text(tool: str, todo: Todo) -> str:
    if tool == "add_todo":
        return f"Added {_quoted(todo.title)} (#{todo.pk})."
    return WHICH_TOOLS[tool][1].format(title=todo.title)


async def choice_events(
    store: Store[RequestContext],
    thread: ThreadMetadata,
    item: StructuredInputItem,
    pending: PendingChoice,
    context: RequestContext,
) -> AsyncIterator[ThreadStreamEvent]:
    """Act on the answer: progress, the change, a note for later turns, a short answer
    (the caller sends `todos.changed` when `context.todos_changed`)."""
    yield ThreadItemDoneEvent(
        item=HiddenContextItem(
            id=store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=timezone.now(),
            content={RESOLVED_KEY: item.id},
        )
    )
    value = _answer(item)
    result: Todo | str = MSG_SKIPPED
    if value is not None:
        yield ProgressUpdateEvent(text="Making the change you chose…", icon="check")
        try:
            result = await run_sync(_apply, context, pending, value)
        except TodoNotFound:
            result = MSG_GONE
        except TodoInvalid as exc:
            result = exc.message
    if isinstance(result, Todo):
        context.todos_changed = True
        text = _done_text(pending.tool, result)
        brief = json.dumps({"id": result.pk, "title": result.title}, ensure_ascii=False)
        yield ThreadItemDoneEvent(
            item=HiddenContextItem(
                id=store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=timezone.now(),
                content=f"Tool {pending.tool} (the user's choice) -> {brief}",
            )
        )
    else:
        text = result
    yield ThreadItemDoneEvent(
        item=AssistantMessageItem(
            id=store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=timezone.now(),
            content=[AssistantMessageContent(text=text)],
        )
    )
