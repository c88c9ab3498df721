"""`thread.changed` on the user's socket (/ws/todos/): other tabs, on any worker,
learn that a thread was created, got an item, a title, changed status (a turn
ended) or was deleted, and refresh it (ChatKit: `fetchUpdates()`).

The events travel in the user's channel-layer group with the todo changes
(todos/events.py), so the socket forwards them unchanged. Best effort, like those:
the change is stored before it is announced.
"""

from __future__ import annotations

from typing import Literal

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from chat.models import Thread
from config.broadcast import send_to_group
from todos.events import MESSAGE_TYPE, group_name

ThreadChange = Literal["created", "item", "title", "status", "deleted"]


def publish_thread_change(*, user_id: int, thread_id: str, reason: ThreadChange) -> None:
    """Tell the owner's live clients that one of their threads changed."""
    event = {"type": "thread.changed", "thread_id": thread_id, "reason": reason}
    send_to_group(
        group_name(user_id), {"type": MESSAGE_TYPE, "event": event}, what="a thread change"
    )


@receiver(post_delete, sender=Thread, dispatch_uid="chat.live.thread_deleted")
def _thread_deleted(sender: type[Thread], instance: Thread, **kwargs: object) -> None:
    """Any delete (ChatKit's threads.delete, the admin, the retention purge), once committed."""
    user_id, thread_id = instance.owner_id, instance.pk
    transaction.on_commit(
        lambda: publish_thread_change(user_id=user_id, thread_id=thread_id, reason="deleted")
    )
