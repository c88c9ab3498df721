"""A turn whose worker died mid-answer (its run's lease lapsed: runs/leases.py) is
finished by whichever worker notices: what it said stays (stored as it streamed), an
error card "The answer was interrupted" with "Try again" follows, the thread is
titled if it was its first turn, and it unlocks."""

from __future__ import annotations

import contextlib

from chatkit.store import NotFoundError
from chatkit.types import UserMessageItem, WidgetItem
from django.utils import timezone

from accounts.models import User
from chat.context import RequestContext
from chat.live import publish_thread_change
from chat.models import ThreadItem as ThreadItemRow
from chat.server import get_server
from chat.titles import offline_title
from chat.turns import lock_key
from chat.widgets import error_card
from config import async_cache
from config.db import run_sync

MSG_INTERRUPTED = "The answer was interrupted."


async def finish_interrupted(thread_id: str, user_id: object) -> None:
    """Close a dead worker's turn in `thread_id` (the lease sweep's `finish`)."""
    user = await User.objects.filter(pk=user_id).afirst()
    if user is not None:
        with contextlib.suppress(NotFoundError):  # the thread was deleted meanwhile
            await _add_card(thread_id, RequestContext(user=user))
    await async_cache.delete(lock_key(thread_id))
    publish_thread_change(user_id=user_id, thread_id=thread_id, reason="status")


async def _add_card(thread_id: str, context: RequestContext) -> None:
    store = get_server().store
    thread = await store.load_thread(thread_id, context)
    rows = ThreadItemRow.objects.filter(thread_id=thread_id, type="user_message")
    newest = rows.order_by("-created_at", "-seq").values_list("item_id", flat=True)
    found = await run_sync(lambda: list(newest[:1]))
    message_id = found[0] if found else None
    # Titled first (a first turn's title comes at its end), then the card.
    if not thread.title and message_id is not None:
        message = await store.load_item(thread_id, message_id, context)
        if isinstance(message, UserMessageItem):
            thread.title = offline_title(message)  # no model call for a dead turn
            await store.save_thread(thread, context)
    card = WidgetItem(
        id=store.generate_item_id("message", thread, context),
        thread_id=thread_id,
        created_at=timezone.now(),
        widget=error_card(MSG_INTERRUPTED, user_message_id=message_id),
        copy_text=MSG_INTERRUPTED,
    )
    await store.add_thread_item(thread_id, card, context)
