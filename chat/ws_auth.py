"""Websocket authentication: the Django session, or a ChatKit client secret in `?token=`.

A connection that is neither leaves `scope["user"]` anonymous; the consumer then
closes it with code 4401. A token that is present but not valid wins over the
session: a client that sent a token meant to use it, so a bad one is refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser

from chat.sessions import aauthenticate_client_secret
from config.exceptions import AuthError


class ClientSecretMiddleware(BaseMiddleware):
    """Sets `scope["user"]` from `?token=<ChatKit client secret>` when one is given."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token = _query_token(scope)
        if token is not None:
            scope = dict(scope)
            try:
                scope["user"] = await aauthenticate_client_secret(token)
            except AuthError:
                scope["user"] = AnonymousUser()
        return await super().__call__(scope, receive, send)


def _query_token(scope: dict[str, Any]) -> str | None:
    query = scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(query).get("token")
    return values[0] if values else None


def WebsocketAuthMiddleware(inner: Any) -> Any:  # noqa: N802 - named like Channels' stacks
    """Session auth (cookies) first, then an optional client secret on top."""
    return AuthMiddlewareStack(ClientSecretMiddleware(inner))
