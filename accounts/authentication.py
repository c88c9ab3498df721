"""Bearer authentication with Better Auth JWTs, for DRF and for async views."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.jwt import get_verifier
from accounts.models import User
from accounts.services import auser_from_claims, user_from_claims
from config.exceptions import AuthError


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer` header; None without the header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise AuthError("Authorization header must be 'Bearer <token>'.")
    return token


def authenticate_jwt(token: str) -> User:
    """The active user of a valid Better Auth JWT (created on first sight); else AuthError."""
    return user_from_claims(claims=get_verifier().verify(token))


async def aauthenticate_jwt(token: str) -> User:
    """Async `authenticate_jwt`: stays on the event loop unless a JWKS fetch or write is due."""
    return await auser_from_claims(claims=await get_verifier().averify(token))


class BetterAuthJWTAuthentication(BaseAuthentication):
    """DRF: `Authorization: Bearer <Better Auth JWT>`. ChatKit client secrets are refused."""

    def authenticate(self, request: Request) -> tuple[User, str] | None:
        header = request._request.headers.get("Authorization", "")
        if header.strip().partition(" ")[0].lower() != "bearer":
            # Not ours (e.g. `Basic` added by a staging proxy): leave the request
            # to the next authenticator (the page's session) instead of a 401,
            # and say why if nothing else authenticates it.
            if header:
                request._request.auth_hint = "Authorization header must be 'Bearer <token>'."
            return None
        try:
            token = bearer_token(request._request)
            if token is None:
                return None
            return authenticate_jwt(token), token
        except AuthError as exc:
            # DRF's own failure type, so DRF marks the request unauthenticated
            # (a later `request.user` does not re-run this) and sends 401.
            raise AuthenticationFailed(exc.message) from exc

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
