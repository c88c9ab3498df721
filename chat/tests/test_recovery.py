"""Turns whose worker died (chat/recovery.py), found from what a dead worker leaves: a
run's turn lock older than a lease with no lease beside it (a death in the turn's first
second), a lapsed lease, or a free thread whose newest item is an unanswered message.
A request for the thread finishes it at once; the sweep does within a minute; exactly
one finisher writes the card and the usage row; live and answered turns are left alone.
(Real workers killed mid-turn: test_runs_crash.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.db.models.signals import post_delete
from django.test import AsyncClient
from django.utils import timezone
from prometheus_client import REGISTRY

from chat import recovery
from chat.interrupted import MSG_INTERRUPTED
from chat.models import Thread, ThreadItem
from chat.tests import chatkit_client as ck
from chat.tests.factories import ThreadFactory, ThreadItemFactory
from chat.tests.test_views import post, stream
from chat.turns import FINISHER, RUN, TurnLock, lock_key, threads_answering
from config import async_cache
from runs import leases
from runs.models import RunLease
from usage.models import TurnUsage
from usage.services import turn_records_flush

pytestmark = pytest.mark.django_db(transaction=True)


def dead_turn(user, *, ago: float = 60.0, title: str = "") -> Thread:
    """A thread whose only turn's user message was stored `ago` seconds ago, nothing after."""
    at = timezone.now() - timedelta(seconds=ago)
    thread = ThreadFactory(owner=user, title=title, created_at=at, updated_at=at)
    ThreadItemFactory(thread=thread, text="add buy milk", created_at=at)
    return thread


def run_lock(started_ago: float) -> str:
    """A run's lock value as chat/turns.py writes it, taken `started_ago` seconds ago."""
    return f"{RUN}{time.time() - started_ago:.3f}:deadbeef"


async def all_unlocked(thread_ids: list[str], within: float = 10.0) -> bool:
    """Whether the threads' locks are all free within `within` seconds. A /chatkit
    request starts its worker's sweep in the background (chat/views.py), and that first
    pass may hold a thread's lock for a moment to look at it (it finds the card written
    and lets go: a CI run with CHATKIT_FAST_PATHS=0 caught it there). A lock left behind
    stays its 45 s, and fails this."""
    deadline = time.monotonic() + within
    while await threads_answering(thread_ids):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def hold(thread_id: str, value: str) -> None:
    assert await async_cache.add(lock_key(thread_id), value, 45)


def lease(thread_id: str, user, *, expires_in: float, started_ago: float = 30.0) -> RunLease:
    now = timezone.now()
    return RunLease.objects.create(
        thread_id=thread_id,
        user=user,
        started_at=now - timedelta(seconds=started_ago),
        expires_at=now + timedelta(seconds=expires_in),
    )


def item_types(thread_id: str) -> list[str]:
    return list(ThreadItem.objects.filter(thread_id=thread_id).values_list("type", flat=True))


def cards(thread_id: str) -> int:
    rows = ThreadItem.objects.filter(thread_id=thread_id, type="widget")
    texts = rows.values_list("data__copy_text", flat=True)
    return sum(1 for text in texts if text == MSG_INTERRUPTED)


async def interrupted_rows(thread_id: str) -> int:
    await turn_records_flush()
    return await TurnUsage.objects.filter(thread_id=thread_id, outcome="interrupted").acount()


async def get_thread(user, bearer, thread_id: str) -> dict:
    response = await post(AsyncClient(), ck.get_thread(thread_id), bearer(user))
    assert response.status_code == HTTPStatus.OK
    return response.json()


def interrupted_count() -> float:
    """chatkit_turns_total{outcome="interrupted"} in this process's /metrics."""
    return REGISTRY.get_sample_value("chatkit_turns_total", {"outcome": "interrupted"}) or 0.0


async def test_get_by_id_finishes_a_turn_that_died_in_its_first_second(user, bearer):
    thread = await sync_to_async(dead_turn)(user)
    await hold(thread.id, run_lock(started_ago=60))  # no lease: it never reached one
    counted = interrupted_count()

    got = await get_thread(user, bearer, thread.id)

    assert got["status"] == {"type": "active"}
    assert [i["type"] for i in got["items"]["data"]] == ["user_message", "widget"]
    card = got["items"]["data"][1]
    assert card["copy_text"] == MSG_INTERRUPTED and "Try again" in str(card["widget"])
    assert got["title"]  # its first turn: titled from the message
    assert await all_unlocked([thread.id])
    assert await interrupted_rows(thread.id) == 1
    assert interrupted_count() == counted + 1


async def test_get_by_id_finishes_a_run_whose_lease_lapsed(user, bearer):
    thread = await sync_to_async(dead_turn)(user, title="Milk")
    await sync_to_async(lease)(thread.id, user, expires_in=-1)
    await hold(thread.id, run_lock(started_ago=40))  # its lock, older than its lease

    got = await get_thread(user, bearer, thread.id)

    assert got["status"] == {"type": "active"}
    assert [i["type"] for i in got["items"]["data"]] == ["user_message", "widget"]
    assert not await RunLease.objects.filter(pk=thread.id).aexists()
    assert await interrupted_rows(thread.id) == 1


@pytest.mark.parametrize(
    ("started_ago", "lease_expires_in"),
    [(2.0, None), (60.0, 10.0)],
    ids=["in-its-first-seconds", "past-them-with-a-live-lease"],
)
async def test_a_live_turn_stays_locked(user, bearer, started_ago, lease_expires_in):
    thread = await sync_to_async(dead_turn)(user)
    if lease_expires_in is not None:
        await sync_to_async(lease)(thread.id, user, expires_in=lease_expires_in)
    await hold(thread.id, run_lock(started_ago=started_ago))

    got = await get_thread(user, bearer, thread.id)

    assert got["status"]["type"] == "locked"
    assert await sync_to_async(item_types)(thread.id) == ["user_message"]
    assert await recovery.sweep_unleased() == 0
    assert await sync_to_async(item_types)(thread.id) == ["user_message"]


async def test_items_list_and_events_finish_a_dead_turn(user, bearer):
    listed, attached = [await sync_to_async(dead_turn)(user) for _ in range(2)]
    for thread in (listed, attached):
        await hold(thread.id, run_lock(started_ago=60))

    page = await post(AsyncClient(), ck.list_items(listed.id), bearer(user))
    events = await AsyncClient().get(
        f"/api/chatkit/threads/{attached.id}/events", headers=bearer(user)
    )

    assert [i["type"] for i in page.json()["data"]] == ["user_message", "widget"]
    assert events.status_code == HTTPStatus.NO_CONTENT
    assert await sync_to_async(item_types)(attached.id) == ["user_message", "widget"]
    assert await all_unlocked([listed.id, attached.id])


async def test_a_new_message_finishes_the_dead_turn_first_then_runs(user, bearer):
    thread = await sync_to_async(dead_turn)(user)
    await hold(thread.id, run_lock(started_ago=60))

    events = await stream(AsyncClient(), ck.add_message(thread.id, "help"), bearer(user))

    assert ck.assistant_text(events)  # answered, not "still answering another message"
    types = await sync_to_async(item_types)(thread.id)
    assert types == ["user_message", "widget", "user_message", "assistant_message"]


async def test_two_finishers_write_one_card(user):
    thread = await sync_to_async(dead_turn)(user)
    value = run_lock(started_ago=60)
    await hold(thread.id, value)

    done = await asyncio.gather(
        *(recovery.finish_if_dead(thread.id, user.pk, value) for _ in range(3)),
        recovery.sweep_unleased(),
    )

    assert sum(done) == 1
    assert await sync_to_async(cards)(thread.id) == 1
    assert await interrupted_rows(thread.id) == 1


async def test_the_sweep_finishes_dead_turns_with_or_without_their_lock(user):
    locked = await sync_to_async(dead_turn)(user)
    await hold(locked.id, run_lock(started_ago=60))
    unlocked = await sync_to_async(dead_turn)(user)  # its lock expired, or died with Redis

    assert await recovery.sweep_unleased() == 2

    for thread in (locked, unlocked):
        assert await sync_to_async(item_types)(thread.id) == ["user_message", "widget"]
    assert not await threads_answering([locked.id, unlocked.id])
    assert await recovery.sweep_unleased() == 0  # once


async def test_the_sweep_leaves_answered_new_old_and_leased_turns(user):
    answered = await sync_to_async(dead_turn)(user)
    await sync_to_async(ThreadItemFactory)(thread=answered, type="assistant_message", text="Added.")
    just_sent = await sync_to_async(dead_turn)(user, ago=1.0)
    long_ago = await sync_to_async(dead_turn)(user, ago=3600.0)
    leased = await sync_to_async(dead_turn)(user)
    await sync_to_async(lease)(leased.id, user, expires_in=-1)  # the lease sweep's

    assert await recovery.sweep_unleased() == 0
    assert await recovery.sweep_unleased(first=True) == 0
    for thread in (answered, just_sent, long_ago, leased):
        assert await sync_to_async(cards)(thread.id) == 0


async def test_a_first_sweep_looks_further_back(user):
    thread = await sync_to_async(dead_turn)(user, ago=300.0)  # down for five minutes

    assert await recovery.sweep_unleased() == 0
    assert await recovery.sweep_unleased(first=True) == 1
    assert await sync_to_async(cards)(thread.id) == 1


async def test_the_lease_sweep_finishes_a_lapsed_run_once(user):
    thread = await sync_to_async(dead_turn)(user)
    await sync_to_async(lease)(thread.id, user, expires_in=-1)
    await hold(thread.id, run_lock(started_ago=40))

    finished = await asyncio.gather(
        leases.sweep(recovery.finish_lapsed), leases.sweep(recovery.finish_lapsed)
    )

    assert sum(finished) == 1
    assert await sync_to_async(cards)(thread.id) == 1
    assert not await threads_answering([thread.id])
    assert await interrupted_rows(thread.id) == 1


async def test_a_lapsed_lease_behind_a_newer_turn_leaves_that_turn_alone(user):
    thread = await sync_to_async(dead_turn)(user)
    await sync_to_async(lease)(thread.id, user, expires_in=-1, started_ago=100)
    newer = run_lock(started_ago=1)  # its lock expired; a new turn took the thread
    await hold(thread.id, newer)

    assert await leases.sweep(recovery.finish_lapsed) == 1  # the row is claimed ...

    assert await sync_to_async(cards)(thread.id) == 0  # ... but nothing is written
    assert (await async_cache.get_many([lock_key(thread.id)])) == [newer]


async def test_a_deleted_item_counts_as_activity(user, store, ctx):
    """A retry removes what followed its message: a retry that dies in its first second
    is then among the recently written threads the sweep looks at."""
    thread = await sync_to_async(dead_turn)(user, ago=3600.0)
    card = await sync_to_async(ThreadItemFactory)(
        thread=thread, type="assistant_message", text="Added."
    )

    await store.delete_thread_item(thread.id, card.item_id, ctx)

    await thread.arefresh_from_db()
    assert timezone.now() - thread.updated_at < timedelta(seconds=60)


async def test_a_turn_ending_after_its_lease_is_not_taken_for_dead(user, bearer, settings):
    """A turn past its first second deletes its lease as it ends: were its run's lock
    still held then, a read of the thread in between (another tab refetching at the
    answer's last save) would take a long answered turn for one that died in its first
    second and add an "interrupted" card under the answer."""
    settings.RUNS = {**settings.RUNS, "RENEW_SECONDS": 0.01, "SWEEP_SECONDS": 600}
    locks_at_deletion: list[tuple[str, str | None]] = []

    def seen(sender, instance, **kwargs) -> None:
        value = caches["default"].get(lock_key(instance.thread_id))
        locks_at_deletion.append((instance.thread_id, value))

    post_delete.connect(seen, sender=RunLease, weak=False)
    try:
        events = await stream(AsyncClient(), ck.create_thread("add buy milk"), bearer(user))
    finally:
        post_delete.disconnect(seen, sender=RunLease)
    thread_id = events[0].thread.id
    assert ck.assistant_text(events)
    assert [thread for thread, _ in locks_at_deletion] == [thread_id]  # it had a lease
    value = locks_at_deletion[0][1]

    if value is not None:  # the instant of the deletion, replayed: a read arrives
        settings.RUNS = {**settings.RUNS, "LEASE_SECONDS": 0.001}  # a turn past its grace
        await hold(thread_id, value)
        await recovery.recover(thread_id, user.pk)
    assert await sync_to_async(cards)(thread_id) == 0
    assert value is None  # unlocked before its lease went


async def test_a_turn_that_waited_for_the_lock_dates_its_lock_from_when_it_got_it(settings):
    """A run's lock reads as a dead turn's once older than a lease with no lease beside
    it: dated from when the turn began waiting, a turn that waited would read as dead
    that much sooner, before its first lease."""
    settings.RUNS = {**settings.RUNS, "LEASE_SECONDS": 0.2}
    thread_id = "thr_waited"
    await hold(thread_id, "t0:earlier")
    lock = TurnLock(thread_id, RUN)
    acquiring = asyncio.create_task(lock.acquire(5.0))
    await asyncio.sleep(0.3)  # the earlier turn takes longer than the grace
    freed_at = time.time()
    await async_cache.delete(lock_key(thread_id))

    assert await asyncio.wait_for(acquiring, timeout=5)

    value = (await async_cache.get_many([lock_key(thread_id)]))[0]
    assert value == lock.token
    # Judged a grace after the lock was free, however long the test took to get here
    # (a loaded machine's pause past the 0.2 s grace is no dead turn): dated from when
    # the turn began waiting, it would read as stale then.
    assert not recovery.is_stale(value, now=freed_at + recovery.grace_seconds())
    await lock.release()


async def test_an_ended_runs_lease_leaves_the_next_runs_alone(user, settings):
    """The next turn may take the thread as soon as the last one unlocked it, before
    the last one's lease is deleted: that deletion must not take the next one's."""
    settings.RUNS = {**settings.RUNS, "RENEW_SECONDS": 60}  # each writes its row once
    thread = await sync_to_async(dead_turn)(user)
    ended = asyncio.create_task(leases.keep(thread.id, user.pk))
    first = await poll(lambda: RunLease.objects.filter(pk=thread.id).values_list("started_at"))
    ended_cancel = ended.cancel  # it ends only once the next run holds the row
    following = asyncio.create_task(leases.keep(thread.id, user.pk))
    await poll(
        lambda: RunLease.objects.filter(pk=thread.id).exclude(started_at=first[0][0]).values_list()
    )
    ended_cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ended
    try:
        assert await RunLease.objects.filter(pk=thread.id).aexists()
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following


async def poll(query, timeout: float = 10.0) -> list:
    """The rows `query()` names once there are some (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await sync_to_async(lambda: list(query()))()
        if rows:
            return rows
        await asyncio.sleep(0.01)
    raise AssertionError("no rows in time")


async def test_a_finisher_that_died_too_is_taken_over(user, bearer):
    """A worker that died while finishing a dead turn leaves its finisher's lock: past a
    lease's grace it is a dead one's too, so reads neither wait on it nor show the
    thread locked, and the turn still gets its card."""
    thread = await sync_to_async(dead_turn)(user)
    await hold(thread.id, f"{FINISHER}{time.time() - 60:.3f}:deadbeef")

    started = time.monotonic()
    got = await get_thread(user, bearer, thread.id)

    assert time.monotonic() - started < recovery.FINISH_WAIT_SECONDS
    assert got["status"] == {"type": "active"}
    assert [i["type"] for i in got["items"]["data"]] == ["user_message", "widget"]
    assert await all_unlocked([thread.id])
