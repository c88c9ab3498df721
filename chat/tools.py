"""The agent's todo tools: thin adapters over todos.services for the calling user.

Each tool answers the model with compact JSON: the todo(s) on success, or
{"error": "..."} for a domain error the model should relay or fix. Changes are
also kept in the thread as hidden context, so later turns still know about them,
and recorded per user message (chat/ledger.py), so a rerun of the same message
answers with the recorded change instead of making it twice.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from agents import ModelBehaviorError, RunContextWrapper, function_tool
from chatkit.agents import AgentContext, ClientToolCall
from chatkit.icons import IconName
from chatkit.types import HiddenContextItem, ProgressUpdateEvent, ThreadItemDoneEvent
from django.utils import timezone

from accounts.models import User
from chat import choices
from chat.context import RequestContext
from chat.widgets import MAX_WIDGET_ROWS, todo_list_widget
from config.db import run_sync
from todos import selectors, services
from todos.exceptions import TodoAmbiguous, TodoInvalid, TodoNotFound
from todos.models import Todo
from todos.serializers import todo_to_dict

ToolContext = RunContextWrapper[AgentContext[RequestContext]]
Priority = Literal["low", "medium", "high"]
Status = Literal["open", "completed", "all"]

# The client tool that asks the user's browser for its calendar day and time zone.
GET_LOCAL_DATE = "get_local_date"
# Keeps one list result from flooding the model's context.
MAX_LISTED = 50
MAX_DESCRIPTION_CHARS = 300
ALREADY_APPLIED = (
    "This change was already made when this message was first answered; it was not made again."
)
_HEADINGS = {"open": "Open todos", "completed": "Completed todos", "all": "All todos"}
_STATUS_FILTER: dict[str, bool | None] = {"open": False, "completed": True, "all": None}


def dumps(data: Any) -> str:
    """Compact JSON, as the model sees it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _error(exc: TodoNotFound | TodoInvalid) -> str:
    return dumps({"error": exc.message})


def _user(ctx: ToolContext) -> User:
    return ctx.context.request_context.user


def _brief(todo: Todo) -> dict[str, Any]:
    """A todo for the model: SPEC's fields minus the timestamps, the description cut short."""
    data = todo_to_dict(todo)
    data.pop("created_at")
    data.pop("updated_at")
    if len(data["description"]) > MAX_DESCRIPTION_CHARS:
        data["description"] = data["description"][:MAX_DESCRIPTION_CHARS] + "…"
    return data


async def progress(ctx: ToolContext, text: str, icon: IconName | None = None) -> None:
    """Tell the client what the tool is doing now (a `progress_update` event)."""
    await ctx.context.stream(ProgressUpdateEvent(text=text, icon=icon))


def _quoted(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def _todos_word(count: int) -> str:
    return "1 todo" if count == 1 else f"{count} todos"


async def _note(ctx: ToolContext, tool: str, data: dict[str, Any]) -> None:
    """Keep a change in the thread as hidden context, so later turns know about it."""
    agent_context = ctx.context
    await agent_context.stream(
        ThreadItemDoneEvent(
            item=HiddenContextItem(
                id=agent_context.generate_id("message"),
                thread_id=agent_context.thread.id,
                created_at=timezone.now(),
                content=f"Tool {tool} -> {dumps(data)}",
            )
        )
    )


async def ask(
    ctx: ToolContext,
    tool: str,
    fields: dict[str, Any],
    question: str,
    options: list[str],
    option_ids: Sequence[int] = (),
) -> str:
    """Ask the user with a structured input and stop the run (chat/choices.py acts on
    the answer); the model is told it asked."""
    agent_context = ctx.context
    hidden, asked = choices.question_items(
        thread=agent_context.thread,
        item_id=agent_context.generate_id("message"),
        hidden_id=agent_context.generate_id("message"),
        tool=tool,
        fields=fields,
        question=question,
        options=options,
        option_ids=list(option_ids),
    )
    await agent_context.stream(ThreadItemDoneEvent(item=hidden))
    await agent_context.stream(ThreadItemDoneEvent(item=asked))
    agent_context.request_context.awaiting_user = True
    return dumps({"asked_user": question, "note": "Wait for the user's answer."})


async def _ask_which(
    ctx: ToolContext, tool: str, ref: str, fields: dict[str, Any], candidates: Sequence[Todo]
) -> str:
    question = choices.which_question(tool, ref, candidates)
    ids = [todo.pk for todo in candidates]
    return await ask(ctx, tool, fields, question, [str(todo_id) for todo_id in ids], ids)


async def _change(
    ctx: ToolContext,
    tool: str,
    ref: str,
    fields: dict[str, Any],
    change: Callable[[], Todo],
    *,
    before: Callable[[], Awaitable[str | None]] | None = None,
) -> str:
    """Apply one todo change once per user message, whatever reruns the turn.

    `ref` is how the model named the todo (its title for add_todo); `change` runs
    in a worker thread, inside the transaction that records it in the ledger.
    `before` runs after the ledger found no earlier run of it: a result from it
    (a question to the user) is the answer instead. A reference that matches
    several todos asks which one.
    """
    request_context = ctx.context.request_context
    ledger = request_context.ledger
    if ledger is not None:
        prior = await ledger.afind(tool, ref, fields)
        if prior is not None:
            await _note(ctx, tool, prior)
            return dumps({"todo": prior, "already_applied": True, "note": ALREADY_APPLIED})
    if before is not None and (answer := await before()) is not None:
        return answer
    try:
        if ledger is None:
            data = _brief(await run_sync(change))
        else:
            _, data = await ledger.aapply(tool, ref, fields, change, _brief)
    except TodoAmbiguous as exc:
        return await _ask_which(ctx, tool, ref, fields, exc.candidates)
    except (TodoNotFound, TodoInvalid) as exc:
        return _error(exc)
    request_context.todos_changed = True
    await _note(ctx, tool, data)
    return dumps({"todo": data})


def tool_failure(ctx: RunContextWrapper[Any], error: Exception) -> str | None:
    """Bad arguments go back to the model to fix; anything else propagates.

    Returning None makes the Agents SDK re-raise, so bugs reach the server's
    error handling (logged, friendly stream error) instead of being swallowed.
    """
    if isinstance(error, ModelBehaviorError):
        # The SDK keeps argument values out of the message (they may be private).
        tool = getattr(ctx, "tool_name", "the tool")
        return dumps({"error": f"Invalid arguments for {tool}: check types and allowed values."})
    return None


@function_tool(failure_error_function=tool_failure)
async def add_todo(
    ctx: ToolContext,
    title: str,
    description: str = "",
    priority: Priority = "medium",
    due_date: str | None = None,
) -> str:
    """Add a todo for the user.

    Args:
        title: Short title, 1-200 characters.
        description: Optional details.
        priority: low, medium or high.
        due_date: Optional due date as YYYY-MM-DD.
    """
    user = _user(ctx)
    fields = {"description": description or "", "priority": priority, "due_date": due_date or None}
    await progress(ctx, f"Adding {_quoted(title)}…", "plus")

    async def duplicate() -> str | None:
        """An open todo with this title already: ask before adding a second one."""
        existing = await selectors.atodo_open_with_title(user=user, title=title)
        if existing is None:
            return None
        question = choices.duplicate_question(existing)
        options = [choices.ADD_AGAIN, choices.DONT_ADD]
        return await ask(ctx, "add_todo", {"title": title, **fields}, question, options)

    return await _change(
        ctx,
        "add_todo",
        title,
        fields,
        lambda: services.todo_create(user=user, title=title, **fields),
        before=duplicate,
    )


@function_tool(failure_error_function=tool_failure)
async def get_local_date(ctx: ToolContext) -> str:
    """Ask the user's device for today's date and time zone. Call it first whenever the
    user gives a relative date ("today", "tomorrow", a weekday, "next week"); never
    guess today's date. Its result is {"date": "YYYY-MM-DD", "timezone": "Area/City"}.
    """
    await progress(ctx, "Checking today's date on your device…", "calendar")
    ctx.context.client_tool_call = ClientToolCall(name=GET_LOCAL_DATE, arguments={})
    return dumps({"asked_client": GET_LOCAL_DATE})


@function_tool(failure_error_function=tool_failure)
async def list_todos(ctx: ToolContext, status: Status = "open") -> str:
    """List the user's todos, newest first.

    Args:
        status: open (not done, the default), completed, or all.
    """
    todos, count = await _newest(ctx, status, limit=MAX_LISTED)
    return _list_result(todos, total=count, status=status)


@function_tool(failure_error_function=tool_failure)
async def show_todos(ctx: ToolContext, status: Status = "open") -> str:
    """Show the user their todos in the chat as an interactive list, with buttons to
    complete, reopen or delete each one. Use it whenever the user asks to see or list
    their todos. The user sees the list, so don't repeat it: answer in one short sentence.

    Args:
        status: open (not done, the default), completed, or all.
    """
    todos, count = await _newest(ctx, status, limit=MAX_WIDGET_ROWS)
    widget, copy_text = todo_list_widget(
        todos, heading=_HEADINGS[status], total=count, status=status
    )
    await ctx.context.stream_widget(widget, copy_text=copy_text)
    return _list_result(todos, total=count, status=status, shown_to_user="yes")


@function_tool(failure_error_function=tool_failure)
async def search_todos(ctx: ToolContext, query: str) -> str:
    """Find the user's todos whose title or description contains the text.

    Args:
        query: Text to look for (case-insensitive).
    """
    await progress(ctx, f"Searching your todos for {_quoted(query)}…", "search")
    todos = await selectors.atodo_list(user=_user(ctx), search=query)
    return _list_result(todos, query=query)


async def _newest(ctx: ToolContext, status: Status, *, limit: int) -> tuple[list[Todo], int]:
    """The newest `limit` todos of `status` and how many there are in all (the total
    first, so the progress line can say how many it looks through)."""
    user = _user(ctx)
    count = await selectors.atodo_count(user=user, completed=_STATUS_FILTER[status])
    await progress(ctx, f"Looking through {_todos_word(count)}…", "search")
    todos = await selectors.atodo_newest(user=user, completed=_STATUS_FILTER[status], limit=limit)
    return todos, count


def _list_result(todos: list[Todo], total: int | None = None, **about: str) -> str:
    """At most MAX_LISTED todos, with the total count."""
    shown = todos[:MAX_LISTED]
    count = max(total if total is not None else len(todos), len(shown))
    result: dict[str, Any] = {**about, "count": count, "todos": [_brief(t) for t in shown]}
    if count > len(shown):
        result["truncated"] = True
        result["shown"] = len(shown)
    return dumps(result)


async def _set_completed(ctx: ToolContext, tool: str, ref: str, completed: bool) -> str:
    user = _user(ctx)
    await progress(ctx, f"{'Completing' if completed else 'Reopening'} {_quoted(ref)}…", "check")

    def change() -> Todo:
        found = selectors.todo_find(user=user, ref=ref)
        return services.todo_set_completed(user=user, todo_id=found.id, completed=completed)

    return await _change(ctx, tool, ref, {}, change)


@function_tool(failure_error_function=tool_failure)
async def complete_todo(ctx: ToolContext, ref: str) -> str:
    """Mark one of the user's todos as done.

    Args:
        ref: The todo's id as "#12", or its title.
    """
    return await _set_completed(ctx, "complete_todo", ref, True)


@function_tool(failure_error_function=tool_failure)
async def reopen_todo(ctx: ToolContext, ref: str) -> str:
    """Mark one of the user's done todos as open again.

    Args:
        ref: The todo's id as "#12", or its title.
    """
    return await _set_completed(ctx, "reopen_todo", ref, False)


@function_tool(failure_error_function=tool_failure)
async def update_todo(
    ctx: ToolContext,
    ref: str,
    title: str | None = None,
    description: str | None = None,
    priority: Priority | None = None,
    due_date: str | None = None,
) -> str:
    """Change fields of one of the user's todos; omitted (null) fields stay as they are.

    Args:
        ref: The todo's id as "#12", or its current title.
        title: New title.
        description: New description.
        priority: New priority: low, medium or high.
        due_date: New due date as YYYY-MM-DD, or "" to remove it.
    """
    fields = {
        name: value
        for name, value in {
            "title": title,
            "description": description,
            "priority": priority,
            "due_date": due_date,
        }.items()
        if value is not None
    }
    if not fields:
        return dumps(
            {"error": "Nothing to change: give a new title, description, priority or due date."}
        )
    user = _user(ctx)
    await progress(ctx, f"Updating {_quoted(ref)}…", "write")

    def change() -> Todo:
        found = selectors.todo_find(user=user, ref=ref)
        return services.todo_update(user=user, todo_id=found.id, **fields)

    return await _change(ctx, "update_todo", ref, fields, change)


@function_tool(failure_error_function=tool_failure)
async def delete_todo(ctx: ToolContext, ref: str) -> str:
    """Delete one of the user's todos for good.

    Args:
        ref: The todo's id as "#12", or its title.
    """
    user = _user(ctx)
    await progress(ctx, f"Deleting {_quoted(ref)}…", "dots-horizontal")

    def change() -> Todo:
        found = selectors.todo_find(user=user, ref=ref)
        return services.todo_delete(user=user, todo_id=found.id)

    return await _change(ctx, "delete_todo", ref, {}, change)


TODO_TOOLS = [
    add_todo,
    get_local_date,
    show_todos,
    list_todos,
    search_todos,
    complete_todo,
    reopen_todo,
    update_todo,
    delete_todo,
]
