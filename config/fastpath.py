"""`/chatkit` without the thread hops of the browser-session middleware.

Django runs every sync-only middleware hook (`MiddlewareMixin`: security, sessions,
common, CSRF, auth, messages, clickjacking) through `sync_to_async`: about a dozen
trips to the request's thread and back for each chat turn, a few milliseconds of CPU
and GIL hand-offs under load. `/chatkit` authenticates with a bearer token and is
CSRF-exempt: it reads no session, user, message or CSRF cookie. So, first in
MIDDLEWARE, this middleware serves `/chatkit` itself: the hooks of the middleware that
still apply (security headers and the HTTPS redirect, CORS, common, X-Frame-Options) run
inline on the event loop (they only compute headers), then the view. Every other path
goes through the full chain unchanged.

Safety: a middleware in MIDDLEWARE that is in neither list below turns the fast path
off (logged at start-up), so a new middleware is never skipped silently.

And one thread less: Django's ASGI handler gives every request a thread of its own
(asgiref's ThreadSensitiveContext), created and joined per request even when the
request only uses it for Django's two signal hops (0.4 ms of CPU, measured). With the
async database on, a chat turn's work never needs that thread (config/db.py,
config/pg.py), so ChatKitASGIHandler serves /chatkit without it: Django's signals run
on asgiref's one shared sync thread instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import markcoroutinefunction, sync_to_async
from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponseBase
from django.urls import resolve
from django.utils.module_loading import import_string

from config import pg

logger = logging.getLogger(__name__)

CHATKIT_PATH = "/chatkit"
# Hooks that only read the request and set headers: run inline, in MIDDLEWARE order.
INLINE = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "corsheaders.middleware.CorsMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    }
)
# Middleware that /chatkit does not use (browser sessions, static files, this one).
SKIPPED = frozenset(
    {
        "config.fastpath.ChatKitFastPathMiddleware",
        "config.middleware.StaticFilesMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        # A JSON/SSE API: no page to protect with CSP; no password sign-in to throttle.
        "config.middleware.ContentSecurityPolicyMiddleware",
        "axes.middleware.AxesMiddleware",
    }
)

Handler = Callable[[HttpRequest], Awaitable[HttpResponseBase]]
FAST_PATH = "config.fastpath.ChatKitFastPathMiddleware"


def fast_path_active() -> bool:
    """Whether ChatKitFastPathMiddleware serves /chatkit: it is installed and knows every
    middleware in MIDDLEWARE."""
    known = INLINE | SKIPPED
    return FAST_PATH in settings.MIDDLEWARE and all(p in known for p in settings.MIDDLEWARE)


def _request_phase(hook: Any, request: HttpRequest) -> HttpResponseBase | None:
    if isinstance(hook, CorsMiddleware):
        return hook.check_preflight(request)
    process_request = getattr(hook, "process_request", None)
    return process_request(request) if process_request is not None else None


def _response_phase(hook: Any, request: HttpRequest, response: HttpResponseBase):
    if isinstance(hook, CorsMiddleware):
        return hook.add_response_headers(request, response)
    process_response = getattr(hook, "process_response", None)
    return process_response(request, response) if process_response is not None else response


class ChatKitFastPathMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)
        unknown = [path for path in settings.MIDDLEWARE if path not in INLINE | SKIPPED]
        self.hooks: list[Any] | None = None
        if unknown:
            logger.warning("ChatKit fast path off: unknown middleware %s", ", ".join(unknown))
            return
        self.hooks = [
            import_string(path)(get_response) for path in settings.MIDDLEWARE if path in INLINE
        ]
        self._match: Any = None

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if self.hooks is None or request.path_info != CHATKIT_PATH:
            return await self.get_response(request)
        entered: list[Any] = []
        response: HttpResponseBase | None = None
        for hook in self.hooks:
            entered.append(hook)
            response = _request_phase(hook, request)
            if response is not None:
                break
        if response is None:
            response = await self._view(request)
        for hook in reversed(entered):
            response = _response_phase(hook, request, response)
        return response

    async def _view(self, request: HttpRequest) -> HttpResponseBase:
        if self._match is None:
            self._match = resolve(CHATKIT_PATH)
        request.resolver_match = self._match
        try:
            return await self._match.func(request)
        except Exception as exc:  # noqa: BLE001 - Django's own handling, as in the chain
            return await sync_to_async(response_for_exception, thread_sensitive=False)(request, exc)


class ChatKitASGIHandler(ASGIHandler):
    """Django's ASGI handler; /chatkit skips the per-request thread (module docstring),
    when the fast path serves it: otherwise its sync middleware would all queue on
    asgiref's one shared thread."""

    def __init__(self) -> None:
        super().__init__()
        self.threadless_chatkit = fast_path_active()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope.get("path") == CHATKIT_PATH
            and self.threadless_chatkit
            and pg.enabled()
        ):
            await self.handle(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
