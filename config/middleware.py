"""Middleware kept async-capable: WhiteNoise for static paths, and the CSP header.

(WhiteNoise without making every request sync.)

WhiteNoise's middleware is sync-only, and one sync middleware makes Django run
the whole chain through thread hops for every request, /chatkit included. This
wrapper is async-capable and only calls WhiteNoise for static paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware

Handler = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


class StaticFilesMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.whitenoise = WhiteNoiseMiddleware(get_response)
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):  # sync, or a coroutine under ASGI
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self.whitenoise(request)

    def _serve_static(self, request: HttpRequest) -> HttpResponseBase | None:
        """WhiteNoise's own lookup (its __call__ minus the fall-through)."""
        whitenoise = self.whitenoise
        if whitenoise.autorefresh:
            static_file = whitenoise.find_file(request.path_info)
        else:
            static_file = whitenoise.files.get(request.path_info)
        return whitenoise.serve(static_file, request) if static_file is not None else None

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(self.static_prefix):
            response = await sync_to_async(self._serve_static)(request)
            if response is not None:
                return response
        return await self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """django-csp's policy header, without making the chain sync.

    django-csp's own middleware is a MiddlewareMixin: under ASGI each request
    would hop to a thread twice. Its request and response steps are plain
    computations, so this async-capable wrapper calls them directly.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.csp = CSPMiddleware(get_response)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):  # sync, or a coroutine under ASGI
        if iscoroutinefunction(self):
            return self.__acall__(request)
        self.csp.process_request(request)
        return self.csp.process_response(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        self.csp.process_request(request)
        return self.csp.process_response(request, await self.get_response(request))
