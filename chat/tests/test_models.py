"""Chat models: owner scoping, constraints, readable text of stored items."""

from __future__ import annotations

import datetime
import re

import pytest
from chatkit.types import (
    ClientToolCallItem,
    CustomTask,
    EndOfTurnItem,
    SDKHiddenContextItem,
    TaskItem,
    Workflow,
    WorkflowItem,
)
from django.db import IntegrityError, transaction

from attachments.models import Attachment
from chat.models import ItemType, Thread, ThreadItem, item_text
from chat.rows import item_row_fields
from chat.tests.factories import (
    AttachmentFactory,
    ThreadFactory,
    ThreadItemFactory,
    hidden_context,
)

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)


def test_thread_id_defaults_to_a_chatkit_style_id(user):
    thread = Thread.objects.create(owner=user)
    assert re.fullmatch(r"thr_[0-9a-f]{32}", thread.id)
    assert thread.title is None


def test_str_shows_something_readable(user):
    titled = ThreadFactory(owner=user, title="Groceries")
    untitled = ThreadFactory(owner=user, title=None)
    item = ThreadItemFactory(thread=titled, item_id="msg_1")
    attachment = AttachmentFactory(owner=user, name="list.txt")
    assert str(titled) == "Groceries"
    assert str(untitled) == untitled.id
    assert str(item) == "msg_1 (user_message)"
    assert str(attachment) == "list.txt"


def test_for_user_scopes_threads_items_and_attachments(user, other_user):
    mine = ThreadFactory(owner=user)
    theirs = ThreadFactory(owner=other_user)
    my_item = ThreadItemFactory(thread=mine)
    ThreadItemFactory(thread=theirs)
    my_attachment = AttachmentFactory(owner=user)
    AttachmentFactory(owner=other_user)

    assert list(Thread.objects.for_user(user)) == [mine]
    assert list(ThreadItem.objects.for_user(user)) == [my_item]
    assert list(Attachment.objects.for_user(user)) == [my_attachment]


def test_an_item_id_is_unique_within_its_thread(user):
    thread = ThreadFactory(owner=user)
    ThreadItemFactory(thread=thread, item_id="msg_1")
    ThreadItemFactory(item_id="msg_1")  # another thread: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        ThreadItemFactory(thread=thread, item_id="msg_1")


def test_items_order_by_time_then_insertion(user):
    thread = ThreadFactory(owner=user)
    late = ThreadItemFactory(thread=thread, created_at=T0 + datetime.timedelta(seconds=1))
    first = ThreadItemFactory(thread=thread, item_id="msg_z", created_at=T0)
    second = ThreadItemFactory(thread=thread, item_id="msg_a", created_at=T0)
    assert list(thread.items.all()) == [first, second, late]


def test_deleting_a_user_deletes_their_threads_and_items(user):
    thread = ThreadFactory(owner=user)
    ThreadItemFactory.create_batch(2, thread=thread)
    AttachmentFactory(owner=user, thread=thread)
    user.delete()
    assert Thread.objects.count() == 0
    assert ThreadItem.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_speaker_and_text_of_messages(user):
    thread = ThreadFactory(owner=user)
    said = ThreadItemFactory(thread=thread, text="add buy milk")
    answered = ThreadItemFactory(thread=thread, type=ItemType.ASSISTANT_MESSAGE, text="Added.")
    assert (said.speaker, said.text) == ("User", "add buy milk")
    assert (answered.speaker, answered.text) == ("Assistant", "Added.")


def _text_of(item) -> tuple[str, str]:
    fields = item_row_fields("thr_1", item)
    row = ThreadItem(type=fields["type"], data=fields["data"])
    return row.speaker, row.text


def test_speaker_and_text_of_tool_effects_and_other_items():
    effect = hidden_context("thr_1", {"created": "buy milk"})
    assert _text_of(effect) == ("Tool effect", '{"created": "buy milk"}')
    plain = hidden_context("thr_1", "Todo #3 completed")
    assert _text_of(plain) == ("Tool effect", "Todo #3 completed")

    base = {"thread_id": "thr_1", "created_at": T0}
    sdk = SDKHiddenContextItem(id="s", content="The user cancelled the stream.", **base)
    assert _text_of(sdk) == ("System", "The user cancelled the stream.")
    call = ClientToolCallItem(
        id="c", call_id="1", name="add_todo", arguments={"title": "x"}, output="ok", **base
    )
    assert _text_of(call) == ("Tool call", 'add_todo({"title": "x"}) -> ok')
    task = TaskItem(id="t", task=CustomTask(title="Searching todos"), **base)
    assert _text_of(task)[1] == "Searching todos"
    workflow = WorkflowItem(
        id="w",
        workflow=Workflow(type="custom", tasks=[CustomTask(title="a"), CustomTask(content="b")]),
        **base,
    )
    assert _text_of(workflow)[1] == "a; b"
    assert _text_of(EndOfTurnItem(id="e", **base))[1] == ""
    assert item_text("something_new", {"x": 1}) == ""
