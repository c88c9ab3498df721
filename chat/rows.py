"""ChatKit's threads and items as our rows' columns, and back.

Shared by the ORM store (chat/store.py), the event loop's SQL (chat/pgstore.py), the
admin's services and the tests: one place decides how an item is stored (its JSON,
NUL-free, its time aware UTC) and how a stored row becomes ChatKit's type again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatkit.types import ThreadItem, ThreadMetadata
from django.utils import timezone
from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from chat.models import Thread, is_visible_type
from chat.text import without_nul

ITEM_ADAPTER: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)


def to_aware_utc(value: datetime) -> datetime:
    """ChatKit stamps items with a naive `datetime.now()`: read it as local time."""
    # A naive datetime's astimezone() interprets it in the process's local zone.
    return value.astimezone(UTC)


def item_row_fields(thread_id: str, item: ThreadItem) -> dict[str, Any]:
    """The `ThreadItem` row columns for a ChatKit item (created_at made aware UTC)."""
    created_at = to_aware_utc(item.created_at)
    normalized = item.model_copy(update={"created_at": created_at, "thread_id": thread_id})
    return {
        "item_id": item.id,
        "type": item.type,
        "created_at": created_at,
        "data": without_nul(normalized.model_dump(mode="json")),
        "visible": is_visible_type(item.type),
    }


def item_from_data(data: dict[str, Any]) -> ThreadItem:
    return ITEM_ADAPTER.validate_python(data)


def thread_row_fields(thread: ThreadMetadata) -> dict[str, Any]:
    """The `Thread` row columns a save writes (not its id, owner or creation time)."""
    return {
        "title": without_nul(thread.title),
        "status": thread.status.model_dump(mode="json"),
        "metadata": without_nul(to_jsonable_python(thread.metadata)),
        "allowed_image_domains": thread.allowed_image_domains,
        "updated_at": timezone.now(),
    }


def thread_metadata(
    *, id: str, title: str | None, created_at: datetime, status: Any, allowed_image_domains: Any,
    metadata: Any,
) -> ThreadMetadata:  # fmt: skip
    """ChatKit's ThreadMetadata from a `Thread` row's columns."""
    return ThreadMetadata.model_validate(
        {
            "id": id,
            "title": title,
            "created_at": created_at,
            "status": status or {"type": "active"},
            "allowed_image_domains": allowed_image_domains,
            "metadata": metadata or {},
        }
    )


def thread_metadata_from_row(row: Thread) -> ThreadMetadata:
    return thread_metadata(
        id=row.id, title=row.title, created_at=row.created_at, status=row.status,
        allowed_image_domains=row.allowed_image_domains, metadata=row.metadata,
    )  # fmt: skip


def fresh_copy(item: ThreadItem) -> ThreadItem:
    """An independent copy of a stored item: dumped and validated again by pydantic-core
    (about three times cheaper than `model_copy(deep=True)`, which deep-copies in Python)."""
    return ITEM_ADAPTER.validate_python(ITEM_ADAPTER.dump_python(item))
