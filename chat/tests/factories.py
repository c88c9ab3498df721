"""Factories for chat rows, and builders for ChatKit items (the store's inputs)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import factory
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    FileAttachment,
    HiddenContextItem,
    InferenceOptions,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
)
from django.utils import timezone

from accounts.tests.factories import UserFactory
from attachments.models import Attachment
from chat.models import ItemType, Thread, ThreadItem, new_thread_id
from chat.rows import item_row_fields

# --- ChatKit items -------------------------------------------------------------------


def _now() -> datetime.datetime:
    return timezone.now()


def user_message(
    thread_id: str,
    text: str = "hello",
    *,
    id: str | None = None,
    created_at: datetime.datetime | None = None,
) -> UserMessageItem:
    return UserMessageItem(
        id=id or f"msg_{uuid.uuid4().hex}",
        thread_id=thread_id,
        created_at=created_at or _now(),
        content=[UserMessageTextContent(text=text)],
        inference_options=InferenceOptions(),
    )


def assistant_message(
    thread_id: str,
    text: str = "hi there",
    *,
    id: str | None = None,
    created_at: datetime.datetime | None = None,
) -> AssistantMessageItem:
    return AssistantMessageItem(
        id=id or f"msg_{uuid.uuid4().hex}",
        thread_id=thread_id,
        created_at=created_at or _now(),
        content=[AssistantMessageContent(text=text)],
    )


def hidden_context(thread_id: str, content: Any, *, id: str | None = None) -> HiddenContextItem:
    return HiddenContextItem(
        id=id or f"hc_{uuid.uuid4().hex}",
        thread_id=thread_id,
        created_at=_now(),
        content=content,
    )


def thread_metadata(*, id: str | None = None, title: str | None = None) -> ThreadMetadata:
    return ThreadMetadata(id=id or new_thread_id(), title=title, created_at=_now())


def file_attachment(
    *, id: str | None = None, thread_id: str | None = None, name: str = "notes.txt"
) -> FileAttachment:
    return FileAttachment(
        id=id or f"atc_{uuid.uuid4().hex}", name=name, mime_type="text/plain", thread_id=thread_id
    )


# --- rows ----------------------------------------------------------------------------


class ThreadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thread

    id = factory.LazyFunction(new_thread_id)
    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Thread {n}")
    created_at = factory.LazyFunction(_now)
    updated_at = factory.LazyAttribute(lambda o: o.created_at)


class ThreadItemFactory(factory.django.DjangoModelFactory):
    """A stored message; `text` and `type` (user or assistant) shape its ChatKit JSON."""

    class Meta:
        model = ThreadItem
        exclude = ("text", "chatkit_item")

    thread = factory.SubFactory(ThreadFactory)
    type = ItemType.USER_MESSAGE
    text = factory.Sequence(lambda n: f"message {n}")
    item_id = factory.LazyFunction(lambda: f"msg_{uuid.uuid4().hex}")
    created_at = factory.LazyFunction(_now)
    chatkit_item = factory.LazyAttribute(
        lambda o: (user_message if o.type == ItemType.USER_MESSAGE else assistant_message)(
            o.thread.id, o.text, id=o.item_id, created_at=o.created_at
        )
    )
    data = factory.LazyAttribute(lambda o: item_row_fields(o.thread.id, o.chatkit_item)["data"])


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment
        exclude = ("name",)

    id = factory.LazyFunction(lambda: f"atc_{uuid.uuid4().hex}")
    owner = factory.SubFactory(UserFactory)
    thread = None
    name = "notes.txt"
    data = factory.LazyAttribute(
        lambda o: file_attachment(
            id=o.id, thread_id=o.thread.id if o.thread else None, name=o.name
        ).model_dump(mode="json")
    )
