"""User provisioning from verified Better Auth claims."""

from __future__ import annotations

import hashlib

from asgiref.sync import sync_to_async
from django.db import IntegrityError, transaction

from accounts.jwt import Claims
from accounts.models import User
from config.exceptions import AuthError


def _username_for(sub: str) -> str:
    candidate = f"ba_{sub}"
    if len(candidate) <= 150:
        return candidate
    return "ba_" + hashlib.sha256(sub.encode()).hexdigest()


def user_from_claims(*, claims: Claims) -> User:
    """Find or create the user of a Better Auth `sub`; keep email and name current."""
    user = User.objects.filter(better_auth_id=claims.sub).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create(
                    better_auth_id=claims.sub,
                    username=_username_for(claims.sub),
                    email=claims.email,
                    name=claims.name,
                )
        except IntegrityError:
            # Two first requests of a new user raced; the other one created it.
            user = User.objects.get(better_auth_id=claims.sub)
    else:
        changed = [
            field
            for field, value in (("email", claims.email), ("name", claims.name))
            if value and getattr(user, field) != value
        ]
        if changed:
            for field in changed:
                setattr(user, field, getattr(claims, field))
            user.save(update_fields=changed)
    if not user.is_active:
        raise AuthError("This account is deactivated.")
    return user


async def auser_from_claims(*, claims: Claims) -> User:
    # The common case (known, unchanged, active user) is one async query.
    user = await User.objects.filter(better_auth_id=claims.sub).afirst()
    if (
        user is not None
        and user.is_active
        and not (
            (claims.email and user.email != claims.email)
            or (claims.name and user.name != claims.name)
        )
    ):
        return user
    return await sync_to_async(user_from_claims)(claims=claims)
