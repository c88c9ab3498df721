"""ChatKit client secrets: short-lived, signed, bound to one user and to /chatkit.

They are stateless (HMAC with SECRET_KEY via django.core.signing), so any worker
can check one; a deactivated user's secrets stop working at once.
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.core import signing

from accounts.models import User
from config.exceptions import AuthError

PREFIX = "cks_"
_SALT = "chat.sessions.client_secret"


def is_client_secret(token: str) -> bool:
    return token.startswith(PREFIX)


def mint_client_secret(*, user: User) -> tuple[str, int]:
    """A new secret for `user` and its expiry (unix seconds)."""
    expires_at = int(time.time()) + int(settings.CHATKIT["SESSION_TTL"])
    payload = {"u": user.pk, "e": expires_at, "n": secrets.token_urlsafe(8), "aud": "chatkit"}
    return PREFIX + signing.dumps(payload, salt=_SALT, compress=False), expires_at


def _user_id_from(secret: str) -> int:
    if not is_client_secret(secret) or len(secret) > 512:
        raise AuthError("Not a ChatKit client secret.")
    try:
        payload = signing.loads(secret.removeprefix(PREFIX), salt=_SALT)
    except signing.BadSignature as exc:
        raise AuthError("ChatKit client secret is not valid.") from exc
    if not isinstance(payload, dict) or payload.get("aud") != "chatkit":
        raise AuthError("ChatKit client secret is not valid.")
    expires_at, user_id = payload.get("e"), payload.get("u")
    if not isinstance(expires_at, int) or not isinstance(user_id, int):
        raise AuthError("ChatKit client secret is not valid.")
    if expires_at <= time.time():
        raise AuthError("ChatKit client secret has expired.")
    return user_id


def _checked(user: User | None) -> User:
    if user is None or not user.is_active:
        raise AuthError("ChatKit client secret is not valid.")
    return user


def authenticate_client_secret(secret: str) -> User:
    return _checked(User.objects.filter(pk=_user_id_from(secret)).first())


async def aauthenticate_client_secret(secret: str) -> User:
    return _checked(await User.objects.filter(pk=_user_id_from(secret)).afirst())
