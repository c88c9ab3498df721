"""A chat turn's own reads and writes on PostgreSQL, awaited on the event loop.

Every user-message turn makes the same four store calls: the view loads the thread
(its ownership checked before the stream starts), the SDK saves the user's message
while the history is read beside it (held for the rest of the turn: chat/recent.py),
and the SDK saves the answer; a new thread's first turn also saves the thread (created,
then titled). Through the ORM each is a trip to a worker thread (a thread
wake-up, GIL hand-offs, a connection checked out of Django's pool) plus the ORM's query
building, and the benchmark priced that at most of our CPU over the in-memory baseline
(docs/performance.md). Here those calls go to PostgreSQL with psycopg's async
connections, one SQL statement each, from a small pool per event loop (config/pg.py);
psycopg prepares them once per connection. Everything else the store does, and every
other part of the app, stays on the ORM, which owns the schema: the SQL below takes
its table names from the models.

Same contract as DjangoStore (chat/store.py): scoped to the user (another user's
thread is NotFoundError), idempotent upserts, aware UTC times, NUL-free JSON.
`CHATKIT_ASYNC_DATABASE=0` turns it off (the ORM store then serves these calls too).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chatkit.store import NotFoundError
from chatkit.types import Page, ThreadItem, ThreadMetadata, UserMessageItem
from django.conf import settings
from django.db import connection

from accounts.models import User
from chat.context import RequestContext
from chat.models import Thread
from chat.models import ThreadItem as ThreadItemRow
from chat.rows import item_from_data, item_row_fields, thread_row_fields, to_aware_utc
from chat.rows import thread_metadata as metadata_of
from chat.store import DjangoStore, page_of, page_size, shielded
from config import pg

_q = connection.ops.quote_name
THREAD, ITEM = _q(Thread._meta.db_table), _q(ThreadItemRow._meta.db_table)

# The thread, only when it is the user's.
THREAD_SQL = f"""
SELECT id, title, created_at, status, allowed_image_domains, metadata
FROM {THREAD} WHERE id = %s AND owner_id = %s
"""

# A page of the thread's items from its start or its end, only when the thread is the
# user's: no row at all for another user's thread, one row of NULL for an empty one.
# With `visible`, only the items a client sees (the partial index chat_item_visible_order).
ITEMS_SQL = """
SELECT i.data FROM {thread} t
LEFT JOIN LATERAL (
    SELECT data, created_at, seq FROM {item} WHERE thread_id = t.id{visible}
    ORDER BY created_at {order}, seq {order} LIMIT %s
) i ON true
WHERE t.id = %s AND t.owner_id = %s
ORDER BY i.created_at {order}, i.seq {order}
"""
ITEMS_SQL_BY_ORDER = {
    (order, visible): ITEMS_SQL.format(
        thread=THREAD, item=ITEM, order=order.upper(), visible=" AND visible" if visible else ""
    )
    for order in ("asc", "desc")
    for visible in (False, True)
}

# Bump the owned thread's last activity, then upsert the item under it: nothing is
# written when the thread isn't the user's. The UPDATE locks the thread row, so the
# item can't land in a thread deleted meanwhile.
UPSERT_ITEM_SQL = f"""
WITH owned AS (
    UPDATE {THREAD} SET updated_at = now() WHERE id = %s AND owner_id = %s RETURNING id
)
INSERT INTO {ITEM} (item_id, thread_id, type, created_at, data, visible)
SELECT %s, owned.id, %s, %s, %s::jsonb, %s FROM owned
ON CONFLICT (thread_id, item_id) DO UPDATE
SET type = EXCLUDED.type, created_at = EXCLUDED.created_at, data = EXCLUDED.data,
    visible = EXCLUDED.visible
"""


# Create the thread, or update it when it is the user's: no row is touched when the id
# is another user's.
SAVE_THREAD_SQL = f"""
INSERT INTO {THREAD}
    (id, owner_id, created_at, title, status, metadata, allowed_image_domains, updated_at)
VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s)
ON CONFLICT (id) DO UPDATE
SET title = EXCLUDED.title, status = EXCLUDED.status, metadata = EXCLUDED.metadata,
    allowed_image_domains = EXCLUDED.allowed_image_domains, updated_at = EXCLUDED.updated_at
WHERE {THREAD}.owner_id = EXCLUDED.owner_id
"""


def _jsonb(value: Any) -> str | None:
    return None if value is None else json.dumps(value)  # None is SQL NULL, as the ORM has it


def _retrieved(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class AsyncPostgresStore(DjangoStore):
    """DjangoStore whose per-turn calls run on psycopg's async connections."""

    async def _fetch_thread(self, thread_id: str, user: User) -> ThreadMetadata:
        row = await pg.fetchone(THREAD_SQL, (thread_id, user.pk))
        if row is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        tid, title, created_at, status, domains, metadata = row
        return metadata_of(id=tid, title=title, created_at=created_at, status=status,
                           allowed_image_domains=domains, metadata=metadata)  # fmt: skip

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        f = thread_row_fields(thread)
        params = (thread.id, context.user.pk, to_aware_utc(thread.created_at), f["title"],
                  _jsonb(f["status"]), _jsonb(f["metadata"]), _jsonb(f["allowed_image_domains"]),
                  f["updated_at"])  # fmt: skip
        if await shielded(pg.execute(SAVE_THREAD_SQL, params)) == 0:
            raise NotFoundError(f"Thread {thread.id} not found")

    async def _fetch_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        user: User,
        visible: bool = False,
    ) -> Page[ThreadItem]:
        sql = ITEMS_SQL_BY_ORDER.get((order, visible))
        if after is not None or sql is None:
            return await super()._fetch_items(thread_id, after, limit, order, user, visible)
        size = page_size(limit)
        rows = await pg.fetchall(sql, (size + 1, thread_id, user.pk))
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        stored = [row[0] for row in rows if row[0] is not None]
        data = [item_from_data(row) for row in stored[:size]]
        return page_of(data, has_more=len(stored) > size)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        """A user message starts a turn whose next step reads the thread's newest items
        (the model's history, chat/answer.py): they are read while the message is
        written, one wait on the database before the first token instead of two."""
        if not isinstance(item, UserMessageItem) or context.recent_items is not None:
            return await super().add_thread_item(thread_id, item, context)
        limit = settings.CHATKIT["HISTORY_ITEMS"]
        user = context.user
        read = asyncio.ensure_future(self._fetch_items(thread_id, None, limit, "desc", user))
        # Whatever happens to the write, the read's own failure is never left unretrieved.
        read.add_done_callback(_retrieved)
        try:
            data = await shielded(self._store_item(thread_id, item, user))
        except BaseException:
            read.cancel()
            raise
        try:
            page = await read
        except Exception:  # noqa: BLE001 - the turn's own read meets (and reports) it again
            return
        # The read ran beside the write: it may or may not hold the message. The turn
        # lock keeps other writers out, so placing the message completes it either way.
        if not self._hold(thread_id, page, context).written(item_from_data(data)):
            context.recent_items = None

    async def _store_item(self, thread_id: str, item: ThreadItem, user: User) -> dict[str, Any]:
        fields = item_row_fields(thread_id, item)
        params = (thread_id, user.pk, fields["item_id"], fields["type"], fields["created_at"],
                  json.dumps(fields["data"]), fields["visible"])  # fmt: skip
        if await pg.execute(UPSERT_ITEM_SQL, params) == 0:
            raise NotFoundError(f"Thread {thread_id} not found")
        return fields["data"]
