"""One turn at a time per thread, across workers; a resent message is not a new turn.

The lock lives in the default cache: Redis when REDIS_URL is set (shared by every
worker; SET NX to take it, a compare-and-delete script to give it back, each one
round trip on the event loop: config/async_cache.py), the process's memory
otherwise (one worker, as in development). A PostgreSQL advisory lock is not used: it belongs to a
session, and a turn hands its pooled connection back while the model talks.

A lock's value says who holds it and since when (`lock_holder`): a turn with a run
(which proves itself alive with a lease after its first second: runs/leases.py), one
without, or the finisher of a dead turn (chat/recovery.py). A run's lock older than a
lease with no lease beside it belongs to a worker that died in the turn's first second.

A client that may resend a message names it with a key (`Idempotency-Key`
header, or `metadata.idempotency_key` in the request). The key fixes the id of
the user message (or of the thread, for `threads.create`), so a resend finds it
stored and gets the stored turn back instead of a second one.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from chatkit.store import NotFoundError, Store
from chatkit.types import (
    ChatKitReq,
    ErrorEvent,
    HiddenContextItem,
    Page,
    SDKHiddenContextItem,
    StreamingReq,
    Thread,
    ThreadCreatedEvent,
    ThreadItem,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsRetryAfterItemReq,
    UserMessageItem,
)
from django.conf import settings
from django.http import HttpRequest

from chat.context import RequestContext
from chat.live import publish_thread_change
from chat.models import new_thread_id
from chat.sse import sse_event
from config import async_cache
from config.exceptions import BadRequest

logger = logging.getLogger(__name__)

# A lock outlives a crashed worker by this long at most; a live turn keeps renewing it
# (as it streams, and with its run's lease: runs/leases.py, a silent model too).
LOCK_TTL_SECONDS = 45
RENEW_EVERY_SECONDS = 10
# A waiting turn tries the lock again after this, then after twice as long, up to 0.25 s.
FIRST_RETRY_SECONDS = 0.02
MAX_KEY_CHARS = 200
# A replayed turn sends at most this many of the items that followed its message.
REPLAY_ITEMS = 100

# Who holds a turn lock (the first character of its value, see lock_holder).
RUN, TURN, FINISHER = "r", "t", "f"

MSG_THREAD_BUSY = (
    "This conversation is still answering another message. "
    "Wait for that answer, then send yours again."
)


def wait_seconds() -> float:
    """How long a second turn waits for the first before giving up (settings.CHATKIT)."""
    return float(settings.CHATKIT["TURN_WAIT_SECONDS"])


def lock_key(thread_id: str) -> str:
    return f"chat:turn:{hashlib.sha256(thread_id.encode()).hexdigest()[:40]}"


def lock_value(holder: str) -> str:
    """A new lock value: the holder's kind, the wall-clock time now, a random token."""
    return f"{holder}{time.time():.3f}:{uuid.uuid4().hex}"


def lock_holder(value: object) -> tuple[str, float] | None:
    """(kind, since when as a Unix time) of a lock's value; None for one of another
    format (a lock taken before values said it)."""
    if not isinstance(value, str) or ":" not in value:
        return None
    head = value.split(":", 1)[0]
    try:
        return head[0], float(head[1:])
    except (IndexError, ValueError):
        return None


async def turn_locks(thread_ids: list[str]) -> dict[str, str]:
    """The held turn locks of these threads (on any worker), by thread id. The cache
    being down reads as none: chat runs unlocked then too."""
    try:
        values = await async_cache.get_many([lock_key(thread_id) for thread_id in thread_ids])
    except Exception:
        logger.warning("Turn lock cache unavailable; threads read as idle", exc_info=True)
        return {}
    held = zip(thread_ids, values, strict=True)
    return {thread_id: str(value) for thread_id, value in held if value is not None}


async def threads_answering(thread_ids: list[str]) -> set[str]:
    """Which of these threads have a turn going (their lock is held, on any worker)."""
    return set(await turn_locks(thread_ids))


class TurnLock:
    """A per-thread lock in the cache; failures of the cache fail open (logged)."""

    def __init__(self, thread_id: str, holder: str = TURN) -> None:
        self.key = lock_key(thread_id)
        self.holder = holder
        self.token = lock_value(holder)
        self._renewed = 0.0

    async def acquire(
        self, wait: float, on_busy: Callable[[], Awaitable[object]] | None = None
    ) -> bool:
        """True once held; False if another turn still held it after `wait` seconds.
        `on_busy` is awaited once, at the first refusal (a dead turn's lock is finished
        there: chat/recovery.py), and the lock tried again at once."""
        deadline, delay = time.monotonic() + wait, FIRST_RETRY_SECONDS
        while True:
            # Dated from this try, not from when the turn began waiting: a run's lock
            # reads as a dead turn's once older than a lease (chat/recovery.py).
            self.token = lock_value(self.holder)
            try:
                if await async_cache.add(self.key, self.token, LOCK_TTL_SECONDS):
                    self._renewed = time.monotonic()
                    return True
            except Exception:  # the cache being down must not stop chat
                logger.warning("Turn lock cache unavailable; running unlocked", exc_info=True)
                return True
            if on_busy is not None:
                busy, on_busy = on_busy, None
                await busy()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if delay == FIRST_RETRY_SECONDS:
                logger.debug("Turn waits for another on %s", self.key)
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.25)

    async def renew(self) -> None:
        """Extend the lock now and then while the turn streams."""
        if time.monotonic() - self._renewed < RENEW_EVERY_SECONDS:
            return
        self._renewed = time.monotonic()
        try:
            await async_cache.touch_if(self.key, self.token, LOCK_TTL_SECONDS)
        except Exception:
            logger.warning("Could not renew a turn lock", exc_info=True)

    async def touch(self) -> None:
        """Extend the lock now (the run's lease renewal: the model may be silent)."""
        self._renewed = time.monotonic()
        try:
            await async_cache.touch_if(self.key, self.token, LOCK_TTL_SECONDS)
        except Exception:
            logger.warning("Could not renew a turn lock", exc_info=True)

    async def release(self) -> None:
        try:
            await asyncio.shield(async_cache.delete_if(self.key, self.token))
        except Exception:
            logger.warning("Could not release a turn lock (it expires on its own)", exc_info=True)


def idempotency_key(request: HttpRequest, parsed: ChatKitReq) -> str | None:
    """The client's key for a message it may resend, if it sent a usable one."""
    metadata: dict[str, Any] = getattr(parsed, "metadata", None) or {}
    key = request.headers.get("Idempotency-Key") or metadata.get("idempotency_key")
    if isinstance(key, str) and 0 < len(key.strip()) <= MAX_KEY_CHARS:
        return key.strip()
    return None


def keyed_id(prefix: str, *parts: object) -> str:
    """A stable id for a (user, thread, key): the same resend names the same row."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    return f"{prefix}_{digest[:32]}"


async def one_turn_at_a_time(
    store: Store[RequestContext],
    request: StreamingReq,
    context: RequestContext,
    stream: Callable[[], AsyncIterator[bytes]],
) -> AsyncIterator[bytes]:
    """Run `stream` (the SDK's handling of `request`) holding its thread's turn lock.

    A turn that cannot get the lock in time ends at once with a friendly error
    event; a resend of a keyed message replays the stored turn instead.
    """
    thread_id: str | None = getattr(request.params, "thread_id", None)
    key = context.idempotency_key
    if isinstance(request, ThreadsCreateReq):
        # A new thread's id is fixed before it exists, so its run is named (and
        # locked, stopped, re-attached) by it from the start; a key fixes it too.
        thread_id = context.keyed_thread_id = (
            keyed_id("thr", context.user.pk, key) if key is not None else new_thread_id()
        )
    if thread_id is None:
        async for chunk in stream():
            yield chunk
        return
    lock = TurnLock(thread_id, RUN if context.run is not None else TURN)
    from chat import recovery  # it finishes turns through this module's locks

    user_id = context.user.pk
    busy = functools.partial(recovery.recover, thread_id, user_id)
    if not await lock.acquire(wait_seconds(), on_busy=busy):
        yield sse_event(ErrorEvent(code="custom", message=MSG_THREAD_BUSY, allow_retry=True))
        return
    run = context.run
    try:
        if run is not None:
            run.on_renew(lock.touch)
            await run.hold(thread_id)  # the thread's run while this turn holds its lock
        replay = await _stored_turn(store, request, context, thread_id)
        async for chunk in replay if replay is not None else stream():
            await lock.renew()
            yield chunk
    finally:
        try:
            # Unlocked before the run lets go of its lease: a run's lock outliving its
            # lease reads as a turn that died in its first second (chat/recovery.py).
            await lock.release()
        finally:
            # Shielded (a stopped run's cancellation must not cut it short), with no
            # task for it when nothing is left to await (runs/registry.py).
            if run is not None and (rest := run.let_go()) is not None:
                await asyncio.shield(rest)
        # Unlocked: other tabs refetch the thread whole and active (chat/live.py).
        publish_thread_change(user_id=context.user.pk, thread_id=thread_id, reason="status")


async def _stored_turn(
    store: Store[RequestContext], request: StreamingReq, context: RequestContext, thread_id: str
) -> AsyncIterator[bytes] | None:
    """The stored turn a keyed resend names, as events; None if it is a new turn."""
    key = context.idempotency_key
    if key is None:
        return None
    if isinstance(request, ThreadsCreateReq):
        try:
            thread = await store.load_thread(thread_id, context)
        except NotFoundError:
            return None
        return _replay(store, context, thread, None)
    if isinstance(request, ThreadsAddUserMessageReq):
        message_id = keyed_id("msg", context.user.pk, thread_id, key)
        try:
            message = await store.load_item(thread_id, message_id, context)
        except NotFoundError:
            context.user_message_id = message_id  # the store gives the new message this id
            return None
        thread = await store.load_thread(thread_id, context)
        return _replay(store, context, thread, message)
    return None


async def _replay(
    store: Store[RequestContext],
    context: RequestContext,
    thread: ThreadMetadata,
    message: ThreadItem | None,
) -> AsyncIterator[bytes]:
    if message is None:
        yield sse_event(ThreadCreatedEvent(thread=Thread(**thread.model_dump(), items=Page())))
    else:
        yield sse_event(ThreadItemDoneEvent(item=message))
    after = message.id if message is not None else None
    page = await store.load_thread_items(thread.id, after, REPLAY_ITEMS, "asc", context)
    for item in page.data:
        if not isinstance(item, HiddenContextItem | SDKHiddenContextItem):
            yield sse_event(ThreadItemDoneEvent(item=item))


async def check_retry_request(
    store: Store[RequestContext], request: ThreadsRetryAfterItemReq, context: RequestContext
) -> None:
    """Refuse, before any stream, a retry the SDK would answer with an empty stream (a
    missing item: NotFoundError, 404) or fail inside it (not a user message: 400)."""
    retried = await store.load_item(request.params.thread_id, request.params.item_id, context)
    if not isinstance(retried, UserMessageItem):
        raise BadRequest("Only a user message can be retried.")
