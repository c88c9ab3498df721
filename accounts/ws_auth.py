"""Websocket admission: exact `Origin` matching, then the Django session or a
ChatKit client secret.

The secret comes in `?token=` (SPEC) or, kept out of URLs and so out of every
log, as a subprotocol: the client offers `["chatkit-secret", "<secret>"]` and
the server answers `chatkit-secret` (never echoing the secret).

A connection that is neither leaves `scope["user"]` anonymous; the consumer then
closes it with code 4401. A token that is present but not valid wins over the
session: a client that sent a token meant to use it, so a bad one is refused.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host

from accounts.client_secrets import PREFIX, aauthenticate_client_secret_claims
from config.exceptions import AuthError

logger = logging.getLogger(__name__)

SECRET_SUBPROTOCOL = "chatkit-secret"
# Set in the scope for the consumer: the subprotocol to answer, and the secret's claims.
SCOPE_SUBPROTOCOL = "chatkit_subprotocol"
SCOPE_CLAIMS = "chatkit_secret_claims"

_DEFAULT_PORTS = {"http": 80, "https": 443}


class ClientSecretMiddleware(BaseMiddleware):
    """Sets `scope["user"]` from a ChatKit client secret when one is given."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope)
        offered = [str(p) for p in scope.get("subprotocols") or []]
        if SECRET_SUBPROTOCOL in offered:
            scope[SCOPE_SUBPROTOCOL] = SECRET_SUBPROTOCOL
        token = _query_token(scope)
        if token is None:
            token = next((p for p in offered if p.startswith(PREFIX)), None)
        if token is not None:
            try:
                scope["user"], scope[SCOPE_CLAIMS] = await aauthenticate_client_secret_claims(token)
            except AuthError:
                scope["user"] = AnonymousUser()
        return await super().__call__(scope, receive, send)


def _query_token(scope: dict[str, Any]) -> str | None:
    query = scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(query, keep_blank_values=True).get("token")
    return values[0] if values else None


# An origin as browsers send it (RFC 6454): scheme://host[:port], nothing else: no
# userinfo, no path (not even "/"), no query or fragment.
_ORIGIN = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


def _origin_tuple(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, default ports filled in; None if malformed."""
    match = _ORIGIN.fullmatch(origin)
    if match is None:
        return None
    scheme, host = match["scheme"].lower(), match["host"].lower()
    port = int(match["port"]) if match["port"] else _DEFAULT_PORTS.get(scheme)
    if scheme not in _DEFAULT_PORTS or not host or port is None or not 0 < port < 65536:
        return None
    return scheme, host, port


def _own_origin(scope: dict[str, Any]) -> tuple[str, str, int] | None:
    """The server's own origin: the scheme it was reached with and its Host header."""
    headers = dict(scope.get("headers") or [])
    host_header = headers.get(b"host", b"").decode("latin-1")
    domain, _ = split_domain_port(host_header)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return _origin_tuple(f"{_scheme(scope, headers)}://{host_header}")


def _scheme(scope: dict[str, Any], headers: dict[bytes, bytes]) -> str:
    """http or https, as Django's `request.is_secure()` decides it: the proxy's header
    named by SECURE_PROXY_SSL_HEADER when configured (production), else the scope's."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        value = headers.get(name.removeprefix("HTTP_").lower().replace("_", "-").encode())
        if value is not None:
            first = value.decode("latin-1").split(",", 1)[0].strip()
            return "https" if first == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


def origin_allowed(scope: dict[str, Any]) -> bool:
    """SPEC: `Origin` matches the server's own or one of CORS_ALLOWED_ORIGINS exactly.

    `null` is always refused. A missing `Origin` (not a browser) is accepted
    only without cookies: a browser always sends one, so a cookie-bearing
    request without it is not trusted with the session.
    """
    headers = dict(scope.get("headers") or [])
    raw = headers.get(b"origin")
    if raw is None:
        return b"cookie" not in headers
    origin = _origin_tuple(raw.decode("latin-1").strip())
    if origin is None:
        return False
    allowed = {_origin_tuple(o) for o in settings.CORS_ALLOWED_ORIGINS}
    allowed.add(_own_origin(scope))
    return origin in allowed - {None}


class ExactOriginValidator:
    """Denies the handshake (403) when `origin_allowed` says no."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            logger.info("Websocket refused: origin not allowed")
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def WebsocketAuthMiddleware(inner: Any) -> Any:  # noqa: N802 - named like Channels' stacks
    """Origin first, then session auth (cookies), then an optional client secret on top."""
    return ExactOriginValidator(AuthMiddlewareStack(ClientSecretMiddleware(inner)))
