"""Turns whose worker died: found and finished once, whenever they died.

A turn that dies leaves one of two traces:

- past its first second, a lease row that lapses (runs/leases.py). Each worker's
  sweep claims lapsed rows; a request for the thread whose lock looks stale (below)
  claims its row the same one-winner way (`recover`).
- within its first second, no lease: its turn lock (chat/turns.py) says it is a run's
  and since when. A run's lock older than `RUNS_LEASE_SECONDS` with no lease row
  beside it is a dead turn's, since a live run writes its lease at its first second.
  Once that lock has expired too (45 s), or the worker's cache died with it (no
  Redis: one worker, restarted), the thread's newest item is the unanswered user
  message, and no turn holds the thread: a turn that ends stores something after
  its message (an answer, an error card, the SDK's hidden note of a stop).

Nothing here costs a turn anything: the lock's value is written anyway, and the
checks run in the sweep (`sweep_unleased`: threads whose last write was
`RUNS_LEASE_SECONDS` to about 2 minutes ago, 10 minutes on a worker's first sweep),
when a turn finds its thread's lock held, and on reads of the thread that find a
stale lock (`threads.get_by_id`, `items.list`, `/events`).

Finishing takes the thread's turn lock in place of the dead turn's (a compare-and-
set of the dead value, or SET NX when none), so exactly one finisher writes the card
(chat/interrupted.py), and no new turn starts in between; it then unlocks the thread
and announces it (`thread.changed` `status`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from chat.interrupted import add_interrupted_card, as_unix, is_interrupted_card, newest_item
from chat.live import publish_thread_change
from chat.models import ItemType, Thread
from chat.models import ThreadItem as ThreadItemRow
from chat.turns import (
    FINISHER,
    LOCK_TTL_SECONDS,
    RUN,
    lock_holder,
    lock_key,
    lock_value,
    turn_locks,
)
from config import async_cache
from config.db import run_sync
from runs import leases

logger = logging.getLogger(__name__)

# A worker's first sweep looks this far back (a restart after an outage); later ones
# look back to just past the dead turn's lock's lifetime and one more sweep.
FIRST_LOOKBACK_SECONDS = 600.0
# A request that finds another worker finishing its thread waits this long for it.
FINISH_WAIT_SECONDS = 2.0
# A sweep considers at most this many threads (the most recently written first).
MAX_CANDIDATES = 2000


def grace_seconds() -> float:
    """How long a run may go without a lease before its lock reads as a dead turn's."""
    return leases.lease_seconds()


def is_stale(value: str | None, now: float | None = None) -> bool:
    """Whether a lock value is a run's that is older than its lease's grace, or a
    finisher's that old (its worker died while finishing: a card is a few writes)."""
    holder = lock_holder(value)
    if holder is None or holder[0] not in (RUN, FINISHER):
        return False
    return holder[1] < (time.time() if now is None else now) - grace_seconds()


def is_finishing(value: str | None) -> bool:
    """Whether a lock value is a live finisher's (a dead turn's card is being written)."""
    holder = lock_holder(value)
    return holder is not None and holder[0] == FINISHER and not is_stale(value)


async def finished_elsewhere(thread_id: str, wait: float = FINISH_WAIT_SECONDS) -> bool:
    """Wait (briefly) for another finisher to let go of the thread; True once it did."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not is_finishing((await turn_locks([thread_id])).get(thread_id)):
            return True
        await asyncio.sleep(0.02)  # a card and a title: a few writes
    return False


async def recover(thread_id: str, user_id: object) -> bool:
    """Finish the thread's turn if it is a dead one (a request for the thread found
    it, or a turn found its lock held); True if it was finished now (by this call, or
    by another finisher this call waited for)."""
    value = (await turn_locks([thread_id])).get(thread_id)
    return value is not None and await finish_held(thread_id, user_id, value)


async def finish_held(thread_id: str, user_id: object, value: str) -> bool:
    """The thread's lock holds `value`: True if the turn holding it was dead and is
    finished now (by this call, or by the finisher holding it, waited for)."""
    try:
        if is_finishing(value):
            return await finished_elsewhere(thread_id)
        return is_stale(value) and await finish_if_dead(thread_id, user_id, value)
    except Exception:  # the request that noticed it goes on; the sweep tries again
        logger.exception("Could not finish an interrupted turn")
        return False


async def finish_if_dead(thread_id: str, user_id: object, value: str) -> bool:
    """The thread's lock holds `value`, a stale run's: finish that run unless its
    lease says it lives. True if this call finished it."""
    lease = await leases.lease_of(thread_id)
    if lease is not None:
        if lease.expires_at >= timezone.now():
            return False  # alive: it renews its lease
        claimed = await leases.claim(thread_id)
        if claimed is None:
            return False  # another finisher claimed it
        return await finish_lapsed(thread_id, claimed.user_id, claimed.started_at)
    return await _finish(thread_id, user_id, value, started_at=lock_holder(value)[1])


async def finish_lapsed(thread_id: str, user_id: object, started_at: datetime) -> bool:
    """Finish a run whose lapsed lease this worker claimed (the lease sweep's `finish`)."""
    value = (await turn_locks([thread_id])).get(thread_id)  # none if the cache is down
    holder = lock_holder(value)
    finisher = holder is not None and holder[0] == FINISHER
    if is_finishing(value) or (
        holder is not None and not finisher and holder[1] > started_at.timestamp()
    ):
        # Another finisher is on it, or a newer turn holds the thread (the dead one's
        # lock expired): that turn goes on from what the dead one stored.
        return False
    since = holder[1] if holder is not None and not finisher else as_unix(started_at)
    return await _finish(thread_id, user_id, value, started_at=since, claimed=True)


async def _finish(
    thread_id: str,
    user_id: object,
    dead_value: str | None,
    *,
    started_at: float | None,
    claimed: bool = False,
) -> bool:
    """Take the thread's lock in place of `dead_value` (None: nobody holds it), write
    the card, unlock. `claimed`: this worker already won the turn (its lease row), so
    a cache that fails does not stop it."""
    key, token = lock_key(thread_id), lock_value(FINISHER)
    try:
        if dead_value is not None:  # in one step: no turn may start in between
            held = await async_cache.replace_if(key, dead_value, token, LOCK_TTL_SECONDS)
        else:
            held = await async_cache.add(key, token, LOCK_TTL_SECONDS)
    except Exception:
        if not claimed:
            logger.warning("Turn lock cache unavailable; a dead turn waits", exc_info=True)
            return False
        logger.warning("Turn lock cache unavailable; finishing unlocked", exc_info=True)
        held = True
    if not held:
        return False  # a new turn or another finisher holds the thread now
    try:
        newest = await newest_item(thread_id)
        if is_interrupted_card(newest):
            return False  # finished already, by whoever held the lock before
        if (
            dead_value is None
            and not claimed
            and (newest is None or newest[0] != ItemType.USER_MESSAGE)
        ):
            return False  # answered after all
        if not await add_interrupted_card(thread_id, user_id, started_at):
            return False
    finally:
        try:
            await async_cache.delete_if(key, token)
        except Exception:
            logger.warning("Could not unlock a finished thread (it expires)", exc_info=True)
    logger.info("Finished an interrupted turn", extra={"thread_id": thread_id})
    publish_thread_change(user_id=user_id, thread_id=thread_id, reason="status")
    return True


def _candidates(since: datetime, until: datetime) -> list[tuple[str, int, str | None]]:
    newest = ThreadItemRow.objects.filter(thread_id=OuterRef("pk")).order_by("-created_at", "-seq")
    rows = (
        Thread.objects.filter(updated_at__gte=since, updated_at__lte=until)
        .order_by("-updated_at")
        .annotate(newest_type=Subquery(newest.values("type")[:1]))
        .values_list("id", "owner_id", "newest_type")
    )
    return list(rows[:MAX_CANDIDATES])


def lookback_seconds(first: bool) -> float:
    """How far back a sweep looks: past a dead turn's lock's life and two sweeps."""
    if first:
        return FIRST_LOOKBACK_SECONDS
    return grace_seconds() + LOCK_TTL_SECONDS + 2 * leases.sweep_seconds()


async def sweep_unleased(first: bool = False) -> int:
    """Finish the turns that died before they had a lease (the sweep's `also`): among
    threads last written between the lookback and the grace ago, those whose lock is a
    stale run's, or free while their newest item is a user message; how many."""
    now = timezone.now()
    since = now - timedelta(seconds=lookback_seconds(first))
    until = now - timedelta(seconds=grace_seconds())
    candidates = await run_sync(_candidates, since, until)
    if not candidates:
        return 0
    locks = await turn_locks([thread_id for thread_id, _, _ in candidates])
    clock = time.time()
    dead = [
        (thread_id, owner_id, locks.get(thread_id))
        for thread_id, owner_id, newest_type in candidates
        if is_stale(locks.get(thread_id), clock)
        or (thread_id not in locks and newest_type == ItemType.USER_MESSAGE)
    ]
    with_lease = await leases.leased([thread_id for thread_id, _, _ in dead])
    finished = 0
    for thread_id, owner_id, value in dead:
        if thread_id in with_lease:
            continue  # the lease sweep's
        holder = lock_holder(value)
        try:
            done = await _finish(
                thread_id, owner_id, value, started_at=holder[1] if holder else None
            )
        except Exception:
            logger.exception("Could not finish an interrupted turn")
            continue
        finished += done
    return finished


async def _finish_lapsed(thread_id: str, user_id: object, started_at: datetime) -> None:
    await finish_lapsed(thread_id, user_id, started_at)


def start_sweeping() -> None:
    """Start this worker's sweep for dead turns (idempotent, cheap once started)."""
    leases.ensure_sweeping(_finish_lapsed, sweep_unleased)
