"""Writes on users: provisioning from verified Better Auth claims, deactivation, sign-out."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from accounts.jwt import Claims
from accounts.models import User
from accounts.revocation import revoke_session, revoke_user_secrets
from config import pg
from config.db import afirst_or_none, first_or_none, run_sync
from config.exceptions import AuthError


def _username_for(sub: str) -> str:
    candidate = f"ba_{sub}"
    if len(candidate) <= 150:
        return candidate
    return "ba_" + hashlib.sha256(sub.encode()).hexdigest()


def _create_user(*, claims: Claims) -> User:
    """Create the user of a new `sub`; a concurrent first request may win the race."""
    # A Django-only account may already hold the derived username: then fall
    # back to a random one rather than failing this user's sign-in.
    for username in (_username_for(claims.sub), f"ba_{uuid.uuid4().hex}"):
        try:
            user = User(
                better_auth_id=claims.sub, username=username, email=claims.email, name=claims.name
            )
            # Better Auth owns the credentials: no Django password can sign in.
            user.set_unusable_password()
            with transaction.atomic():
                user.save(force_insert=True)
            return user
        except IntegrityError:
            # Either the other request created this `sub` (use it) or the
            # username was taken (try the next one).
            existing = first_or_none(User.objects.filter(better_auth_id=claims.sub))
            if existing is not None:
                return existing
    raise AuthError("Could not provision this account.")


def _claims_differ(user: User, claims: Claims) -> list[str]:
    # An absent claim never blanks a field that Better Auth filled before.
    return [
        field
        for field in ("email", "name")
        if getattr(claims, field) and getattr(user, field) != getattr(claims, field)
    ]


def user_from_claims(*, claims: Claims) -> User:
    """Find or create the user of a Better Auth `sub`; keep email and name current."""
    user = first_or_none(User.objects.filter(better_auth_id=claims.sub))
    if user is None:
        user = _create_user(claims=claims)
    if not user.is_active:
        # Checked before any write: a deactivated account is left untouched.
        raise AuthError("This account is deactivated.")
    changed = _claims_differ(user, claims)
    if changed:
        for field in changed:
            setattr(user, field, getattr(claims, field))
        user.save(update_fields=changed)
    return user


async def auser_from_claims(*, claims: Claims) -> User:
    """Async `user_from_claims`: the common case (known, unchanged, active) is one query."""
    user = await _auser_by_sub(claims.sub)
    if user is not None and user.is_active and not _claims_differ(user, claims):
        return user
    # A new or changed user: written through the ORM (config/db.py's worker threads).
    return await run_sync(user_from_claims, claims=claims)


# Every chat request looks its user up: on the event loop (config/pg.py) when it can.
_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]
SELECT_USER_SQL = (
    f"SELECT {', '.join(field.column for field in User._meta.concrete_fields)} "
    f"FROM {User._meta.db_table}"
)
USER_BY_SUB_SQL = f"{SELECT_USER_SQL} WHERE better_auth_id = %s"


def user_from_row(row: tuple[Any, ...] | None) -> User | None:
    """The User of a row selected with SELECT_USER_SQL, as the ORM would build it."""
    return None if row is None else User.from_db("default", _USER_FIELDS, row)


async def _auser_by_sub(sub: str) -> User | None:
    if not pg.enabled():
        return await afirst_or_none(User.objects.filter(better_auth_id=sub))
    return user_from_row(await pg.fetchone(USER_BY_SUB_SQL, (sub,)))


def user_deactivate(*, user: User) -> User:
    """Deactivate `user`: from the commit on, their JWTs and every client secret they
    hold answer 401 (a new secret generation, so reactivating them revives none) and
    their open sockets close with 4401."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        revoke_user_secrets(user_id=user.pk)
    user.refresh_from_db(fields=["is_active", "secret_generation"])
    return user


def user_sign_out(*, user: User, sid: str) -> None:
    """Sign the page session `sid` of `user` out of ChatKit: the secrets minted from it
    answer 401 and its sockets close (the user's other sessions are untouched)."""
    with transaction.atomic():
        revoke_session(user_id=user.pk, sid=sid)
