"""Thread items to model input: todo tags, widgets as notes, and no item, however
odd, can break a thread (the turns after it still work)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from chatkit.types import AssistantMessageContent, UserMessageTagContent, WidgetItem

from chat.converter import TodoThreadItemConverter, tagged_todo_id
from chat.models import ThreadItem
from chat.rows import item_row_fields
from chat.tests import chatkit_client as ck
from chat.tests.factories import assistant_message, file_attachment, user_message
from chat.tests.test_server import (
    make_server,
    message,
    turn,
)
from chat.tests.test_views import stream
from chat.widgets import todo_list_widget
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


def texts(items: list[Any]) -> list[str]:
    out = []
    for item in items:
        content = item["content"]
        out.append(content if isinstance(content, str) else content[0]["text"])
    return out


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"todo_id": 12}, 12),
        ({"todo_id": "12"}, 12),
        ({"todo_id": "#12"}, 12),
        ({}, None),
        ({"todo_id": None}, None),
        ({"todo_id": True}, None),
        ({"todo_id": 0}, None),
        ({"todo_id": -4}, None),
        ({"todo_id": 2**70}, None),
        ({"todo_id": "twelve"}, None),
        ({"todo_id": {"id": 12}}, None),
        ({"todo_id": [12]}, None),
        ({"todo_id": 1.5}, None),
    ],
)
def test_tagged_todo_id_accepts_only_a_todo_reference(data, expected):
    tag = UserMessageTagContent(id="t", text="x", data=data)
    assert tagged_todo_id(tag) == expected


async def test_a_tag_reaches_the_model_as_the_callers_todo_or_an_unknown_one(user, other_user):
    mine = await Todo.objects.acreate(owner=user, title="buy milk", completed=True)
    theirs = await Todo.objects.acreate(owner=other_user, title="their secret")
    item = user_message("thr_1", "")
    item.content = [
        *ck.user_input_parts(
            [
                "complete ",
                ck.tag("buy milk", {"todo_id": mine.id}, "t1"),
                " and ",
                ck.tag("their secret", {"todo_id": theirs.id}, "t2"),
            ]
        ).content
    ]

    converted = await TodoThreadItemConverter(user=user).to_agent_input([item])

    said, tags = texts(converted)
    assert said == f"complete #{mine.id} and @their secret (unknown todo)"
    assert f'todo #{mine.id} "buy milk" (done)' in tags
    assert "unknown todo" in tags
    assert str(theirs.id) not in said + tags


async def test_text_messages_reach_the_model_in_the_plain_form():
    # The SDK deep-copies and walks the input on every run: plain strings, not parts.
    two_parts = assistant_message("thr_1", "first")
    two_parts.content.append(AssistantMessageContent(text="second"))
    items = [user_message("thr_1", "hi"), assistant_message("thr_1", "hello!"), two_parts]

    converted = await TodoThreadItemConverter().to_agent_input(items)

    assert converted[:2] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello!"},
    ]
    # Rare, several parts: the SDK's typed form keeps each of them.
    assert [part["text"] for part in converted[2]["content"]] == ["first", "second"]


async def test_a_widget_reaches_the_model_as_its_copy_text():
    widget, copy_text = todo_list_widget([Todo(id=3, title="tea")], heading="Open todos")
    item = WidgetItem(
        id="w1", thread_id="thr_1", created_at=user_message("t").created_at, widget=widget
    )
    item.copy_text = copy_text

    (note,) = await TodoThreadItemConverter().to_agent_input([item])

    assert note["role"] == "developer"
    assert "#3 tea" in note["content"]
    assert "onChangeAction" not in note["content"]


# --- end to end with the offline model -------------------------------------------------


async def test_a_tagged_message_completes_the_tagged_todo(async_client, user, bearer):
    milk = await Todo.objects.acreate(owner=user, title="buy milk")
    await Todo.objects.acreate(owner=user, title="buy milk later")  # the title alone is ambiguous
    headers = bearer(user)

    body = ck.create_thread(["complete ", ck.tag("buy milk", {"todo_id": milk.id})])
    events = await stream(async_client, body, headers)

    assert "error" not in [e.type for e in events]
    await milk.arefresh_from_db()
    assert milk.completed
    assert ck.assistant_text(events) == 'Marked "buy milk" as done.'


@pytest.mark.parametrize(
    "data",
    [{"todo_id": "foreign"}, {}, {"todo_id": None}, {"todo_id": [1]}, {"nested": {"deep": 1}}],
)
async def test_foreign_and_malformed_tags_are_unknown_and_the_thread_lives_on(
    async_client, user, other_user, bearer, data
):
    theirs = await Todo.objects.acreate(owner=other_user, title="their milk")
    if data.get("todo_id") == "foreign":
        data = {"todo_id": theirs.id}
    headers = bearer(user)

    events = await stream(
        async_client, ck.create_thread(["complete ", ck.tag("their milk", data)]), headers
    )

    assert "error" not in [e.type for e in events]
    assert "No todo matches" in ck.assistant_text(events)
    await theirs.arefresh_from_db()
    assert theirs.completed is False
    # The regression: every later turn in that thread used to fail.
    thread_id = events[0].thread.id
    for text in ("add tea", "list", "complete tea"):
        later = await stream(async_client, ck.add_message(thread_id, text), headers)
        assert "error" not in [e.type for e in later], text
    assert (await Todo.objects.aget(owner=user, title="tea")).completed


async def test_a_history_item_that_cannot_be_converted_is_degraded_not_fatal(user):
    server, model = make_server([message("Hi.")], [message("Still here.")])
    thread_id = (await turn(server, ck.create_thread("hello"), user))[0].thread.id
    # An item this converter cannot turn into model input (an attachment, while the
    # server converts none) sits in the history.
    odd = user_message(thread_id, "see the file")
    odd.attachments = [file_attachment(thread_id=thread_id)]
    await sync_to_async(ThreadItem.objects.create)(
        thread_id=thread_id, **item_row_fields(thread_id, odd)
    )

    events = await turn(server, ck.add_message(thread_id, "are you there?"), user)

    assert ck.assistant_text(events) == "Still here."
    said = [i for i in model.calls[1].input if i.get("role") == "user"]
    assert any("see the file" in str(i["content"]) for i in said)
