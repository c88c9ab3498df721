"""A thread's status as clients read it: locked while a turn runs in it, on any worker."""

from __future__ import annotations

from collections.abc import Sequence

from chatkit.types import ActiveStatus, LockedStatus, ThreadMetadata

from chat import recovery
from chat.context import RequestContext
from chat.turns import turn_locks

# A thread's status while a turn runs in it (another tab, a reload mid-answer).
MSG_ANSWERING = "Still answering. The reply appears here as it is written."


async def mark_answering(threads: Sequence[ThreadMetadata], context: RequestContext) -> set[str]:
    """Threads with a turn going (on any worker: its turn lock is held) read as locked,
    so ChatKit disables their composer with the reason; the stored status is untouched.
    A lock that looks a dead turn's is finished here (chat/recovery.py): the ids of the
    threads that were, whose items and title changed since they were read."""
    locks = await turn_locks([thread.id for thread in threads])
    finished: set[str] = set()
    for thread in threads:
        value = locks.get(thread.id)
        if value is None:
            continue
        if await recovery.finish_held(thread.id, context.user.pk, value):
            finished.add(thread.id)
        elif isinstance(thread.status, ActiveStatus):
            thread.status = LockedStatus(reason=MSG_ANSWERING)
    return finished
