"""Logs that tie to requests, users, threads and turns.

Every HTTP request (and websocket) gets a request id: the client's `X-Request-ID` when it
sends a sane one, else a new one; it goes back in the response's `X-Request-ID`. The
id, and the user, thread and turn outcome once known, live in context variables, so
every log line the request causes carries them, including lines from the tasks it
starts (asyncio copies the context into them) and from worker threads
(asgiref's sync_to_async does too).

`LOG_FORMAT=json` prints each record as one JSON object per line, with those fields.
Secrets are kept out: messages go through config/logredact.py's redaction (client
secrets, `token=` values) and `Bearer` credentials are cut; a user's message text is
logged only with `LOG_MESSAGE_TEXT=1`.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from config.logredact import redact

REQUEST_ID_HEADER = b"x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id: ContextVar[int | None] = ContextVar("user_id", default=None)
thread_id: ContextVar[str | None] = ContextVar("thread_id", default=None)
outcome: ContextVar[str | None] = ContextVar("outcome", default=None)
_FIELDS = {"request_id": request_id, "user_id": user_id, "thread_id": thread_id, "outcome": outcome}


def bind(**values: Any) -> None:
    """Attach fields (request_id, user_id, thread_id, outcome) to this request's lines."""
    for name, value in values.items():
        _FIELDS[name].set(value)


def fresh_context() -> contextvars.Context:
    """An empty context holding only this request's log fields: for a task that must not
    inherit the rest of the request (a run, runs/registry.py) but whose lines are its."""
    values = {name: var.get() for name, var in _FIELDS.items()}
    context = contextvars.Context()
    context.run(bind, **values)
    return context


class ContextFilter(logging.Filter):
    """Puts the request's fields on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _FIELDS.items():
            if not hasattr(record, name):
                setattr(record, name, var.get())
        return True


def scrub(text: str) -> str:
    return _BEARER.sub(r"\1[redacted]", redact(text))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for name in _FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        for name in ("message_text", "model", "error_kind"):
            if record.__dict__.get(name) is not None:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def incoming_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's request id when it is sane (length, characters), else a new one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER:
            text = value.decode("latin-1").strip()
            if _SANE_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """ASGI: a request id per HTTP request or websocket, bound for its log lines and
    sent back as `X-Request-ID`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = incoming_id(scope.get("headers", []))
        bind(request_id=rid, user_id=None, thread_id=None, outcome=None)

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != REQUEST_ID_HEADER
                ]
                message = {**message, "headers": [*headers, (b"X-Request-ID", rid.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_id)
