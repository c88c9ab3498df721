"""HTTP adapters for the reads a ChatKit client makes besides /chatkit:
`GET /api/chatkit/usage` (the caller's usage today) and `GET /api/chatkit/entities`
with its `…/<todo id>/preview` (todos as ChatKit entities, for tagging in the composer)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import bearer_token
from accounts.models import User
from chat.chatkit_request import authenticate_chat_request
from chat.widgets import todo_preview_widget
from config.db import run_sync
from config.errors import api_error_response, error_response
from config.exceptions import ApiError, AuthError, BadRequest
from todos.models import Todo
from todos.selectors import atodo_get, atodo_tag_search
from usage.selectors import usage_today


def _get_only(request: HttpRequest) -> HttpResponse | None:
    """405 for anything but GET."""
    if request.method == "GET":
        return None
    response = error_response(
        HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "Use GET for this endpoint."
    )
    response["Allow"] = "GET"
    return response


async def authenticate_chatkit_api(request: HttpRequest) -> User:
    """The caller of an `/api/chatkit/…` read: a client secret or a Better Auth JWT
    (`Authorization: Bearer`), else the built-in page's session."""
    if bearer_token(request) is not None:
        return await authenticate_chat_request(request)
    user = await request.auser()
    if not user.is_authenticated or not user.is_active:
        raise AuthError("Authorization: Bearer <token> is required.")
    return user


@csrf_exempt  # GET only (a read); any other method is a JSON 405 (_get_only)
async def usage_endpoint(request: HttpRequest) -> HttpResponse:
    """`GET /api/chatkit/usage` → the caller's usage today (a client secret, a Better
    Auth JWT, or the page's session)."""
    if (refused := _get_only(request)) is not None:
        return refused
    try:
        user = await authenticate_chatkit_api(request)
        body = await run_sync(usage_today, user=user, now=timezone.now())
    except ApiError as exc:
        return api_error_response(exc)
    return JsonResponse(body, headers={"Cache-Control": "no-store"})


# The longest tag search considered (what a composer's @-mention sends is short).
ENTITY_QUERY_MAX_CHARS = 200


def todo_entity(todo: Todo) -> dict[str, Any]:
    """A todo as ChatKit's `Entity` (its `data` values are strings, as ChatKit types them)."""
    todo_id = str(todo.pk)
    data = {"todo_id": todo_id, "status": "done" if todo.completed else "open",
            "priority": todo.priority}  # fmt: skip
    if todo.due_date is not None:
        data["due_date"] = todo.due_date.isoformat()
    return {
        "id": todo_id,
        "title": todo.title,
        "group": "Done" if todo.completed else "Open",
        "interactive": True,
        "data": data,
    }


@csrf_exempt  # GET only (a read); any other method is a JSON 405 (_get_only)
async def entities_endpoint(request: HttpRequest) -> HttpResponse:
    """`GET /api/chatkit/entities?query=TEXT` → `{"data": [entity…]}`: at most 20 of the
    caller's todos for ChatKit's `entities.onTagSearch`, best match first (a client
    secret, a Better Auth JWT, or the page's session)."""
    if (refused := _get_only(request)) is not None:
        return refused
    try:
        user = await authenticate_chatkit_api(request)
        query = request.GET.get("query", "")
        if "\x00" in query:
            raise BadRequest("query must not contain NUL characters.")
        todos = await atodo_tag_search(user=user, query=query[:ENTITY_QUERY_MAX_CHARS])
    except ApiError as exc:
        return api_error_response(exc)
    entities = [todo_entity(todo) for todo in todos]
    return JsonResponse({"data": entities}, headers={"Cache-Control": "no-store"})


@csrf_exempt  # GET only (a read); any other method is a JSON 405 (_get_only)
async def entity_preview_endpoint(request: HttpRequest, todo_id: int) -> HttpResponse:
    """`GET /api/chatkit/entities/<todo id>/preview` → `{"preview": <Basic widget>}`: a
    tagged todo's details and actions for ChatKit's `entities.onRequestPreview` (the
    same callers as the search; another user's todo is 404)."""
    if (refused := _get_only(request)) is not None:
        return refused
    try:
        user = await authenticate_chatkit_api(request)
        todo = await atodo_get(user=user, todo_id=todo_id)
    except ApiError as exc:
        return api_error_response(exc)
    preview, _ = todo_preview_widget(todo)
    return JsonResponse(
        {"preview": preview.model_dump(mode="json", exclude_none=True)},
        headers={"Cache-Control": "no-store"},
    )
