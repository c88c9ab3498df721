"""The typed per-request context handed to ChatKit's server and store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatkit.types import InferenceOptions, ThreadMetadata, UserMessageItem

from accounts.models import User

if TYPE_CHECKING:
    from chat.ledger import TurnLedger
    from chat.recent import RecentItems
    from runs.registry import Run
    from usage.quota import Reservation


@dataclass
class RequestContext:
    user: User
    # Scheme and host the request came in on: attachment links are built on it.
    base_url: str = ""
    # Set by the agent when a tool changed todos, so a client effect is sent.
    todos_changed: bool = field(default=False)
    # The thread the view already loaded to check ownership: the store serves the
    # SDK's own load_thread from it instead of asking the database again.
    checked_thread: ThreadMetadata | None = None
    # The newest items of the thread last listed newest-first in this request, kept
    # current through the request's writes (chat/recent.py).
    recent_items: RecentItems | None = None
    # This turn's tool effects (set by the server for each run of a user message).
    ledger: TurnLedger | None = None
    # A first turn's message: the thread's title comes from it (chat/titles.py).
    title_message: UserMessageItem | None = None
    # The turn's user message's model and forced composer tool (chat/inference.py).
    inference_options: InferenceOptions | None = None
    # The request reruns a user message (retry_after_item, "Try again").
    rerun: bool = False
    # A client's key for a message it may resend (`Idempotency-Key`, or the
    # request's metadata.idempotency_key), and the user message id it names.
    idempotency_key: str | None = None
    user_message_id: str | None = None
    keyed_thread_id: str | None = None
    # The daily token budget this turn holds while it runs (usage/quota.py).
    quota_reservation: Reservation | None = None
    # A tool asked the user a question (a structured input): the run stops there.
    awaiting_user: bool = False
    # The run this request's turn is produced in (runs/registry.py): the turn names
    # it by its thread once it holds that thread's lock.
    run: Run | None = None
