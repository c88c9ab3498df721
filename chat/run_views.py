"""HTTP adapters for a thread's run: `POST /api/chatkit/threads/<id>/stop` and
`GET /api/chatkit/threads/<id>/events` (re-attach). Authenticated as /chatkit is
(a client secret or a Better Auth JWT), or by the built-in page's session with its
CSRF token."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from accounts.access_watch import StreamAccess, request_access, while_access_holds
from accounts.authentication import bearer_token
from accounts.models import User
from chat import recovery
from chat.chatkit_request import authenticate_chat_request
from chat.heartbeat import with_heartbeat
from chat.models import Thread
from chat.sse import SSE_HEADERS
from chat.turns import threads_answering
from config.errors import api_error_response, error_response
from config.exceptions import ApiError, AuthError, NotFound, RateLimited
from runs import bus, listeners, mirror, registry

# How long a stop waits for the run to end (its partial answer saved, its lock freed).
STOP_WAIT_SECONDS = 2.0


async def authenticate_run_request(request: HttpRequest) -> User:
    """A bearer token (client secret or Better Auth JWT), else the page's session with
    a valid CSRF token (these endpoints change state)."""
    if bearer_token(request) is not None:
        return await authenticate_chat_request(request)
    user = await request.auser()
    if not user.is_authenticated or not user.is_active:
        raise AuthError("Authorization: Bearer <token> is required.")
    refused = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
    if refused is not None:
        raise AuthError("CSRF check failed.")
    return user


async def _thread_owner(request: HttpRequest, thread_id: str) -> User:
    """The request's user, if `thread_id` is theirs; another user's thread is simply
    not found (never a hint that it exists)."""
    user = await authenticate_run_request(request)
    if not await Thread.objects.for_user(user).filter(pk=thread_id).aexists():
        raise NotFound("Not found.")
    return user


def _method_not_allowed(allowed: str) -> HttpResponse:
    response = error_response(
        HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", f"Use {allowed}."
    )
    response["Allow"] = allowed
    return response


async def stop_thread_run(thread_id: str) -> bool:
    """Stop the thread's running turn on whichever worker holds it; True if one was
    running. Waits (briefly) until it has ended and its lock is free."""
    run = registry.running(thread_id)
    if run is not None:
        run.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.wait(), STOP_WAIT_SECONDS)
        return True
    if not await threads_answering([thread_id]):
        return False
    await bus.stop_elsewhere(thread_id)
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    # Another worker's lock: nothing here to wait on but the lock itself.
    while time.monotonic() < deadline and await threads_answering([thread_id]):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return True


@csrf_exempt  # checked in authenticate_run_request for session callers
async def events_view(request: HttpRequest, thread_id: str) -> HttpResponse:
    """`GET …/events`: the running turn's events from its start, then live to its end
    (from any worker); 204 when nothing runs (a dead worker's turn is finished first)."""
    if request.method != "GET":
        return _method_not_allowed("GET")
    try:
        user = await _thread_owner(request, thread_id)
    except ApiError as exc:
        return api_error_response(exc)
    run = registry.running(thread_id)
    # The stream ends when its access is revoked (accounts.access_watch); the run goes on.
    access = StreamAccess(request_access(request, user))
    events: AsyncGenerator[bytes, None]
    if run is not None:
        access.wake = run.wake
        events = run.listen(ended=access.is_ended)
    elif await recovery.recover(thread_id, user.pk):  # its worker died: finished now
        return HttpResponse(status=HTTPStatus.NO_CONTENT)
    elif bus.shared() and await threads_answering([thread_id]):
        events = _copied_from_elsewhere(thread_id, access)
    else:
        return HttpResponse(status=HTTPStatus.NO_CONTENT)
    if not listeners.has_room(user.pk):
        await events.aclose()
        return _too_many_listeners()
    return StreamingHttpResponse(
        with_heartbeat(while_access_holds(listeners.counted(user.pk, events), access)),
        content_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def _copied_from_elsewhere(thread_id: str, access: StreamAccess) -> AsyncIterator[bytes]:
    """The run of `thread_id` on another worker, copied to a stream of ours (asked for
    on the first read: a stream never read asks for nothing)."""
    stream = mirror.new_stream_key(thread_id)
    await bus.copy_elsewhere(thread_id, stream)

    async def still_running() -> bool:
        return bool(await threads_answering([thread_id]))

    async for chunk in mirror.follow_stream(stream, still_running, ended=access.is_ended):
        yield chunk


# A re-attach refused for too many open ones is told to try again after this long.
LISTENERS_RETRY_AFTER_SECONDS = 5


def _too_many_listeners() -> HttpResponse:
    """SPEC's 429 `rate_limit` for one re-attach too many (runs/listeners.py)."""
    message = (
        f"Too many open re-attach streams (at most {listeners.max_listeners()}): "
        "close one, or try again later."
    )
    return api_error_response(RateLimited(LISTENERS_RETRY_AFTER_SECONDS, message))


@csrf_exempt  # checked in authenticate_run_request for session callers
async def stop_view(request: HttpRequest, thread_id: str) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed("POST")
    try:
        await _thread_owner(request, thread_id)
    except ApiError as exc:
        return api_error_response(exc)
    return JsonResponse({"stopped": await stop_thread_run(thread_id)})
