"""A chat turn's own reads and writes on PostgreSQL, awaited on the event loop.

Every user-message turn makes the same three store calls: the view loads the thread
with its history (chat/recent.py), then the SDK saves the user's message and the
answer. Through the ORM each is a trip to a worker thread (a thread wake-up, GIL
hand-offs, a connection checked out of Django's pool) plus the ORM's query building,
and the benchmark priced that at most of our CPU over the in-memory baseline
(docs/performance.md). Here those three calls go to PostgreSQL with psycopg's async
connections, one SQL statement each, from a small pool per event loop (config/pg.py);
psycopg prepares them once per connection. Everything else the store does, and every other
part of the app, stays on the ORM, which owns the schema: the SQL below names its
tables and columns from the models.

Same contract as DjangoStore (chat/store.py): scoped to the user (another user's
thread is NotFoundError), idempotent upserts, aware UTC times, NUL-free JSON.
`CHATKIT_ASYNC_DATABASE=0` turns it off (the ORM store then serves these calls too).
"""

from __future__ import annotations

import json
from typing import Any

from chatkit.store import NotFoundError
from chatkit.types import Page, ThreadItem, ThreadMetadata

from accounts.models import User
from chat.models import Thread
from chat.models import ThreadItem as ThreadItemRow
from chat.store import DjangoStore, item_from_data, item_row_fields, page_of, page_size
from chat.store import thread_metadata as metadata_of
from config import pg

THREAD = Thread._meta.db_table
ITEM = ThreadItemRow._meta.db_table

# The thread (only the owner's) and its newest items, newest first, in one statement:
# no row at all when the thread isn't the user's; one row with NULL data when empty.
THREAD_AND_ITEMS_SQL = f"""
SELECT t.id, t.title, t.created_at, t.status, t.allowed_image_domains, t.metadata, i.data
FROM {THREAD} t
LEFT JOIN LATERAL (
    SELECT data, created_at, seq FROM {ITEM} WHERE thread_id = t.id
    ORDER BY created_at DESC, seq DESC LIMIT %s
) i ON true
WHERE t.id = %s AND t.owner_id = %s
ORDER BY i.created_at DESC, i.seq DESC
"""

# Bump the owned thread's last activity, then upsert the item under it: nothing is
# written when the thread isn't the user's. The UPDATE locks the thread row, so the
# item can't land in a thread deleted meanwhile.
UPSERT_ITEM_SQL = f"""
WITH owned AS (
    UPDATE {THREAD} SET updated_at = now() WHERE id = %s AND owner_id = %s RETURNING id
)
INSERT INTO {ITEM} (item_id, thread_id, type, created_at, data)
SELECT %s, owned.id, %s, %s, %s::jsonb FROM owned
ON CONFLICT (thread_id, item_id) DO UPDATE
SET type = EXCLUDED.type, created_at = EXCLUDED.created_at, data = EXCLUDED.data
"""


class AsyncPostgresStore(DjangoStore):
    """DjangoStore whose per-turn calls run on psycopg's async connections."""

    async def _thread_and_items(
        self, thread_id: str, history: int, user: User
    ) -> tuple[ThreadMetadata, Page[ThreadItem]]:
        size = page_size(history)
        rows = await pg.fetchall(THREAD_AND_ITEMS_SQL, (size + 1, thread_id, user.pk))
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        tid, title, created_at, status, domains, metadata, _ = rows[0]
        thread = metadata_of(id=tid, title=title, created_at=created_at, status=status,
                             allowed_image_domains=domains, metadata=metadata)  # fmt: skip
        data = [item_from_data(row[6]) for row in rows[:size] if row[6] is not None]
        return thread, page_of(data, has_more=len(rows) > size)

    async def _store_item(self, thread_id: str, item: ThreadItem, user: User) -> dict[str, Any]:
        fields = item_row_fields(thread_id, item)
        params = (thread_id, user.pk, fields["item_id"], fields["type"], fields["created_at"],
                  json.dumps(fields["data"]))  # fmt: skip
        if await pg.execute(UPSERT_ITEM_SQL, params) == 0:
            raise NotFoundError(f"Thread {thread_id} not found")
        return fields["data"]
