"""What finishing a dead worker's turn writes: what it said stays (stored as it
streamed), the thread is titled if it was its first turn, an error card "The answer
was interrupted" with "Try again" follows, and the turn gets its usage row (outcome
`interrupted`). Who finishes which turn, once, is chat/recovery.py's."""

from __future__ import annotations

import time
from datetime import datetime

from chatkit.store import NotFoundError
from chatkit.types import UserMessageItem, WidgetItem
from django.utils import timezone

from accounts.models import User
from chat.agent import get_model, model_label
from chat.context import RequestContext
from chat.models import ItemType
from chat.models import ThreadItem as ThreadItemRow
from chat.titles import offline_title
from chat.widgets import error_card
from config.db import run_sync
from usage.models import Outcome
from usage.services import turn_record

MSG_INTERRUPTED = "The answer was interrupted."


def _newest(thread_id: str) -> tuple[str, dict] | None:
    rows = ThreadItemRow.objects.filter(thread_id=thread_id).order_by("-created_at", "-seq")
    return rows.values_list("type", "data").first()


async def newest_item(thread_id: str) -> tuple[str, dict] | None:
    """(type, stored JSON) of the thread's newest item, hidden ones included."""
    return await run_sync(_newest, thread_id)


def is_interrupted_card(item: tuple[str, dict] | None) -> bool:
    return (
        item is not None
        and item[0] == ItemType.WIDGET
        and item[1].get("copy_text") == MSG_INTERRUPTED
    )


async def add_interrupted_card(thread_id: str, user_id: object, started_at: float | None) -> bool:
    """Close a dead turn in `thread_id` (its finisher holds the thread's turn lock);
    `started_at` is when the turn began (a Unix time), if known. False when the thread
    or its user is gone."""
    user = await User.objects.filter(pk=user_id).afirst()
    if user is None:
        return False
    try:
        await _add_card(thread_id, RequestContext(user=user))
    except NotFoundError:  # the thread was deleted meanwhile
        return False
    # The turn's usage row: its tokens died with its worker, its time is until now.
    age = max(0.0, time.time() - started_at) if started_at is not None else 0.0
    turn_record(
        user_id=user.pk,
        thread_id=thread_id,
        model=model_label(get_model()),
        result=None,
        started=time.monotonic() - age,
        first_token_at=None,
        outcome=Outcome.INTERRUPTED,
    )
    return True


def as_unix(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


async def _add_card(thread_id: str, context: RequestContext) -> None:
    from chat.server import get_server  # the server finishes dead turns through here

    store = get_server().store
    thread = await store.load_thread(thread_id, context)
    rows = ThreadItemRow.objects.filter(thread_id=thread_id, type=ItemType.USER_MESSAGE)
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
