"""Writes on chat threads outside the ChatKit store: feedback, retention purge, demo data."""

from __future__ import annotations

import datetime
from typing import TypedDict

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    UserMessageItem,
    UserMessageTextContent,
)
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat.models import Feedback, ItemType, Thread, ThreadItem
from chat.rows import item_row_fields
from todos.models import Todo
from todos.services import todo_create

# Feedback rates what the assistant produced, never the user's own words.
FEEDBACK_ITEM_TYPES = (ItemType.ASSISTANT_MESSAGE, ItemType.WIDGET)


def feedback_record(*, user: User, thread_id: str, item_ids: list[str], kind: str) -> int:
    """Store `kind` for each of the user's assistant/widget items named; idempotent.

    One row per (item, user): sending again updates its kind and time. The user's
    own messages in the thread are not rated (ignored); a thread that is not the
    user's is `Thread.DoesNotExist`, an id that is not in it `ThreadItem.DoesNotExist`
    (SPEC's 404, nothing stored). Returns rows written.
    """
    thread = Thread.objects.for_user(user).get(pk=thread_id)
    named = set(item_ids[:100])
    found = dict(
        ThreadItem.objects.filter(thread=thread, item_id__in=named).values_list("item_id", "type")
    )
    if named - found.keys():
        raise ThreadItem.DoesNotExist(f"Item not found in thread {thread_id}")
    rated = [item_id for item_id, kind in found.items() if kind in FEEDBACK_ITEM_TYPES]
    now = timezone.now()
    rows = [
        Feedback(thread=thread, item_id=item_id, user=user, kind=kind, updated_at=now)
        for item_id in rated
    ]
    Feedback.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["thread", "item_id", "user"],
        update_fields=["kind", "updated_at"],
    )
    return len(rows)


class PurgeResult(TypedDict):
    threads: int
    items: int
    cutoff: datetime.datetime
    dry_run: bool


def thread_purge(*, older_than_days: int, dry_run: bool) -> PurgeResult:
    """Delete threads idle (no activity) for more than `older_than_days`, with their items."""
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    stale = Thread.objects.filter(updated_at__lt=cutoff)
    with transaction.atomic():
        threads = stale.count()
        items = ThreadItem.objects.filter(thread__in=stale).count()
        if not dry_run and threads:
            stale.delete()
    return {"threads": threads, "items": items, "cutoff": cutoff, "dry_run": dry_run}


DEMO_TODO_TITLE = "buy milk"


def demo_thread_id(user: User) -> str:
    return f"thr_demo_{user.pk}"


def seed_demo_conversation(*, user: User) -> None:
    """Give `user` a sample chat ("add buy milk" and the reply) and its todo; idempotent."""
    now = timezone.now()
    thread_id = demo_thread_id(user)
    user_message = UserMessageItem(
        id="msg_demo_user",
        thread_id=thread_id,
        created_at=now,
        content=[UserMessageTextContent(text=f"add {DEMO_TODO_TITLE}")],
        inference_options=InferenceOptions(),
    )
    reply = AssistantMessageItem(
        id="msg_demo_assistant",
        thread_id=thread_id,
        created_at=now + datetime.timedelta(seconds=1),
        content=[AssistantMessageContent(text=f'Added "{DEMO_TODO_TITLE}" to your todos.')],
    )
    with transaction.atomic():
        thread, _ = Thread.objects.get_or_create(
            id=thread_id,
            defaults={"owner": user, "title": f"Add {DEMO_TODO_TITLE}", "created_at": now},
        )
        if thread.owner_id != user.pk:
            raise ValueError(f"Thread {thread_id} belongs to another user")
        for item in (user_message, reply):
            fields = item_row_fields(thread_id, item)
            ThreadItem.objects.get_or_create(
                thread=thread, item_id=fields.pop("item_id"), defaults=fields
            )
        if not Todo.objects.for_user(user).filter(title__iexact=DEMO_TODO_TITLE).exists():
            todo_create(user=user, title=DEMO_TODO_TITLE)
