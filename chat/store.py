"""ChatKit's Store over the Django ORM: threads, items and attachments, per user.

Every method is scoped to `context.user`: another user's rows behave exactly like
missing ones (reads raise `NotFoundError`, deletes are no-ops), so existence is
never revealed. Writes run under `asyncio.shield`, so a client disconnect that
cancels the request task cannot drop a write half way.

Pagination: `after` is an exclusive cursor naming the last row of the previous
page; a page sets it only when `has_more` (empty on the last page, as the SDK's
contract says). An `after` that is unknown (never existed, deleted since, or another
user's) raises `NotFoundError`: silently restarting from the beginning would
hand the client duplicates and can loop a paginating caller forever.

Checked against the SDK's own Store contract suite (chatkit-python's TestStore,
mirrored in chat/tests/test_store.py). Deliberate deviations from it:
- timestamps come back as aware UTC datetimes (the SDK stamps naive local ones);
- an item added to a thread is stored with that thread's id as its `thread_id`,
  whatever id the item carried;
- another user's thread is `NotFoundError` for `load_thread_items` too (TestStore
  expects an empty page): the view answers SPEC's 404 for every foreign thread.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

from chatkit.store import NotFoundError, Store, StoreItemType
from chatkit.types import Attachment as AttachmentSchema
from chatkit.types import Page, ThreadItem, ThreadMetadata
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone
from pydantic import TypeAdapter

from accounts.models import User
from attachments.links import refresh_previews
from attachments.models import Attachment
from chat.context import RequestContext
from chat.models import Thread, new_thread_id
from chat.models import ThreadItem as ThreadItemRow
from chat.recent import RecentItems
from chat.rows import (
    item_from_data,
    item_row_fields,
    thread_metadata_from_row,
    thread_row_fields,
    to_aware_utc,
)
from config.db import afirst_or_none, first_or_none, run_sync

T = TypeVar("T")

ATTACHMENT_ADAPTER: TypeAdapter[AttachmentSchema] = TypeAdapter(AttachmentSchema)

# The SDK's id prefixes, with full uuid4 hex (the SDK's default keeps only 8 digits).
ID_PREFIXES: dict[str, str] = {
    "thread": "thr",
    "message": "msg",
    "tool_call": "tc",
    "workflow": "wf",
    "task": "tsk",
    "attachment": "atc",
    "sdk_hidden_context": "shcx",
}

# No read returns more rows, whoever asks: a guard for our own callers (a retry reads
# up to 200 later items, chat/actions.py). Clients are held to the smaller
# settings.CHATKIT["MAX_PAGE_SIZE"] before their request reaches the store
# (chat/limits.py); `has_more`/`after` still let a caller walk everything.
MAX_ROWS_PER_READ = 1000

# Shielded writes still running after their caller was cancelled. Holding them
# here keeps them from being garbage-collected and lets tests wait for them.
_pending_writes: set[asyncio.Task[Any]] = set()


async def shielded(write: Coroutine[Any, Any, T]) -> T:
    """Run a write to completion even if the awaiting task is cancelled."""
    task = asyncio.ensure_future(write)
    _pending_writes.add(task)
    task.add_done_callback(_pending_writes.discard)
    return await asyncio.shield(task)


async def wait_for_pending_writes() -> None:
    """Wait until every shielded write has finished (used after a cancellation)."""
    while _pending_writes:
        await asyncio.gather(*_pending_writes, return_exceptions=True)


def page_of(data: list[T], *, has_more: bool) -> Page[T]:
    """A page whose `after` names its last row only when there is more to load."""
    return Page(data=data, has_more=has_more, after=data[-1].id if data and has_more else None)


def page_size(limit: int) -> int:
    return max(0, min(limit, MAX_ROWS_PER_READ))


class DjangoStore(Store[RequestContext]):
    """ChatKit threads, items and attachments in the database, one user's at a time."""

    # --- ids -------------------------------------------------------------------------

    def generate_thread_id(self, context: RequestContext) -> str:
        # A client's idempotency key fixes the new thread's id (chat/turns.py).
        keyed, context.keyed_thread_id = context.keyed_thread_id, None
        return keyed or new_thread_id()

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext
    ) -> str:
        if item_type == "message" and context.user_message_id is not None:
            # The request's first message id is its user message's: keyed by the client.
            keyed, context.user_message_id = context.user_message_id, None
            return keyed
        return f"{ID_PREFIXES.get(item_type, item_type)}_{uuid.uuid4().hex}"

    def generate_attachment_id(self, mime_type: str, context: RequestContext) -> str:
        return f"{ID_PREFIXES['attachment']}_{uuid.uuid4().hex}"

    # Each call is one trip to a database thread (`run_sync`), which also hands a
    # pooled connection back: a stream holds none while the model talks.

    # --- threads -----------------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        checked = context.checked_thread
        if checked is not None and checked.id == thread_id:
            return checked.model_copy(deep=True)  # the SDK may change it
        return await self._fetch_thread(thread_id, context.user)

    async def stored_title(self, thread_id: str, context: RequestContext) -> str | None:
        """The thread's title as stored now (a rename during a turn shows here)."""
        return (await self._fetch_thread(thread_id, context.user)).title

    async def _fetch_thread(self, thread_id: str, user: User) -> ThreadMetadata:
        return await run_sync(self._load_thread, thread_id, user)

    def _load_thread(self, thread_id: str, user: User) -> ThreadMetadata:
        row = first_or_none(Thread.objects.for_user(user).filter(pk=thread_id))
        if row is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        return thread_metadata_from_row(row)

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        await shielded(run_sync(self._save_thread, thread, context.user))

    def _save_thread(self, thread: ThreadMetadata, user: User) -> None:
        fields = thread_row_fields(thread)
        # Update first (the common case: a title change), scoped to the owner so
        # another user's thread with this id is never touched.
        owned = Thread.objects.for_user(user).filter(pk=thread.id)
        if owned.update(**fields):
            return
        try:
            Thread.objects.create(
                id=thread.id, owner=user, created_at=to_aware_utc(thread.created_at), **fields
            )
        except IntegrityError:
            # The id exists: ours if created concurrently, else another user's.
            if not owned.update(**fields):
                raise NotFoundError(f"Thread {thread.id} not found") from None

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: RequestContext
    ) -> Page[ThreadMetadata]:
        return await run_sync(self._load_threads, limit, after, order, context.user)

    def _load_threads(
        self, limit: int, after: str | None, order: str, user: User
    ) -> Page[ThreadMetadata]:
        size = page_size(limit)
        threads = Thread.objects.for_user(user)
        desc = order == "desc"
        if after is not None:
            cursor = threads.filter(pk=after).values_list("created_at", flat=True).first()
            if cursor is None:
                raise NotFoundError(f"Thread {after} not found")
            if desc:
                keyset = Q(created_at__lt=cursor) | Q(created_at=cursor, id__lt=after)
            else:
                keyset = Q(created_at__gt=cursor) | Q(created_at=cursor, id__gt=after)
            threads = threads.filter(keyset)
        ordering = ("-created_at", "-id") if desc else ("created_at", "id")
        rows = list(threads.order_by(*ordering)[: size + 1])
        data = [thread_metadata_from_row(row) for row in rows[:size]]
        return page_of(data, has_more=len(rows) > size)

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        # Items and attachments go with it (CASCADE); a miss is a no-op.
        context.recent_items = None
        owned = Thread.objects.for_user(context.user).filter(pk=thread_id)
        await shielded(run_sync(owned.delete))

    # --- items -------------------------------------------------------------------------

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        newest_first = after is None and order == "desc"
        recent = context.recent_items
        if newest_first and recent is not None and recent.thread_id == thread_id:
            held = recent.newest(limit)  # chat/recent.py
            if held is not None:
                return page_of(held[0], has_more=held[1])
        page = await self._fetch_items(thread_id, after, limit, order, context.user)
        if newest_first:
            self._hold(thread_id, page, context)
        else:
            refresh_previews(page.data, base_url=context.base_url, user_id=context.user.pk)
        return page

    async def load_visible_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        """A client's page (`items.list`, `threads.get_by_id`): `limit` visible items,
        `has_more` only when more visible ones exist. Hidden context (the model's
        notes) is left out by the query itself, so it never takes a page's place;
        `load_thread_items` (the model's history) still reads everything."""
        page = await self._fetch_items(thread_id, after, limit, order, context.user, True)
        refresh_previews(page.data, base_url=context.base_url, user_id=context.user.pk)
        return page

    @staticmethod
    def _hold(thread_id: str, page: Page[ThreadItem], context: RequestContext) -> RecentItems:
        """Keep a newest-first page for the rest of the request (chat/recent.py)."""
        # Images' signed preview links expire: hand out fresh ones (attachments/links.py).
        refresh_previews(page.data, base_url=context.base_url, user_id=context.user.pk)
        # Held as loaded: a re-read gets copies.
        held = context.recent_items = RecentItems(thread_id, list(page.data), page.has_more)
        return held

    async def _fetch_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        user: User,
        visible: bool = False,
    ) -> Page[ThreadItem]:
        """A page of the thread's items; with `visible`, of its visible items only."""
        return await run_sync(
            self._load_thread_items, thread_id, after, limit, order, user, visible
        )

    def _load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        user: User,
        visible: bool = False,
    ) -> Page[ThreadItem]:
        size = page_size(limit)
        items = ThreadItemRow.objects.for_user(user).filter(thread_id=thread_id)
        desc = order == "desc"
        if after is not None:
            # Found only in an owned thread, so this also proves ownership.
            cursor = items.filter(item_id=after).values_list("created_at", "seq").first()
            if cursor is None:
                raise NotFoundError(f"Item {after} not found in thread {thread_id}")
            created_at, seq = cursor
            if desc:
                keyset = Q(created_at__lt=created_at) | Q(created_at=created_at, seq__lt=seq)
            else:
                keyset = Q(created_at__gt=created_at) | Q(created_at=created_at, seq__gt=seq)
            items = items.filter(keyset)
        if visible:
            items = items.filter(visible=True)  # the partial index chat_item_visible_order
        ordering = ("-created_at", "-seq") if desc else ("created_at", "seq")
        rows = list(items.order_by(*ordering).values_list("data", flat=True)[: size + 1])
        # An empty first page: tell an empty thread of ours from someone else's.
        if (
            not rows
            and after is None
            and not Thread.objects.for_user(user).filter(pk=thread_id).exists()
        ):
            raise NotFoundError(f"Thread {thread_id} not found")
        data = [item_from_data(row) for row in rows[:size]]
        return page_of(data, has_more=len(rows) > size)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        # Idempotent: the same item id twice keeps one row with the latest content.
        await self._write_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        await self._write_item(thread_id, item, context)

    async def _write_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        recent, context.recent_items = context.recent_items, None
        data = await shielded(self._store_item(thread_id, item, context.user))
        # The held items take in the item as a read would return it.
        if recent is not None and recent.thread_id == thread_id:
            context.recent_items = recent if recent.written(item_from_data(data)) else None

    async def _store_item(self, thread_id: str, item: ThreadItem, user: User) -> dict[str, Any]:
        """Insert or update the item in the user's thread; its stored JSON is returned."""
        return await run_sync(self._upsert_item, thread_id, item, user)

    def _upsert_item(self, thread_id: str, item: ThreadItem, user: User) -> dict[str, Any]:
        """Store the item; its stored JSON is returned."""
        fields = item_row_fields(thread_id, item)
        # Bumping last activity checks ownership in the same query.
        if not Thread.objects.for_user(user).filter(pk=thread_id).update(updated_at=timezone.now()):
            raise NotFoundError(f"Thread {thread_id} not found")
        try:
            ThreadItemRow.objects.bulk_create(
                [ThreadItemRow(thread_id=thread_id, **fields)],
                update_conflicts=True,
                unique_fields=["thread", "item_id"],
                update_fields=["type", "created_at", "data", "visible"],
            )
        except IntegrityError:
            # The thread was deleted between the two statements.
            raise NotFoundError(f"Thread {thread_id} not found") from None
        return fields["data"]

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        rows = ThreadItemRow.objects.for_user(context.user).filter(
            thread_id=thread_id, item_id=item_id
        )
        data = await afirst_or_none(rows.values_list("data", flat=True))
        if data is None:
            raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")
        return item_from_data(data)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        context.recent_items = None
        await shielded(run_sync(self._delete_item, thread_id, item_id, context.user))

    def _delete_item(self, thread_id: str, item_id: str, user: User) -> None:
        """Delete the item; a deletion is activity too (a retry removes what followed
        its message: chat/recovery.py looks for recently written threads)."""
        rows = ThreadItemRow.objects.for_user(user).filter(thread_id=thread_id, item_id=item_id)
        if rows.delete()[0]:
            Thread.objects.for_user(user).filter(pk=thread_id).update(updated_at=timezone.now())

    # --- attachments -------------------------------------------------------------------

    async def save_attachment(self, attachment: AttachmentSchema, context: RequestContext) -> None:
        await shielded(run_sync(self._save_attachment, attachment, context.user))

    def _save_attachment(self, attachment: AttachmentSchema, user: User) -> None:
        thread_id = attachment.thread_id
        if (
            thread_id is not None
            and not Thread.objects.for_user(user).filter(pk=thread_id).exists()
        ):
            raise NotFoundError(f"Thread {thread_id} not found")
        fields = {"thread_id": thread_id, "data": attachment.model_dump(mode="json")}
        owned = Attachment.objects.for_user(user).filter(pk=attachment.id)
        if owned.update(**fields):
            return
        try:
            Attachment.objects.create(id=attachment.id, owner=user, **fields)
        except IntegrityError:
            if not owned.update(**fields):
                raise NotFoundError(f"Attachment {attachment.id} not found") from None

    async def load_attachment(
        self, attachment_id: str, context: RequestContext
    ) -> AttachmentSchema:
        rows = Attachment.objects.for_user(context.user).filter(pk=attachment_id)
        data = await run_sync(rows.values_list("data", flat=True).first)
        if data is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return ATTACHMENT_ADAPTER.validate_python(data)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        rows = Attachment.objects.for_user(context.user).filter(pk=attachment_id)
        await shielded(run_sync(rows.delete))
