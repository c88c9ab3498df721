"""A `POST /chatkit` request before any stream starts: its caller, its body within the
limit, parsed and checked, its thread the caller's and its turn within the rate limit.
Each refusal is an exception the view turns into SPEC's JSON error."""

from __future__ import annotations

import asyncio

from chatkit.types import (
    ChatKitReq,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    is_streaming_req,
)
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from pydantic import ValidationError
from pydantic_core import from_json

from accounts.authentication import aauthenticate_jwt, bearer_token
from accounts.client_secrets import aauthenticate_client_secret, is_client_secret
from accounts.models import User
from chat.context import RequestContext
from chat.inference import check_inference_options
from chat.limits import check_limits
from chat.pending import check_answer_request
from chat.ratelimit import acheck_chat_turn
from chat.server import CHATKIT_REQUEST, TodoChatKitServer
from chat.text import without_nul
from config.body_limit import body_limit_for, payload_too_large
from config.errors import first_validation_error
from config.exceptions import AuthError, BadRequest


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
