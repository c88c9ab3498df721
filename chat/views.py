"""HTTP adapters for ChatKit: `POST /chatkit` and `POST /api/chatkit/session`.

The chat endpoint is a plain async Django view (DRF has no async views): it
authenticates, checks size, shape, ownership and rate before any stream starts
(chat/chatkit_request.py), so every refusal is SPEC's JSON error and never a
half-open stream. The `GET /api/chatkit/…` reads are chat/read_views.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from http import HTTPStatus

from asgiref.sync import sync_to_async
from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    ErrorEvent,
    ThreadsCustomActionReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    is_streaming_req,
)
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access_watch import StreamAccess, request_access
from accounts.client_secrets import mint_client_secret
from accounts.revocation import session_sid
from attachments.selectors import acheck_message_attachments
from chat import recovery
from chat.actions import check_action_request
from chat.answer import MSG_FAILED
from chat.chatkit_request import (
    authenticate_chat_request,
    check_thread_and_rate,
    parse_request,
    read_body,
)
from chat.context import RequestContext
from chat.heartbeat import HEARTBEAT, heartbeat_interval
from chat.server import get_server
from chat.sse import SSE_HEADERS, sse_event
from chat.turns import check_retry_request, idempotency_key
from config import logcontext, pg
from config.errors import GENERIC_500, api_error_response, error_response
from config.exceptions import ApiError
from runs.registry import Run
from usage import metrics
from usage.quota import release_unused

logger = logging.getLogger(__name__)


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
            headers=SSE_HEADERS,
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
