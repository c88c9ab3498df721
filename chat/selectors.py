"""Reads of chat threads (writes live in services.py, the ChatKit protocol in store.py)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from chat.models import Thread, ThreadItem


def thread_list_for_admin() -> QuerySet[Thread]:
    """All threads with their owner and item count, in one query (no query per row)."""
    return Thread.objects.select_related("owner").annotate(item_count=Count("items"))


def thread_items_in_order(*, thread: Thread) -> QuerySet[ThreadItem]:
    """A thread's items oldest first; equal timestamps keep insertion order."""
    return thread.items.order_by("created_at", "seq")
