"""REST API for the caller's todos (SPEC `/api/todos/`): validate, call a service, serialise."""

from __future__ import annotations

from http import HTTPStatus

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import BadRequest
from todos import selectors, services
from todos.pagination import TodoPagination
from todos.serializers import TodoSerializer

_BOOLEANS = {"true": True, "false": False}


def _query_param(request: Request, name: str) -> str | None:
    """A query parameter; one holding a NUL is 400 (PostgreSQL cannot compare with it)."""
    raw = request.query_params.get(name)
    if raw is not None and "\x00" in raw:
        raise BadRequest(f"{name} must not contain NUL characters.")
    return raw


def _completed_filter(request: Request) -> bool | None:
    raw = _query_param(request, "completed")
    if raw is None or raw == "":
        return None
    try:
        return _BOOLEANS[raw.strip().lower()]
    except KeyError:
        raise BadRequest("completed must be true or false.") from None


class TodoListApi(APIView):
    """GET: the caller's todos, newest first, paginated. POST: create one."""

    def get(self, request: Request) -> Response:
        todos = selectors.todo_list(
            user=request.user,
            completed=_completed_filter(request),
            search=_query_param(request, "search"),
        )
        paginator = TodoPagination()
        page = paginator.paginate_queryset(todos, request, view=self)
        return paginator.get_paginated_response(TodoSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        serializer = TodoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        todo = services.todo_create(user=request.user, **serializer.validated_data)
        return Response(TodoSerializer(todo).data, status=HTTPStatus.CREATED)


class TodoStatsApi(APIView):
    """GET: how many of the caller's todos are open and done: {"open", "done", "total"}."""

    def get(self, request: Request) -> Response:
        return Response(selectors.todo_counts(user=request.user))


class TodoDetailApi(APIView):
    """GET, PUT (all fields), PATCH (some fields) and DELETE one of the caller's todos."""

    def get(self, request: Request, todo_id: int) -> Response:
        todo = selectors.todo_get(user=request.user, todo_id=todo_id)
        return Response(TodoSerializer(todo).data)

    def put(self, request: Request, todo_id: int) -> Response:
        return self._update(request, todo_id, partial=False)

    def patch(self, request: Request, todo_id: int) -> Response:
        return self._update(request, todo_id, partial=True)

    def delete(self, request: Request, todo_id: int) -> Response:
        services.todo_delete(user=request.user, todo_id=todo_id)
        return Response(status=HTTPStatus.NO_CONTENT)

    def _update(self, request: Request, todo_id: int, *, partial: bool) -> Response:
        # Not found wins over invalid input, as it would for a GET.
        todo = selectors.todo_get(user=request.user, todo_id=todo_id)
        serializer = TodoSerializer(todo, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        todo = services.todo_update(user=request.user, todo_id=todo_id, **serializer.validated_data)
        return Response(TodoSerializer(todo).data)
