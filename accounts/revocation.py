"""Revocation of ChatKit client secrets and live sockets, seen by every worker.

Scope (docs/security.md, "Revocation"):
- A client secret carries its user's `secret_generation` and, when minted from a
  page session, that session's id (`sid`, a random value kept in the session).
- Signing out of the page (`POST /accounts/logout/`, or the admin's) stores the sid
  as a `RevokedSession` row (accounts.services.user_sign_out): every secret minted
  from that browser session answers 401 on any worker at once. Each sign-in gets a
  fresh sid and revokes the one it replaces, and a session whose data is discarded
  (another user signing in on the same browser) is revoked first
  (accounts.session_store): no sign-in outlives the browser's sign-out. Secrets
  minted with a Better Auth JWT have no sid; they end at expiry or with the user.
- Deactivating a user (accounts.services.user_deactivate) bumps the generation:
  all of their secrets are revoked, and stay so if the user is reactivated.
- Open `/ws/todos/` sockets hear both through the channel layer (a message to the
  session's or the user's group, sent once the change is committed) and close with
  4401. They also re-check their access every few seconds (`access_held`,
  accounts.access_watch): a user deactivated without the service (a save, a queryset
  update) or deleted is closed too. The chat's event streams (a turn's answer, a
  re-attach) are re-checked with them and end the same way.

The database is the source of truth, so this works without Redis; Redis only
carries the socket messages across workers.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import RevokedSession, User
from config.broadcast import send_to_group

# Where a page session keeps its sid.
SESSION_KEY = "chatkit_sid"
# Channel-layer message type; Channels dispatches it to the consumer's `auth_revoked`.
REVOKED_MESSAGE_TYPE = "auth.revoked"


def new_sid() -> str:
    return secrets.token_urlsafe(18)


def user_group(user_id: int) -> str:
    """The group every live socket of one user joins (todo events and revocations)."""
    return f"user.{user_id}"


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
    """Revoke every secret minted from this page session; its sockets close once the
    revocation is committed."""
    RevokedSession.objects.get_or_create(sid=sid, defaults={"user_id": user_id})
    # Secrets live at most SESSION_TTL: older rows protect nothing any more.
    ttl = int(settings.CHATKIT["SESSION_TTL"])
    cutoff = timezone.now() - datetime.timedelta(seconds=max(ttl, 0) + 60)
    RevokedSession.objects.filter(revoked_at__lt=cutoff).delete()
    send_revoked_on_commit(session_group(sid))


def revoke_user_secrets(*, user_id: int) -> None:
    """Revoke all of a user's secrets (a new generation); all their sockets close once
    the revocation is committed."""
    User.objects.filter(pk=user_id).update(secret_generation=F("secret_generation") + 1)
    send_revoked_on_commit(user_group(user_id))


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


def send_revoked_on_commit(group: str) -> None:
    """Tell the sockets of `group` (on any worker) to close with 4401, after the current
    transaction commits (at once outside one): a rolled-back revocation closes nothing,
    and a socket never hears of one its reconnect could not yet see."""
    transaction.on_commit(
        lambda: send_to_group(group, {"type": REVOKED_MESSAGE_TYPE}, what="a revocation")
    )
