"""Django's sign-in and sign-out signals: each sign-in gets a fresh sid (revoking the
one it replaces), and signing out (the page's or the admin's) revokes the secrets
minted from the session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from accounts.models import User
from accounts.revocation import SESSION_KEY, new_sid
from accounts.services import user_sign_out


@receiver(user_logged_in)
def _new_sid_on_login(*, request: Any, user: User, **kwargs: Any) -> None:
    """A fresh sid for each sign-in; the one it replaces is revoked, so signing in again
    in the same browser never keeps secrets alive past the next sign-out. (Another
    user signing in flushes the session first: accounts.session_store revokes then.)"""
    session = getattr(request, "session", None)
    if session is None:
        return
    previous = session.get(SESSION_KEY)
    if isinstance(previous, str) and previous:
        user_sign_out(user=user, sid=previous)
    session[SESSION_KEY] = new_sid()


@receiver(user_logged_out)
def _revoke_on_logout(*, request: Any, user: User | None, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    sid = session.pop(SESSION_KEY, None) if session is not None else None
    if user is not None and isinstance(sid, str) and sid:
        user_sign_out(user=user, sid=sid)  # (popped: the session's flush has no more)
