"""The agent's todo tools: thin adapters over todos.services for the calling user.

Each tool answers the model with compact JSON: the todo(s) on success, or
{"error": "..."} for a domain error the model should relay or fix. Changes are
also kept in the thread as hidden context, so later turns still know about them.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from agents import ModelBehaviorError, RunContextWrapper, function_tool
from chatkit.agents import AgentContext
from chatkit.types import HiddenContextItem, ThreadItemDoneEvent
from django.utils import timezone

from accounts.models import User
from chat.context import RequestContext
from todos import selectors, services
from todos.exceptions import TodoInvalid, TodoNotFound
from todos.models import Todo
from todos.serializers import todo_to_dict

ToolContext = RunContextWrapper[AgentContext[RequestContext]]
Priority = Literal["low", "medium", "high"]
Status = Literal["open", "completed", "all"]

# Keeps one list result from flooding the model's context.
MAX_LISTED = 50
_STATUS_FILTER: dict[str, bool | None] = {"open": False, "completed": True, "all": None}


def dumps(data: Any) -> str:
    """Compact JSON, as the model sees it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _error(exc: TodoNotFound | TodoInvalid) -> str:
    return dumps({"error": exc.message})


def _user(ctx: ToolContext) -> User:
    return ctx.context.request_context.user


def _brief(todo: Todo) -> dict[str, Any]:
    """A todo for the model: SPEC's fields minus the timestamps."""
    data = todo_to_dict(todo)
    data.pop("created_at")
    data.pop("updated_at")
    return data


async def _record_change(ctx: ToolContext, tool: str, todo: Todo) -> dict[str, Any]:
    """Flag the change for the client and keep it in the thread for later turns."""
    data = _brief(todo)
    ctx.context.request_context.todos_changed = True
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
    return data


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
    try:
        todo = await services.atodo_create(
            user=_user(ctx),
            title=title,
            description=description or "",
            priority=priority,
            due_date=due_date or None,
        )
    except TodoInvalid as exc:
        return _error(exc)
    return dumps({"todo": await _record_change(ctx, "add_todo", todo)})


@function_tool(failure_error_function=tool_failure)
async def list_todos(ctx: ToolContext, status: Status = "open") -> str:
    """List the user's todos, newest first.

    Args:
        status: open (not done, the default), completed, or all.
    """
    todos = await selectors.atodo_list(user=_user(ctx), completed=_STATUS_FILTER[status])
    return _list_result(todos, status=status)


@function_tool(failure_error_function=tool_failure)
async def search_todos(ctx: ToolContext, query: str) -> str:
    """Find the user's todos whose title or description contains the text.

    Args:
        query: Text to look for (case-insensitive).
    """
    todos = await selectors.atodo_list(user=_user(ctx), search=query)
    return _list_result(todos, query=query)


def _list_result(todos: list[Todo], **about: str) -> str:
    shown = todos[:MAX_LISTED]
    result: dict[str, Any] = {**about, "count": len(todos), "todos": [_brief(t) for t in shown]}
    if len(todos) > len(shown):
        result["truncated"] = True
    return dumps(result)


async def _set_completed(ctx: ToolContext, tool: str, ref: str, completed: bool) -> str:
    user = _user(ctx)
    try:
        found = await selectors.atodo_find(user=user, ref=ref)
        todo = await services.atodo_set_completed(user=user, todo_id=found.id, completed=completed)
    except (TodoNotFound, TodoInvalid) as exc:
        return _error(exc)
    return dumps({"todo": await _record_change(ctx, tool, todo)})


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
    try:
        found = await selectors.atodo_find(user=user, ref=ref)
        todo = await services.atodo_update(user=user, todo_id=found.id, **fields)
    except (TodoNotFound, TodoInvalid) as exc:
        return _error(exc)
    return dumps({"todo": await _record_change(ctx, "update_todo", todo)})


@function_tool(failure_error_function=tool_failure)
async def delete_todo(ctx: ToolContext, ref: str) -> str:
    """Delete one of the user's todos for good.

    Args:
        ref: The todo's id as "#12", or its title.
    """
    user = _user(ctx)
    try:
        found = await selectors.atodo_find(user=user, ref=ref)
        todo = await services.atodo_delete(user=user, todo_id=found.id)
    except TodoNotFound as exc:
        return _error(exc)
    return dumps({"todo": await _record_change(ctx, "delete_todo", todo)})


TODO_TOOLS = [
    add_todo,
    list_todos,
    search_todos,
    complete_todo,
    reopen_todo,
    update_todo,
    delete_todo,
]
