"""Widget actions end to end through `POST /chatkit`: the todo changes for its
owner only, the widget is replaced in place and stored, `todos.changed` and a
live `/ws/todos/` event go out; bad actions are 400/404 or an error event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from chatkit.widgets import Checkbox
from django.conf import settings as django_settings
from django.test import AsyncClient

from chat.actions import parse_action
from chat.models import ThreadItem
from chat.tests import chatkit_client as ck
from chat.tests.test_views import post, stream
from chat.widgets import TODO_COMPLETE, TODO_DELETE, TODO_REOPEN, todo_ids
from config.asgi import application
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def listed(async_client, user, bearer) -> dict[str, Any]:
    """A thread whose `list` turn showed two open todos and one done one."""
    milk = await Todo.objects.acreate(owner=user, title="buy milk")
    rent = await Todo.objects.acreate(owner=user, title="pay rent")
    done = await Todo.objects.acreate(owner=user, title="file taxes", completed=True)
    headers = bearer(user)
    events = await stream(async_client, ck.create_thread("list all"), headers)
    widget = ck.widget_item(events)
    return {
        "thread_id": events[0].thread.id,
        "widget_id": widget.id,
        "headers": headers,
        "todos": {"milk": milk, "rent": rent, "done": done},
        "answer_id": next(
            e.item.id
            for e in events
            if e.type == "thread.item.done" and e.item.type == "assistant_message"
        ),
    }


@pytest.fixture
async def socket(user) -> AsyncIterator[WebsocketCommunicator]:
    client = AsyncClient()
    await client.aforce_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}".encode()
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)]
    communicator = WebsocketCommunicator(application, "/ws/todos/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    yield communicator
    await communicator.disconnect()


async def act(client, listed, action_type: str, payload: Any, item_id: str | None = "widget"):
    item = listed["widget_id"] if item_id == "widget" else item_id
    body = ck.custom_action(listed["thread_id"], item, action_type, payload)
    return await post(client, body, listed["headers"])


async def events_of(response) -> list[Any]:
    assert response.status_code == HTTPStatus.OK, response.content
    return await ck.read_events(response.streaming_content)


async def stored_widget(listed) -> Any:
    row = await ThreadItem.objects.aget(thread_id=listed["thread_id"], item_id=listed["widget_id"])
    return ck.widget_from_data(row.data)


def checkbox_of(widget: Any, todo_id: int) -> Checkbox:
    row = widget.children[todo_ids(widget).index(todo_id)]
    return next(c for c in row.children if isinstance(c, Checkbox))


@pytest.mark.parametrize(
    ("action_type", "todo_key", "completed_after", "next_action"),
    [
        (TODO_COMPLETE, "milk", True, TODO_REOPEN),
        (TODO_REOPEN, "done", False, TODO_COMPLETE),
    ],
)
async def test_complete_and_reopen_update_the_todo_the_widget_and_live_clients(
    async_client, listed, socket, action_type, todo_key, completed_after, next_action
):
    todo = listed["todos"][todo_key]

    events = await events_of(await act(async_client, listed, action_type, {"id": todo.id}))

    await todo.arefresh_from_db()
    assert todo.completed is completed_after
    types = [e.type for e in events]
    assert "error" not in types
    replaced = next(e for e in events if e.type == "thread.item.replaced")
    assert replaced.item.id == listed["widget_id"]
    box = checkbox_of(replaced.item.widget, todo.id)
    assert (box.defaultChecked, box.onChangeAction.type) == (completed_after, next_action)
    mark = "[x]" if completed_after else "[ ]"
    assert f"{mark} #{todo.id} {todo.title}" in replaced.item.copy_text
    effect = next(e for e in events if e.type == "client_effect")
    assert effect.name == "todos.changed"
    stored = await stored_widget(listed)
    assert stored.widget == replaced.item.widget
    live = await socket.receive_json_from(timeout=5)
    assert (live["type"], live["todo"]["id"], live["todo"]["completed"]) == (
        "todo.updated",
        todo.id,
        completed_after,
    )
    # The model hears of it on the next turn (hidden context), the client never sees it.
    items = (await post(async_client, ck.list_items(listed["thread_id"]), listed["headers"])).json()
    assert "hidden" not in json.dumps(items)
    hidden = [
        row.data["content"]
        async for row in ThreadItem.objects.filter(
            thread_id=listed["thread_id"], type="hidden_context_item"
        )
    ]
    assert any(f'"id": {todo.id}' in text for text in hidden)


async def test_delete_removes_the_row_and_the_todo(async_client, listed, socket):
    rent = listed["todos"]["rent"]

    events = await events_of(await act(async_client, listed, TODO_DELETE, {"id": rent.id}))

    assert not await Todo.objects.filter(pk=rent.pk).aexists()
    replaced = next(e for e in events if e.type == "thread.item.replaced")
    assert rent.id not in todo_ids(replaced.item.widget)
    assert "pay rent" not in replaced.item.copy_text
    assert listed["todos"]["milk"].id in todo_ids((await stored_widget(listed)).widget)
    assert (await socket.receive_json_from(timeout=5))["type"] == "todo.deleted"


async def test_sync_custom_action_answers_the_updated_widget(async_client, listed):
    milk = listed["todos"]["milk"]
    body = ck.custom_action(
        listed["thread_id"], listed["widget_id"], TODO_COMPLETE, {"id": milk.id}, sync=True
    )

    response = await post(async_client, body, listed["headers"])

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    updated = response.json()["updated_item"]
    assert updated["id"] == listed["widget_id"]
    await milk.arefresh_from_db()
    assert milk.completed
    assert checkbox_of((await stored_widget(listed)).widget, milk.id).defaultChecked is True


async def test_another_users_todo_is_an_unknown_todo(async_client, listed, other_user):
    theirs = await Todo.objects.acreate(owner=other_user, title="their milk")
    before = (await stored_widget(listed)).widget

    events = await events_of(await act(async_client, listed, TODO_DELETE, {"id": theirs.id}))

    error = next(e for e in events if e.type == "error")
    assert "not found" in error.message
    assert await Todo.objects.filter(pk=theirs.pk).aexists()
    assert (await stored_widget(listed)).widget == before
    assert "client_effect" not in [e.type for e in events]
    sync = ck.custom_action(
        listed["thread_id"], listed["widget_id"], TODO_COMPLETE, {"id": theirs.id}, sync=True
    )
    response = await post(async_client, sync, listed["headers"])
    assert response.status_code == HTTPStatus.NOT_FOUND
    await theirs.arefresh_from_db()
    assert theirs.completed is False


@pytest.mark.parametrize("sync", [False, True])
@pytest.mark.parametrize(
    ("action_type", "payload"),
    [
        ("todos.explode", {"id": 1}),
        ("", None),
        (TODO_COMPLETE, None),
        (TODO_COMPLETE, {}),
        (TODO_COMPLETE, {"id": "1"}),
        (TODO_COMPLETE, {"id": True}),
        (TODO_COMPLETE, {"id": -3}),
        (TODO_COMPLETE, {"id": 2**70}),
        (TODO_DELETE, {"id": 1.5}),
        (TODO_REOPEN, [1]),
        ("chat.retry", {"item_id": 5}),
    ],
)
async def test_unknown_types_and_bad_payloads_are_400(
    async_client, listed, action_type, payload, sync
):
    body = ck.custom_action(
        listed["thread_id"], listed["widget_id"], action_type, payload, sync=sync
    )

    response = await post(async_client, body, listed["headers"])

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert response.json()["error"]["code"] == "bad_request"
    assert (
        await Todo.objects.filter(owner=listed["todos"]["milk"].owner, completed=False).acount()
        == 2
    )


async def test_a_non_widget_item_a_missing_item_and_a_foreign_thread_change_nothing(
    async_client, listed, other_user, bearer
):
    milk = listed["todos"]["milk"]
    not_widget = await act(
        async_client, listed, TODO_COMPLETE, {"id": milk.id}, listed["answer_id"]
    )
    assert not_widget.status_code == HTTPStatus.BAD_REQUEST
    missing = await act(async_client, listed, TODO_COMPLETE, {"id": milk.id}, "msg_nope")
    assert missing.status_code == HTTPStatus.NOT_FOUND
    foreign = await post(
        async_client,
        ck.custom_action(listed["thread_id"], listed["widget_id"], TODO_COMPLETE, {"id": milk.id}),
        bearer(other_user),
    )
    assert foreign.status_code == HTTPStatus.NOT_FOUND
    await milk.arefresh_from_db()
    assert milk.completed is False


async def test_an_action_without_a_widget_still_applies(async_client, listed):
    milk = listed["todos"]["milk"]
    events = await events_of(await act(async_client, listed, TODO_COMPLETE, {"id": milk.id}, None))
    await milk.arefresh_from_db()
    assert milk.completed
    assert "thread.item.replaced" not in [e.type for e in events]
    assert "client_effect" in [e.type for e in events]


def test_payloads_may_carry_extra_keys_from_the_client():
    from chatkit.actions import Action

    payload = parse_action(Action(type=TODO_COMPLETE, payload={"id": 4, "value": True}))
    assert payload.id == 4
