"""An ASGI guard in front of Django: request bodies over the limit are 413.

Django's ASGIHandler reads (and spools to disk) the whole body before any view
or middleware runs, so the limit is enforced here, before Django:
- a declared `Content-Length` over the limit is answered at once, and the body
  is never read;
- a body without one (chunked) is counted as it streams; past the limit, Django
  is told the client went away (it then stops reading and sends nothing) and
  this guard answers 413.

The limit is `CHATKIT_MAX_BODY_BYTES` for every path; `BODY_LIMIT_OVERRIDES`
({path prefix: bytes}) raises it where an endpoint takes bigger bodies (uploads).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings

from config.errors import error_body
from config.exceptions import PayloadTooLarge

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def body_limit_for(path: str) -> int:
    """The largest body accepted on `path`, in bytes."""
    limit = int(settings.CHATKIT["MAX_BODY_BYTES"])
    for prefix, override in getattr(settings, "BODY_LIMIT_OVERRIDES", {}).items():
        if path.startswith(prefix):
            limit = max(limit, int(override))
    return limit


def payload_too_large(limit: int) -> PayloadTooLarge:
    """SPEC's 413 for a body over `limit` bytes (here, in daphne and in a view)."""
    return PayloadTooLarge(f"Request body is larger than {limit} bytes.")


def _too_large_json(limit: int) -> bytes:
    refused = payload_too_large(limit)
    return json.dumps(error_body(refused.code, refused.message)).encode()


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def send_too_large(send: Send, limit: int) -> None:
    body = _too_large_json(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """413 `payload_too_large` for bodies over the limit, before Django reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit_for(scope.get("path", ""))
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            return await send_too_large(send, limit)

        received = 0
        too_large = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    # Django stops reading on a disconnect and answers nothing.
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)
        if too_large and not started:
            await send_too_large(send, limit)


# --- daphne ----------------------------------------------------------------------
# Daphne (Twisted) reads a whole request body, to memory or a temporary file,
# before it calls the application, so the guard above would only run after a
# 400 MB upload. This hooks Twisted's body callbacks on daphne's request class
# (`gotLength` once the headers are in, `handleContentChunk` per chunk: both part
# of Twisted's IRequest interface) to answer 413 and close at once, with the
# request path's own limit (the request line is parsed before `gotLength`).


def _largest_limit() -> int:
    overrides = getattr(settings, "BODY_LIMIT_OVERRIDES", {}).values()
    return max([int(settings.CHATKIT["MAX_BODY_BYTES"]), *(int(v) for v in overrides)])


def _daphne_limit(request: Any) -> int:
    """The limit for the request's path; the largest one if the path can't be read."""
    try:
        target = request.channel._path.decode("latin-1")
        return body_limit_for(unquote(urlsplit(target).path))
    except (AttributeError, UnicodeDecodeError, ValueError):
        return _largest_limit()


def _refuse_daphne_request(request: Any, limit: int) -> None:
    body = _too_large_json(limit)
    head = (
        "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    request.channel_refused = True
    transport = request.channel.transport if request.channel is not None else None
    if transport is not None:
        transport.write(head + body)
        transport.loseConnection()


def install_daphne_body_guard() -> None:
    """Idempotent; a no-op without daphne."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # pragma: no cover - daphne is a dependency
        return
    if getattr(WebRequest, "body_guard_installed", False):
        return
    got_length, handle_chunk = WebRequest.gotLength, WebRequest.handleContentChunk

    def guarded_got_length(self: Any, length: int | None) -> None:
        self.body_received = 0
        self.body_limit = _daphne_limit(self)
        if length is not None and length > self.body_limit:
            self.content = None
            _refuse_daphne_request(self, self.body_limit)
            return
        got_length(self, length)

    def guarded_handle_chunk(self: Any, data: bytes) -> None:
        if getattr(self, "channel_refused", False):
            return
        self.body_received = getattr(self, "body_received", 0) + len(data)
        limit = getattr(self, "body_limit", None) or _largest_limit()
        if self.body_received > limit:
            _refuse_daphne_request(self, limit)
            return
        handle_chunk(self, data)

    WebRequest.gotLength = guarded_got_length  # type: ignore[method-assign]
    WebRequest.handleContentChunk = guarded_handle_chunk  # type: ignore[method-assign]
    WebRequest.body_guard_installed = True  # type: ignore[attr-defined]
