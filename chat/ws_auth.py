"""Websocket authentication (placeholder until the realtime work lands)."""

from channels.auth import AuthMiddlewareStack


def WebsocketAuthMiddleware(inner):  # noqa: N802
    return AuthMiddlewareStack(inner)
