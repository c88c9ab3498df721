"""Leases: a run proves its worker alive; a lapsed lease's run is finished by others.

A run that lasts past its first second writes a lease row (runs/models.py) and
renews it every `RENEW_SECONDS` (with its turn lock, through `on_renew` hooks);
it deletes the row when it ends. A worker that dies leaves the row to lapse after
`LEASE_SECONDS`. Every worker sweeps every `SWEEP_SECONDS`, from its start
(`ensure_sweeping`: the ASGI lifespan, else its first request): it deletes lapsed
rows one by one, and whoever deletes a row finishes its run with the `finish`
callback the chat app registered (an "interrupted" card, the thread unlocked); a
request for the thread may claim its lapsed row the same way (`claim`). Each sweep
also calls the chat app's `also`, which finds the turns that died before they had a
lease (chat/recovery.py). Short turns (most) never touch the table.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from config.db import run_sync
from runs.models import RunLease

logger = logging.getLogger(__name__)

# finish(thread_id, user_id, started_at) for a run whose lapsed row this worker deleted.
Finish = Callable[[str, object, datetime], Awaitable[None]]
# also(first): the sweep's other duty; `first` on a worker's first sweep.
Also = Callable[[bool], Awaitable[int]]

_sweeper: asyncio.Task[None] | None = None


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, "RUNS", {}).get(name, default))


def lease_seconds() -> float:
    return _setting("LEASE_SECONDS", 20)


def renew_seconds() -> float:
    return _setting("RENEW_SECONDS", 5)


def first_lease_seconds() -> float:
    return min(1.0, renew_seconds())


def sweep_seconds() -> float:
    return _setting("SWEEP_SECONDS", 15)


def _write(thread_id: str, user_id: object, started_at) -> None:
    expires_at = timezone.now() + timedelta(seconds=lease_seconds())
    RunLease.objects.update_or_create(
        thread_id=thread_id,
        defaults={"user_id": user_id, "started_at": started_at, "expires_at": expires_at},
    )


def _delete(thread_id: str, started_at: datetime) -> None:
    """Delete the run's own row: the thread's next run may have written its own since
    (the turn unlocks the thread before its lease goes: chat/turns.py)."""
    RunLease.objects.filter(thread_id=thread_id, started_at=started_at).delete()


async def keep(
    thread_id: str, user_id: object, renew: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Hold the lease while the run lives (cancel this task to end it); started by
    the run once its first second has passed."""
    started_at = timezone.now()
    written = False
    try:
        while True:
            try:
                await run_sync(_write, thread_id, user_id, started_at)
                written = True
            except Exception:
                logger.warning("Could not renew a run's lease", exc_info=True)
            if renew is not None:
                await renew()
            await asyncio.sleep(renew_seconds())
    finally:
        if written:
            await asyncio.shield(run_sync(_delete, thread_id, started_at))


def _claim_lapsed() -> list[tuple[str, object, datetime]]:
    """Delete the lapsed leases this call wins (one by one: two sweepers never both win)."""
    lapsed = list(
        RunLease.objects.filter(expires_at__lt=timezone.now()).values_list(
            "thread_id", "user_id", "started_at"
        )
    )
    return [row for row in lapsed if _claim_one(row[0])]


def _claim_one(thread_id: str) -> bool:
    return bool(
        RunLease.objects.filter(thread_id=thread_id, expires_at__lt=timezone.now()).delete()[0]
    )


def _lease_of(thread_id: str) -> RunLease | None:
    return RunLease.objects.filter(thread_id=thread_id).first()


async def lease_of(thread_id: str) -> RunLease | None:
    """The thread's lease row, live or lapsed; None when its run holds none."""
    return await run_sync(_lease_of, thread_id)


async def claim(thread_id: str) -> RunLease | None:
    """Delete the thread's lease if it lapsed: the row when this call won it (then the
    caller finishes its run, as a sweep would), else None (live, gone, or another's)."""
    row = await run_sync(_lease_of, thread_id)
    if row is None or row.expires_at >= timezone.now():
        return None
    return row if await run_sync(_claim_one, thread_id) else None


async def leased(thread_ids: list[str]) -> set[str]:
    """Which of these threads have a lease row (live or lapsed)."""
    if not thread_ids:
        return set()
    rows = RunLease.objects.filter(thread_id__in=thread_ids).values_list("thread_id", flat=True)
    return set(await run_sync(lambda: list(rows)))


async def sweep(finish: Finish) -> int:
    """Finish every run whose lease lapsed; how many."""
    claimed = await run_sync(_claim_lapsed)
    for thread_id, user_id, started_at in claimed:
        try:
            await finish(thread_id, user_id, started_at)
        except Exception:
            logger.exception("Could not finish an interrupted run")
    return len(claimed)


def ensure_sweeping(finish: Finish, also: Also | None = None) -> None:
    """Start this worker's periodic sweep (idempotent, cheap once started); the first
    runs at once."""
    global _sweeper
    loop = asyncio.get_running_loop()
    if _sweeper is not None and not _sweeper.done() and _sweeper.get_loop() is loop:
        return
    # A context of its own: nothing of the request that happened to start it.
    _sweeper = loop.create_task(_sweep_forever(finish, also), context=contextvars.Context())


def sweeping() -> bool:
    """Whether this worker's sweep is going (on the running event loop)."""
    loop = asyncio.get_running_loop()
    return _sweeper is not None and not _sweeper.done() and _sweeper.get_loop() is loop


async def _sweep_forever(finish: Finish, also: Also | None) -> None:
    first = True
    while True:
        try:
            await sweep(finish)
            if also is not None:
                await also(first)
        except Exception:
            logger.warning("Run lease sweep failed", exc_info=True)
        first = False
        await asyncio.sleep(sweep_seconds())
