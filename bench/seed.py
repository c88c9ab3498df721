"""Direct SQL seeding for the benchmark: users, long threads, many threads.

Rows go in with COPY (thousands a second) in the shapes our store writes, so the
server reads them exactly as it reads its own.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    UserMessageItem,
    UserMessageTextContent,
)


def _item_data(kind: str, item_id: str, thread_id: str, created_at: datetime, n: int) -> str:
    if kind == "user_message":
        item: Any = UserMessageItem(
            id=item_id,
            thread_id=thread_id,
            created_at=created_at,
            content=[UserMessageTextContent(text=f"add seeded todo number {n}")],
            attachments=[],
            inference_options=InferenceOptions(),
        )
    else:
        item = AssistantMessageItem(
            id=item_id,
            thread_id=thread_id,
            created_at=created_at,
            content=[AssistantMessageContent(text=f'Added "seeded todo number {n}" (#{n}).')],
        )
    return json.dumps(item.model_dump(mode="json"))


def analyze(conn: psycopg.Connection) -> None:
    """Refresh the planner's statistics, as autovacuum does after a bulk load.

    Right after COPY the planner still believes the tables are nearly empty and picks a
    bitmap scan plus sort over all of a user's threads instead of the keyset index: that
    measures a cold statistics snapshot, not the query.
    """
    conn.execute("ANALYZE chat_thread, chat_threaditem")
    conn.commit()


def seed_thread(conn: psycopg.Connection, *, owner_id: int, items: int, title: str) -> str:
    """A thread of `items` alternating user/assistant messages, all in the past."""
    thread_id = f"thr_{uuid.uuid4().hex}"
    start = datetime.now(UTC) - timedelta(seconds=items + 60)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO chat_thread (id, owner_id, title, status, metadata, created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (thread_id, owner_id, title, '{"type": "active"}', "{}", start, start),
        )
        with cur.copy(
            "COPY chat_threaditem (item_id, thread_id, type, created_at, data, visible) FROM STDIN"
        ) as copy:
            for n in range(items):
                kind = "user_message" if n % 2 == 0 else "assistant_message"
                item_id = f"msg_{uuid.uuid4().hex}"
                created_at = start + timedelta(seconds=n)
                data = _item_data(kind, item_id, thread_id, created_at, n)
                copy.write_row(
                    (item_id, thread_id, kind, created_at, data, True)
                )  # messages: visible
    conn.commit()
    analyze(conn)
    return thread_id


def seed_threads(conn: psycopg.Connection, *, owner_id: int, count: int) -> None:
    """`count` short threads (one item each) for one user."""
    start = datetime.now(UTC) - timedelta(seconds=count + 60)
    with conn.cursor() as cur:
        ids = [f"thr_{uuid.uuid4().hex}" for _ in range(count)]
        with cur.copy(
            "COPY chat_thread (id, owner_id, title, status, metadata, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for n, thread_id in enumerate(ids):
                created_at = start + timedelta(seconds=n)
                copy.write_row(
                    (
                        thread_id,
                        owner_id,
                        f"Thread {n}",
                        '{"type": "active"}',
                        "{}",
                        created_at,
                        created_at,
                    )
                )
        with cur.copy(
            "COPY chat_threaditem (item_id, thread_id, type, created_at, data, visible) FROM STDIN"
        ) as copy:
            for n, thread_id in enumerate(ids):
                item_id = f"msg_{uuid.uuid4().hex}"
                created_at = start + timedelta(seconds=n)
                copy.write_row(
                    (
                        item_id,
                        thread_id,
                        "user_message",
                        created_at,
                        _item_data("user_message", item_id, thread_id, created_at, n),
                        True,  # a message is visible
                    )
                )
    conn.commit()
    analyze(conn)
