"""Reads of todos, always scoped to one owner."""

from __future__ import annotations

import re

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from accounts.models import User
from config.db import run_sync
from todos.exceptions import TodoAmbiguous, TodoNotFound
from todos.models import Todo

# How many candidates an "ambiguous" message names.
_AMBIGUOUS_SHOWN = 5
_ID_REF = re.compile(r"#?\s*(\d{1,18})")


def todo_list(
    *, user: User, completed: bool | None = None, search: str | None = None
) -> QuerySet[Todo]:
    """The user's todos, newest first; optionally only open/done, or matching `search`."""
    queryset = Todo.objects.for_user(user)
    if completed is not None:
        queryset = queryset.filter(completed=completed)
    if search and search.strip():
        term = search.strip()
        queryset = queryset.filter(Q(title__icontains=term) | Q(description__icontains=term))
    return queryset.order_by("-created_at", "-id")


def todo_counts(*, user: User) -> dict[str, int]:
    """How many of the user's todos are open and done (one query)."""
    counts = Todo.objects.for_user(user).aggregate(
        total=Count("id"), done=Count("id", filter=Q(completed=True))
    )
    total, done = counts["total"] or 0, counts["done"] or 0
    return {"open": total - done, "done": done, "total": total}


def todo_get(*, user: User, todo_id: int) -> Todo:
    """One of the user's todos; another user's todo is "not found" too."""
    try:
        return Todo.objects.for_user(user).get(pk=todo_id)
    except (Todo.DoesNotExist, ValueError, TypeError):
        raise TodoNotFound() from None


def _describe(todos: list[Todo]) -> str:
    return ", ".join(f'#{todo.id} "{todo.title}"' for todo in todos[:_AMBIGUOUS_SHOWN])


def _pick(matches: QuerySet[Todo], ref: str) -> Todo | None:
    """The only match, else the only open match; None if none; raise if ambiguous."""
    candidates = list(matches[: _AMBIGUOUS_SHOWN + 1])
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    open_ones = list(matches.filter(completed=False)[: _AMBIGUOUS_SHOWN + 1])
    if len(open_ones) == 1:
        return open_ones[0]
    raise TodoAmbiguous(
        f'More than one todo matches "{ref}": {_describe(open_ones or candidates)}. '
        "Say which one by its #id.",
        candidates=(open_ones or candidates)[:_AMBIGUOUS_SHOWN],
    )


def todo_find(*, user: User, ref: str) -> Todo:
    """Resolve what a person typed: "#12" or "12" (an id), else a title.

    Titles match case-insensitively: an exact title first (preferring an open todo),
    then a unique substring. None or several matches raise TodoNotFound saying so.
    """
    text = (ref or "").strip()
    # People quote titles: complete "buy milk".
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    if not text:
        raise TodoNotFound("Say which todo: its #id or its title.")
    queryset = Todo.objects.for_user(user).order_by("-created_at", "-id")
    id_match = _ID_REF.fullmatch(text)
    if id_match:
        todo = queryset.filter(pk=int(id_match.group(1))).first()
        if todo is not None:
            return todo
        if text.startswith("#"):
            raise TodoNotFound(f"No todo #{id_match.group(1)}.")
        # A bare number may still be a title ("1984").
    exact = _pick(queryset.filter(title__iexact=text), text)
    if exact is not None:
        return exact
    partial = _pick(queryset.filter(title__icontains=text), text)
    if partial is not None:
        return partial
    raise TodoNotFound(f'No todo matches "{text}".')


def todo_open_with_title(*, user: User, title: str) -> Todo | None:
    """The newest open todo titled `title` (ignoring case and surrounding spaces)."""
    return (
        Todo.objects.for_user(user)
        .filter(completed=False, title__iexact=(title or "").strip())
        .order_by("-created_at", "-id")
        .first()
    )


async def atodo_open_with_title(*, user: User, title: str) -> Todo | None:
    return await run_sync(todo_open_with_title, user=user, title=title)


def todo_count(*, user: User, completed: bool | None = None) -> int:
    return todo_list(user=user, completed=completed).count()


async def atodo_count(*, user: User, completed: bool | None = None) -> int:
    return await run_sync(todo_count, user=user, completed=completed)


def todo_newest(*, user: User, completed: bool | None = None, limit: int) -> list[Todo]:
    """The newest `limit` of the user's todos (open, done or all)."""
    return list(todo_list(user=user, completed=completed)[: max(0, limit)])


async def atodo_newest(*, user: User, completed: bool | None = None, limit: int) -> list[Todo]:
    return await run_sync(todo_newest, user=user, completed=completed, limit=limit)


async def atodo_list(
    *, user: User, completed: bool | None = None, search: str | None = None
) -> list[Todo]:
    """todo_list evaluated into a list (querysets cannot cross into async code lazily)."""
    return await run_sync(lambda: list(todo_list(user=user, completed=completed, search=search)))


async def atodo_get(*, user: User, todo_id: int) -> Todo:
    return await run_sync(todo_get, user=user, todo_id=todo_id)


def todo_list_by_ids(*, user: User, ids: list[int]) -> list[Todo]:
    """The user's todos among `ids`, in the order of `ids` (missing or foreign ones left out)."""
    found = {todo.pk: todo for todo in Todo.objects.for_user(user).filter(pk__in=ids)}
    return [found[todo_id] for todo_id in ids if todo_id in found]


async def atodo_list_by_ids(*, user: User, ids: list[int]) -> list[Todo]:
    return await run_sync(todo_list_by_ids, user=user, ids=ids)


# Tag search (GET /api/chatkit/entities): how many todos it offers at most.
TAG_SEARCH_LIMIT = 20


def todo_tag_search(*, user: User, query: str, limit: int = TAG_SEARCH_LIMIT) -> list[Todo]:
    """The user's todos a composer's @-mention offers for `query`, best first.

    Ranked by how well they match (its #id or exact title, then a title that starts
    with the text, a word in the title that does, a title holding it, a description
    holding it), then newest first. An empty query: the newest open todos."""
    todos = Todo.objects.for_user(user)
    text = " ".join((query or "").split())
    if not text:
        return list(todos.filter(completed=False).order_by("-created_at", "-id")[:limit])
    id_match = _ID_REF.fullmatch(text)
    by_id = Q(pk=int(id_match.group(1))) if id_match else Q(pk__in=[])
    rank = Case(
        When(by_id | Q(title__iexact=text), then=Value(0)),
        When(title__istartswith=text, then=Value(1)),
        When(title__icontains=f" {text}", then=Value(2)),
        When(title__icontains=text, then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )
    matches = todos.filter(by_id | Q(title__icontains=text) | Q(description__icontains=text))
    return list(matches.annotate(rank=rank).order_by("rank", "-created_at", "-id")[:limit])


async def atodo_tag_search(*, user: User, query: str) -> list[Todo]:
    return await run_sync(todo_tag_search, user=user, query=query)
