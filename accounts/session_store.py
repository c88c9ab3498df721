"""The Django session store (SESSION_ENGINE): the database's, except that discarding a
signed-in session's data revokes the ChatKit client secrets minted from it.

`login()` flushes the session when another user signs in on the same browser, and
`logout()` flushes it too: either way the session's sid (accounts.revocation) is lost
with its data, so its secrets and sockets are revoked first, or they could never be
(SPEC "Revocation": after sign-out, every secret and socket of that browser's earlier
sign-ins is refused).
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth import SESSION_KEY as USER_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from accounts import revocation


def _owner_and_sid(user_id: object, sid: object) -> tuple[int, str] | None:
    if not isinstance(sid, str) or not sid:
        return None
    try:
        return int(str(user_id)), sid
    except ValueError:  # no user signed in: no secret was minted from this session
        return None


class SessionStore(DatabaseSessionStore):
    def flush(self) -> None:
        doomed = _owner_and_sid(self.get(USER_KEY), self.get(revocation.SESSION_KEY))
        super().flush()
        if doomed is not None:
            revocation.revoke_session(user_id=doomed[0], sid=doomed[1])

    async def aflush(self) -> None:
        user_id = await self.aget(USER_KEY)
        doomed = _owner_and_sid(user_id, await self.aget(revocation.SESSION_KEY))
        await super().aflush()
        if doomed is not None:
            await sync_to_async(revocation.revoke_session)(user_id=doomed[0], sid=doomed[1])
