"""Open connections re-checked against revocation: `/ws/todos/` sockets and the chat's
event streams (`POST /chatkit`'s answer, `GET …/events`).

Each holds an access (accounts.revocation.SocketAccess: its user, its client secret's
generation, its page session's sid) taken when it was authorised. The open connections
of an event loop are re-checked together every CHATKIT_SOCKET_RECHECK_SECONDS (two
queries a round for all of them, `access_held`): one whose user was deactivated (by any
path) or deleted, whose secret's generation is gone, or whose page session signed out,
is ended (a socket closes with 4401, a stream ends). docs/security.md, "Revocation".
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from django.conf import settings
from django.http import HttpRequest

from accounts.authentication import bearer_token
from accounts.client_secrets import client_secret_claims, is_client_secret
from accounts.models import User
from accounts.revocation import SocketAccess, access_held, session_sid
from config.db import run_sync

logger = logging.getLogger(__name__)


class Watched(Protocol):
    """What the watch re-checks: an access, whether it has ended, and how to end it."""

    access: SocketAccess | None
    ended: bool

    async def revoke(self) -> None: ...


class Watch:
    """The open connections of one event loop, re-checked together on one timer."""

    def __init__(self) -> None:
        self.watched: set[Watched] = set()
        self.task: asyncio.Task[None] | None = None

    def add(self, watched: Watched) -> None:
        self.watched.add(watched)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, watched: Watched) -> None:
        self.watched.discard(watched)

    async def _run(self) -> None:
        try:
            while self.watched:
                await asyncio.sleep(float(settings.CHATKIT["SOCKET_RECHECK_SECONDS"]))
                await self.recheck()
        finally:
            self.task = None  # the next connection starts another

    async def recheck(self) -> None:
        open_ = [w for w in self.watched if not w.ended and w.access is not None]
        if not open_:
            return
        try:
            held = await run_sync(access_held, [w.access for w in open_])
        except Exception:  # the database is away: the next round tries again
            logger.warning("Could not re-check the access of open connections", exc_info=True)
            return
        for watched, ok in zip(open_, held, strict=True):
            if not ok:
                await watched.revoke()


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watch] = weakref.WeakKeyDictionary()


def watch() -> Watch:
    """The watch of the running event loop."""
    loop = asyncio.get_running_loop()
    found = _watches.get(loop)
    if found is None:
        found = _watches[loop] = Watch()
    return found


def request_access(request: HttpRequest, user: User) -> SocketAccess:
    """What an authorised HTTP request's access rests on: a client secret's generation
    and sid, or the page session's sid; a Better Auth JWT only on its user."""
    token = bearer_token(request)
    if token is not None:
        if is_client_secret(token):
            claims = client_secret_claims(token)  # checked already: no database access
            return (user.pk, claims.generation, claims.sid)
        return (user.pk, None, None)
    session = getattr(request, "session", None)
    return (user.pk, None, session_sid(session) if session is not None else None)


class StreamAccess:
    """An event stream's access: `ended` once revoked, when `wake` is called (so a
    reader waiting for its next chunk sees it at once)."""

    def __init__(self, access: SocketAccess, wake: Callable[[], None] | None = None) -> None:
        self.access: SocketAccess | None = access
        self.ended = False
        self.wake = wake

    # As a context manager: watched while inside (a run's listener enters it at its
    # first read and leaves it at its end, runs/registry.py: no generator around it).
    def __enter__(self) -> StreamAccess:
        watch().add(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        watch().discard(self)

    def is_ended(self) -> bool:
        return self.ended

    async def revoke(self) -> None:
        if not self.ended:
            self.ended = True
            logger.info("An event stream ended: its access was revoked")
            if self.wake is not None:
                self.wake()


async def while_access_holds(
    chunks: AsyncIterator[bytes], access: StreamAccess
) -> AsyncIterator[bytes]:
    """Relay `chunks` (which end by themselves once `access.ended`), watched from the
    first read to the last."""
    watch().add(access)
    try:
        async for chunk in chunks:
            if access.ended:
                return
            yield chunk
    finally:
        watch().discard(access)
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
