"""Writes to todos: keyword-only, owner-scoped, atomic, announced after commit.

Every adapter (DRF API, admin, chat tools, seed command) writes through here, so
validation and live events behave the same whichever way a change arrives.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from config.db import run_sync
from todos import events
from todos.events import TodoChange
from todos.exceptions import TodoInvalid, TodoNotFound
from todos.models import Priority, Todo
from todos.serializers import todo_to_dict

UPDATABLE_FIELDS = frozenset({"title", "description", "completed", "priority", "due_date"})


# --- validation (the API's serializer checks shapes; these are the rules) ------


def clean_title(value: Any) -> str:
    """Trimmed title of 1..200 characters."""
    if not isinstance(value, str):
        raise TodoInvalid("Title must be text.")
    title = value.strip()
    if not title:
        raise TodoInvalid("Title must not be empty.")
    if len(title) > Todo.TITLE_MAX_LENGTH:
        raise TodoInvalid(
            f"Title must be at most {Todo.TITLE_MAX_LENGTH} characters (got {len(title)})."
        )
    return title


def clean_description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TodoInvalid("Description must be text.")
    if len(value) > Todo.DESCRIPTION_MAX_LENGTH:
        raise TodoInvalid(
            f"Description must be at most {Todo.DESCRIPTION_MAX_LENGTH} characters "
            f"(got {len(value)})."
        )
    return value


def clean_priority(value: Any) -> str:
    if isinstance(value, str) and value.strip().lower() in Priority.values:
        return value.strip().lower()
    raise TodoInvalid("Priority must be one of: low, medium, high.")


def clean_due_date(value: Any) -> datetime.date | None:
    """A date, an ISO `YYYY-MM-DD` string, or None (no due date)."""
    if value is None or value == "":
        return None
    # datetime is a date subclass; a due date is a day, not an instant.
    if isinstance(value, datetime.datetime):
        raise TodoInvalid("Due date must be a date in YYYY-MM-DD format.")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise TodoInvalid("Due date must be a date in YYYY-MM-DD format.")


def clean_completed(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TodoInvalid("Completed must be true or false.")


_CLEANERS = {
    "title": clean_title,
    "description": clean_description,
    "priority": clean_priority,
    "due_date": clean_due_date,
    "completed": clean_completed,
}


# --- helpers ---------------------------------------------------------------


def _publish_after_commit(*, user_id: int, kind: TodoChange, todo: Todo) -> None:
    # The payload is taken now: after a delete the instance loses its id, and a
    # later write in the same transaction must not change what this event says.
    payload = todo_to_dict(todo)
    transaction.on_commit(
        lambda: events.publish_todo_change(user_id=user_id, kind=kind, todo=payload)
    )


def _get_for_update(*, user: User, todo_id: int) -> Todo:
    try:
        return Todo.objects.for_user(user).select_for_update().get(pk=todo_id)
    except (Todo.DoesNotExist, ValueError, TypeError):
        raise TodoNotFound() from None


# --- services --------------------------------------------------------------


def todo_create(
    *,
    user: User,
    title: str,
    description: str = "",
    priority: str = Priority.MEDIUM,
    due_date: datetime.date | str | None = None,  # a date or "YYYY-MM-DD"
    completed: bool = False,
) -> Todo:
    """Create a todo for `user`."""
    todo = Todo(
        owner=user,
        title=clean_title(title),
        description=clean_description(description),
        priority=clean_priority(priority),
        due_date=clean_due_date(due_date),
        completed=clean_completed(completed),
    )
    with transaction.atomic():
        todo.save()
        _publish_after_commit(user_id=user.pk, kind="created", todo=todo)
    return todo


def todo_update(*, user: User, todo_id: int, **fields: Any) -> Todo:
    """Change some of title, description, completed, priority, due_date."""
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise TodoInvalid(
            f"Unknown field(s): {', '.join(sorted(unknown))}. "
            f"Allowed: {', '.join(sorted(UPDATABLE_FIELDS))}."
        )
    cleaned = {name: _CLEANERS[name](value) for name, value in fields.items()}
    with transaction.atomic():
        todo = _get_for_update(user=user, todo_id=todo_id)
        changed = [name for name, value in cleaned.items() if getattr(todo, name) != value]
        if not changed:
            # Nothing to write, nothing to announce.
            return todo
        for name in changed:
            setattr(todo, name, cleaned[name])
        todo.save(update_fields=[*changed, "updated_at"])
        _publish_after_commit(user_id=user.pk, kind="updated", todo=todo)
    return todo


def todo_set_completed(*, user: User, todo_id: int, completed: bool) -> Todo:
    """Mark a todo done (True) or reopen it (False)."""
    return todo_update(user=user, todo_id=todo_id, completed=completed)


def todo_delete(*, user: User, todo_id: int) -> Todo:
    """Delete a todo; the returned instance keeps its id for the caller's reply."""
    with transaction.atomic():
        todo = _get_for_update(user=user, todo_id=todo_id)
        _publish_after_commit(user_id=user.pk, kind="deleted", todo=todo)
        deleted_id = todo.pk
        todo.delete()
    todo.pk = deleted_id
    return todo


# --- async wrappers (the chat agent's tools run in async code) ---------------


async def atodo_create(
    *,
    user: User,
    title: str,
    description: str = "",
    priority: str = Priority.MEDIUM,
    due_date: datetime.date | str | None = None,  # a date or "YYYY-MM-DD"
    completed: bool = False,
) -> Todo:
    return await run_sync(
        todo_create,
        user=user,
        title=title,
        description=description,
        priority=priority,
        due_date=due_date,
        completed=completed,
    )


async def atodo_set_completed(*, user: User, todo_id: int, completed: bool) -> Todo:
    return await run_sync(todo_set_completed, user=user, todo_id=todo_id, completed=completed)


async def atodo_delete(*, user: User, todo_id: int) -> Todo:
    return await run_sync(todo_delete, user=user, todo_id=todo_id)
