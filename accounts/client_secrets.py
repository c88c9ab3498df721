"""ChatKit client secrets: short-lived, signed, bound to one user and to /chatkit.

They are signed (HMAC with SECRET_KEY), so any worker can check one, and they
carry what revocation needs (accounts.revocation): the user's secret generation
and, when minted from a page session, that session's id. One query checks the
user is active, of the same generation, and that the session has not signed out.
The format uses only characters allowed in a `Sec-WebSocket-Protocol` value.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db.models import Exists, QuerySet

from accounts.models import RevokedSession, User
from accounts.services import SELECT_USER_SQL, user_from_row
from config import pg
from config.db import afirst_or_none, first_or_none
from config.exceptions import AuthError

PREFIX = "cks_"
MAX_LENGTH = 512
# The salt keeps its old module name: a new one would sign every live secret out.
_SALT = "chat.sessions.client_secret.v2"


@dataclass(frozen=True)
class SecretClaims:
    user_id: int
    expires_at: int
    generation: int
    sid: str | None


def is_client_secret(token: str) -> bool:
    return token.startswith(PREFIX)


def _signer() -> signing.Signer:
    # "." rather than ":" between payload and signature: a valid subprotocol token.
    return signing.Signer(salt=_SALT, sep=".")


def mint_client_secret(*, user: User, sid: str | None = None) -> tuple[str, int]:
    """A new secret for `user` (from page session `sid`, if any) and its expiry (unix s)."""
    expires_at = int(time.time()) + int(settings.CHATKIT["SESSION_TTL"])
    payload: dict[str, object] = {
        "u": user.pk,
        "e": expires_at,
        "g": user.secret_generation,
        "n": secrets.token_urlsafe(8),
        "aud": "chatkit",
    }
    if sid:
        payload["s"] = sid
    return PREFIX + _signer().sign_object(payload, compress=False), expires_at


def client_secret_claims(secret: str) -> SecretClaims:
    """The checked claims of an unexpired secret (no database access); else AuthError."""
    if not is_client_secret(secret) or len(secret) > MAX_LENGTH:
        raise AuthError("Not a ChatKit client secret.")
    try:
        payload = _signer().unsign_object(secret.removeprefix(PREFIX))
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as exc:
        raise AuthError("ChatKit client secret is not valid.") from exc
    if not isinstance(payload, dict) or payload.get("aud") != "chatkit":
        raise AuthError("ChatKit client secret is not valid.")
    user_id, expires_at = payload.get("u"), payload.get("e")
    generation, sid = payload.get("g"), payload.get("s")
    if not all(isinstance(value, int) for value in (user_id, expires_at, generation)):
        raise AuthError("ChatKit client secret is not valid.")
    if sid is not None and not isinstance(sid, str):
        raise AuthError("ChatKit client secret is not valid.")
    if expires_at <= time.time():
        raise AuthError("ChatKit client secret has expired.")
    return SecretClaims(user_id=user_id, expires_at=expires_at, generation=generation, sid=sid)


def _owner(claims: SecretClaims) -> QuerySet[User]:
    """The active user of these claims, unless revoked (one query)."""
    users = User.objects.filter(
        pk=claims.user_id, is_active=True, secret_generation=claims.generation
    )
    if claims.sid is not None:
        users = users.filter(~Exists(RevokedSession.objects.filter(sid=claims.sid)))
    return users


def _checked(user: User | None) -> User:
    if user is None:
        raise AuthError("ChatKit client secret is not valid.")
    return user


def authenticate_client_secret(secret: str) -> User:
    return _checked(first_or_none(_owner(client_secret_claims(secret))))


async def aauthenticate_client_secret(secret: str) -> User:
    return (await aauthenticate_client_secret_claims(secret))[0]


# `_owner` in SQL, for the event loop (config/pg.py): every chat request and socket
# made with a secret checks it.
OWNER_SQL = f"{SELECT_USER_SQL} WHERE id = %s AND is_active AND secret_generation = %s"
OWNER_UNREVOKED_SQL = (
    f"{OWNER_SQL} AND NOT EXISTS (SELECT 1 FROM {RevokedSession._meta.db_table} WHERE sid = %s)"
)


async def _aowner(claims: SecretClaims) -> User | None:
    if not pg.enabled():
        return await afirst_or_none(_owner(claims))
    if claims.sid is None:
        row = await pg.fetchone(OWNER_SQL, (claims.user_id, claims.generation))
    else:
        params = (claims.user_id, claims.generation, claims.sid)
        row = await pg.fetchone(OWNER_UNREVOKED_SQL, params)
    return user_from_row(row)


async def aauthenticate_client_secret_claims(secret: str) -> tuple[User, SecretClaims]:
    """The user of a valid secret and its claims (for sockets: expiry, session)."""
    claims = client_secret_claims(secret)
    return _checked(await _aowner(claims)), claims
