"""Revocation of ChatKit client secrets and live sockets, seen by every worker.

Scope (docs/security.md):
- A client secret carries its user's `secret_generation` and, when minted from a
  page session, that session's id (`sid`, a random value kept in the session).
- Signing out of the page (`POST /accounts/logout/`) stores the sid as a
  `RevokedSession` row: every secret minted from that browser session answers
  401 on any worker at once. Each sign-in gets a fresh sid and revokes the one it
  replaces, and a session whose data is discarded (another user signing in on the
  same browser) is revoked first (accounts.session_store): no sign-in outlives the
  browser's sign-out. Secrets minted with a Better Auth JWT have no sid;
  they end at expiry or with the user.
- Deactivating a user bumps the generation: all of their secrets are revoked.
- Open `/ws/todos/` sockets hear both through the channel layer (a message to
  the session's or the user's group) and close with 4401. They also re-check
  their access every few seconds (`access_held`, todos.consumers): a user
  deactivated without a save (a queryset update) or deleted is closed too.

The database is the source of truth, so this works without Redis; Redis only
carries the socket messages across workers.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models import F
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import RevokedSession, User
from config.broadcast import send_to_group
from todos.events import group_name as user_group

# Where a page session keeps its sid.
SESSION_KEY = "chatkit_sid"
# Channel-layer message type; Channels dispatches it to the consumer's `auth_revoked`.
REVOKED_MESSAGE_TYPE = "auth.revoked"

__all__ = ["REVOKED_MESSAGE_TYPE", "SESSION_KEY", "session_group", "user_group"]


def new_sid() -> str:
    return secrets.token_urlsafe(18)


def session_group(sid: str) -> str:
    """The group the sockets of one page session join."""
    return f"auth.session.{sid}"


def session_sid(session: Any) -> str:
    """The sid of a Django session, created on first use."""
    sid = session.get(SESSION_KEY)
    if not isinstance(sid, str) or not sid:
        sid = new_sid()
        session[SESSION_KEY] = sid
    return sid


def revoke_session(*, user_id: int, sid: str) -> None:
    """Revoke every secret minted from this page session and close its sockets."""
    RevokedSession.objects.get_or_create(sid=sid, defaults={"user_id": user_id})
    # Secrets live at most SESSION_TTL: older rows protect nothing any more.
    ttl = int(settings.CHATKIT["SESSION_TTL"])
    cutoff = timezone.now() - datetime.timedelta(seconds=max(ttl, 0) + 60)
    RevokedSession.objects.filter(revoked_at__lt=cutoff).delete()
    send_revoked(session_group(sid))


def revoke_user_secrets(*, user_id: int) -> None:
    """Revoke all of a user's secrets (a new generation) and close all their sockets."""
    User.objects.filter(pk=user_id).update(secret_generation=F("secret_generation") + 1)
    send_revoked(user_group(user_id))


# What an open socket's access rests on: its user, and for a client secret the user's
# generation when it was minted; its page session's sid, if any.
SocketAccess = tuple[int, int | None, str | None]


def access_held(accesses: list[SocketAccess]) -> list[bool]:
    """For each access, whether it still holds: the user exists and is active, of the
    same generation, and the sid was not signed out. Two queries for any number."""
    generations = dict(
        User.objects.filter(pk__in={user_id for user_id, _, _ in accesses}, is_active=True)
        .order_by()
        .values_list("pk", "secret_generation")
    )
    sids = {sid for _, _, sid in accesses if sid}
    revoked = (
        set(RevokedSession.objects.filter(sid__in=sids).order_by().values_list("sid", flat=True))
        if sids
        else set()
    )
    return [
        user_id in generations
        and (generation is None or generations[user_id] == generation)
        and (sid is None or sid not in revoked)
        for user_id, generation, sid in accesses
    ]


def send_revoked(group: str) -> None:
    """Tell the sockets of `group` (on any worker) to close with 4401."""
    send_to_group(group, {"type": REVOKED_MESSAGE_TYPE}, what="a revocation")


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
        revoke_session(user_id=user.pk, sid=previous)
    session[SESSION_KEY] = new_sid()


@receiver(user_logged_out)
def _revoke_on_logout(*, request: Any, user: User | None, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    sid = session.pop(SESSION_KEY, None) if session is not None else None
    if user is not None and isinstance(sid, str) and sid:
        revoke_session(user_id=user.pk, sid=sid)  # (popped: the session's flush has no more)


@receiver(post_save, sender=User)
def _revoke_on_deactivation(*, instance: User, created: bool, **kwargs: Any) -> None:
    was_active = getattr(instance, "_loaded_active", None)
    if not created and was_active and not instance.is_active:
        revoke_user_secrets(user_id=instance.pk)
        # Keep the instance current: a later full save() must not write the old value back.
        instance.refresh_from_db(fields=["secret_generation"])
    instance._loaded_active = instance.is_active
