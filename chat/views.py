"""HTTP adapters for ChatKit: `POST /chatkit` and `POST /api/chatkit/session`.

The chat endpoint is a plain async Django view (DRF has no async views): it
authenticates, checks size, shape, ownership and rate before any stream starts,
so every refusal is SPEC's JSON error and never a half-open stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

from asgiref.sync import sync_to_async
from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    ChatKitReq,
    ErrorEvent,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsCustomActionReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    is_streaming_req,
)
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError
from pydantic_core import from_json
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access_watch import StreamAccess, request_access
from accounts.authentication import aauthenticate_jwt, bearer_token
from accounts.client_secrets import (
    aauthenticate_client_secret,
    is_client_secret,
    mint_client_secret,
)
from accounts.models import User
from accounts.revocation import session_sid
from attachments.selectors import acheck_message_attachments
from chat import recovery
from chat.actions import check_action_request
from chat.answer import MSG_FAILED
from chat.context import RequestContext
from chat.heartbeat import HEARTBEAT, heartbeat_interval
from chat.inference import check_inference_options
from chat.limits import check_limits
from chat.pending import check_answer_request
from chat.ratelimit import acheck_chat_turn
from chat.server import CHATKIT_REQUEST, TodoChatKitServer, get_server
from chat.sse import sse_event
from chat.text import without_nul
from chat.turns import check_retry_request, idempotency_key
from chat.widgets import todo_preview_widget
from config import logcontext, pg
from config.body_limit import body_limit_for, payload_too_large
from config.db import run_sync
from config.errors import (
    GENERIC_500,
    api_error_response,
    error_response,
    first_validation_error,
)
from config.exceptions import ApiError, AuthError, BadRequest
from runs.registry import Run
from todos.models import Todo
from todos.selectors import atodo_get, atodo_tag_search
from usage import metrics
from usage.quota import release_unused
from usage.selectors import usage_today

logger = logging.getLogger(__name__)

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def authenticate_chat_request(request: HttpRequest) -> User:
    """A ChatKit client secret or a Better Auth JWT from `Authorization: Bearer`."""
    token = bearer_token(request)
    if token is None:
        raise AuthError("Authorization: Bearer <token> is required.")
    if is_client_secret(token):
        return await aauthenticate_client_secret(token)
    return await aauthenticate_jwt(token)


def read_body(request: HttpRequest) -> bytes:
    """The body, within its path's limit. Behind a server the ASGI guard has refused a
    bigger one before Django read it (config/body_limit.py); this holds without it
    (Django's test client, an ASGIHandler mounted elsewhere)."""
    limit = body_limit_for(request.path_info)
    too_large = payload_too_large(limit)
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError as exc:
        raise BadRequest("Invalid Content-Length.") from exc
    if declared > limit:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise too_large from exc
    if len(body) > limit:
        raise too_large
    return body


def parse_request(body: bytes) -> ChatKitReq:
    if not body.strip():
        raise BadRequest("Request body is empty; expected a ChatKit request as JSON.")
    try:
        if b"\\u0000" in body:  # rare: take the slow path and drop NULs (chat/text.py)
            # The same strict parser as validate_json (a lone surrogate is invalid JSON).
            parsed = CHATKIT_REQUEST.validate_python(without_nul(from_json(body)))
        else:
            parsed = CHATKIT_REQUEST.validate_json(body)
    except RecursionError as exc:  # hostile nesting: a client error, never a 500
        raise BadRequest("Request body is nested too deeply.") from exc
    except ValueError as exc:  # from_json's error and pydantic's ValidationError
        if not isinstance(exc, ValidationError):
            raise BadRequest("Request body is not valid JSON.") from exc
        kind, where, message = first_validation_error(exc)
        if kind == "json_invalid":
            raise BadRequest("Request body is not valid JSON.") from exc
        detail = f" ({where}: {message})" if where else ""
        raise BadRequest(f"Not a valid ChatKit request{detail}.") from exc
    check_limits(parsed)  # SPEC "Limits" (chat/limits.py)
    check_inference_options(parsed)  # a model or composer tool not offered: 400
    return parsed


async def check_thread_and_rate(
    server: TodoChatKitServer, parsed: ChatKitReq, context: RequestContext
) -> None:
    """The request's thread is the user's (PostgreSQL) and a turn is within the rate
    limit (Redis). Independent, so awaited together: under load every wait is a trip
    through a busy event loop before the first token. As with DRF's throttles, which
    run before the handler, a turn refused by a later check still counts."""
    if isinstance(parsed, ThreadsAddClientToolOutputReq | ThreadsAddStructuredInputReq):
        # Nothing pending to answer is refused before it counts as a turn.
        await server.check_thread(parsed, context)
        await check_answer_request(server.store, parsed, context)
        await acheck_chat_turn(user_id=context.user.pk)
        return
    checks = []
    if getattr(parsed.params, "thread_id", None) is not None:
        checks.append(server.check_thread(parsed, context))
    if is_streaming_req(parsed):
        checks.append(acheck_chat_turn(user_id=context.user.pk, context=context))
    if len(checks) < 2:
        for check in checks:
            await check
        return
    outcomes = await asyncio.gather(*checks, return_exceptions=True)
    for outcome in outcomes:  # in order: a foreign thread's 404 before a 429
        if isinstance(outcome, BaseException):
            raise outcome


def stop_on_disconnect() -> bool:
    """CHATKIT_STOP_ON_DISCONNECT: a client that goes away stops its turn (the SDK's way)."""
    return bool(settings.CHATKIT.get("STOP_ON_DISCONNECT", False))


async def close_run_connections() -> None:
    """A run's own database thread closes its connections at the run's end, as Django
    does for a request's (SQLite; PostgreSQL's async store holds none)."""
    await sync_to_async(close_old_connections)()


async def _guarded(result: StreamingResult, context: RequestContext) -> AsyncIterator[bytes]:
    """Relay the SDK's SSE bytes; a failure outside the agent run (the store, the
    database) still ends the stream with a friendly ChatKit error event. A budget
    reservation no model run claimed (a widget action) is given back at the end."""
    metrics.ACTIVE_STREAMS.inc()
    try:
        async for chunk in result:
            yield chunk
    except asyncio.CancelledError:
        raise  # the run was stopped: the SDK has saved what was produced
    except Exception as exc:  # the last line of defence of a stream
        if not isinstance(exc, NotFoundError):
            logger.exception("ChatKit stream failed")
        message = "This conversation no longer exists." if isinstance(exc, NotFoundError) else None
        event = ErrorEvent(code="custom", message=message or MSG_FAILED, allow_retry=True)
        yield sse_event(event)
    finally:
        metrics.ACTIVE_STREAMS.dec()
        await release_unused(context.quota_reservation)


@csrf_exempt  # bearer tokens only: no cookies, so no CSRF exposure
async def chatkit_endpoint(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = error_response(
            HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "Use POST for /chatkit."
        )
        response["Allow"] = "POST"
        return response
    context: RequestContext | None = None
    # This worker finishes turns whose worker died (chat/recovery.py), from now on, if
    # it was not started with the worker (config/lifespan.py: an ASGI app elsewhere).
    recovery.start_sweeping()
    try:
        user = await authenticate_chat_request(request)
        logcontext.bind(user_id=user.pk)
        parsed = parse_request(read_body(request))
        logcontext.bind(thread_id=getattr(parsed.params, "thread_id", None))
        server = get_server()
        context = RequestContext(user=user, base_url=request.build_absolute_uri("/"))
        # The stream's 200 goes out before the SDK loads the thread: check it here.
        await check_thread_and_rate(server, parsed, context)
        if isinstance(parsed, ThreadsCustomActionReq | ThreadsSyncCustomActionReq):
            # A bad action is a 400 (a foreign or missing item a 404) before any stream.
            await check_action_request(server.store, parsed.params, context)
        if isinstance(parsed, ThreadsRetryAfterItemReq):
            await check_retry_request(server.store, parsed, context)  # 404 / 400
        context.idempotency_key = idempotency_key(request, parsed)
        await acheck_message_attachments(user=user, request=parsed)  # 404 for another's
        run = context.run = Run(user_id=user.pk) if is_streaming_req(parsed) else None
        result = await server.process_request(parsed, context)
    except Exception as exc:  # noqa: BLE001 - each becomes its SPEC response (_refusal)
        if context is not None:  # a turn refused after its budget was reserved
            await release_unused(context.quota_reservation)
        return _refusal(exc)
    if isinstance(result, StreamingResult) and run is not None:
        # The turn runs in a task of the worker; this response is one listener of it.
        close = None if pg.enabled() else close_run_connections
        run.start(_guarded(result, context), on_end=close)
        # This listener ends when its access is revoked; the user's turn goes on.
        access = StreamAccess(request_access(request, user), wake=run.wake)
        events = run.listen(
            stop_on_close=stop_on_disconnect(),
            heartbeat=heartbeat_interval(),
            beat=HEARTBEAT,
            ended=access.is_ended,
            during=access,  # watched from the first read to the last
        )
        return StreamingHttpResponse(
            events,
            content_type="text/event-stream",
            headers=STREAM_HEADERS,
        )
    await release_unused(context.quota_reservation)
    return HttpResponse(result.json, content_type="application/json")


def _refusal(exc: Exception) -> HttpResponse:
    """SPEC's error response for a request refused before any stream."""
    match exc:
        case ApiError():
            return api_error_response(exc)
        case NotFoundError():  # another user's thread is the same as none
            return error_response(HTTPStatus.NOT_FOUND, "not_found", "Not found.")
        case ValueError() | NotImplementedError() if _refused_by_sdk(exc):
            logger.info("Refused ChatKit request: %s", type(exc).__name__)
            return error_response(
                HTTPStatus.BAD_REQUEST, "bad_request", "This request can't be done."
            )
    logger.error("ChatKit request failed", exc_info=exc)
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", GENERIC_500)


def _refused_by_sdk(exc: Exception) -> bool:
    """Whether the SDK itself raised `exc`: its ValueError or NotImplementedError is
    its refusal of a request it can't serve (a 400); one from our code is a bug (500)."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_globals.get("__name__", "").startswith("chatkit.")


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


class ChatKitSessionView(APIView):
    """`POST /api/chatkit/session` → a fresh client secret for the caller."""

    def post(self, request: Request) -> Response:
        # Minted from the page's session: signing out of it revokes the secret.
        from_page = isinstance(request.successful_authenticator, SessionAuthentication)
        sid = session_sid(request._request.session) if from_page else None
        secret, expires_at = mint_client_secret(user=request.user, sid=sid)
        return Response(
            {"client_secret": secret, "expires_at": expires_at},
            headers={"Cache-Control": "no-store"},
        )
