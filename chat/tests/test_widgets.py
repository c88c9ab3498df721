"""Todo widgets: built from chatkit.widgets, valid as SDK items, shown by `list`."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from chatkit.types import WidgetItem
from chatkit.widgets import Badge, Button, Caption, Checkbox, ListView
from pydantic import TypeAdapter

from chat.tests import chatkit_client as ck
from chat.tests.test_views import post, stream
from chat.widgets import (
    CHAT_RETRY,
    MAX_WIDGET_ROWS,
    TODO_COMPLETE,
    TODO_DELETE,
    TODO_REOPEN,
    error_card,
    error_card_used,
    retry_target,
    todo_ids,
    todo_list_widget,
)
from todos.models import Todo
from todos.tests.factories import TodoFactory

ITEM = TypeAdapter(WidgetItem)


def controls(row: Any) -> tuple[Checkbox, Button]:
    checkbox = next(c for c in row.children if isinstance(c, Checkbox))
    button = next(c for c in row.children if isinstance(c, Button))
    return checkbox, button


def test_rows_carry_specs_actions_and_name_their_todo():
    open_todo = Todo(id=7, title="buy milk", priority="high", due_date=datetime.date(2030, 1, 2))
    done_todo = Todo(id=8, title="pay rent", completed=True)

    widget, copy_text = todo_list_widget([open_todo, done_todo], heading="All todos")

    assert isinstance(widget, ListView)
    assert todo_ids(widget) == [7, 8]
    (check_open, delete_open), (check_done, delete_done) = (
        controls(r) for r in widget.children[:2]
    )
    assert (check_open.label, check_open.defaultChecked) == ("buy milk", False)
    assert (check_open.onChangeAction.type, check_open.onChangeAction.payload) == (
        TODO_COMPLETE,
        {"id": 7},
    )
    assert (check_done.onChangeAction.type, check_done.defaultChecked) == (TODO_REOPEN, True)
    assert delete_open.label == "Delete “buy milk”"
    assert (delete_done.onClickAction.type, delete_done.onClickAction.payload) == (
        TODO_DELETE,
        {"id": 8},
    )
    first = widget.children[0].children
    assert any(isinstance(c, Caption) and c.value.startswith("due Jan 2") for c in first)
    assert any(isinstance(c, Badge) and c.label == "high" for c in first)
    assert (
        copy_text
        == "All todos\n- [ ] #7 buy milk (high priority, due 2030-01-02)\n- [x] #8 pay rent"
    )


def test_a_long_list_is_capped_and_the_copy_text_says_so():
    todos = [Todo(id=n, title=f"todo {n}") for n in range(1, MAX_WIDGET_ROWS + 6)]
    widget, copy_text = todo_list_widget(todos, heading="Open todos")
    assert len(todo_ids(widget)) == MAX_WIDGET_ROWS
    assert copy_text.endswith("…and 5 more.")


def test_an_empty_list_still_renders():
    widget, copy_text = todo_list_widget([], heading="Open todos")
    assert todo_ids(widget) == []
    assert copy_text == "Open todos\nNothing here."


def test_the_error_card_retries_its_message_once():
    card = error_card("The assistant is busy right now.", user_message_id="msg_1")
    assert retry_target(card) == "msg_1"
    button = next(c for c in card.children[0].children[1].children if isinstance(c, Button))
    assert (button.label, button.onClickAction.type) == ("Try again", CHAT_RETRY)
    used = error_card_used(card)
    assert retry_target(used) is None
    assert retry_target(card) == "msg_1"  # the original is left alone
    assert error_card("x", user_message_id=None).children[0].children[-1].type == "Row"


@pytest.mark.django_db(transaction=True)
async def test_list_turn_answers_with_a_valid_widget_of_every_open_todo(
    async_client, user, other_user, bearer
):
    mine = [await Todo.objects.acreate(owner=user, title=f"open {n}") for n in range(3)]
    done = await Todo.objects.acreate(owner=user, title="done one", completed=True)
    await Todo.objects.acreate(owner=other_user, title="not mine")
    headers = bearer(user)

    events = await stream(async_client, ck.create_thread("list"), headers)

    item = ck.widget_item(events)
    raw = item.model_dump(mode="json", by_alias=True, exclude_none=True)
    validated = ITEM.validate_python(raw)  # the SDK's own types accept it
    assert isinstance(validated.widget, ListView)
    assert sorted(todo_ids(validated.widget)) == sorted(t.id for t in mine)
    assert done.id not in todo_ids(validated.widget)
    for row in validated.widget.children[: len(mine)]:
        checkbox, delete = controls(row)
        assert checkbox.onChangeAction.type == TODO_COMPLETE
        assert delete.onClickAction.type == TODO_DELETE
        assert checkbox.onChangeAction.payload == delete.onClickAction.payload
        assert checkbox.label in delete.label
    assert "not mine" not in item.copy_text
    assert len(raw.__repr__()) < 6000  # small JSON

    thread_id = events[0].thread.id
    listed = await post(async_client, ck.list_items(thread_id), headers)
    assert listed.status_code == HTTPStatus.OK
    widgets = [i for i in listed.json()["data"] if i["type"] == "widget"]
    assert [w["id"] for w in widgets] == [item.id]
    assert ITEM.validate_python(widgets[0]).widget == validated.widget


@pytest.mark.django_db(transaction=True)
async def test_a_turn_after_a_widget_still_works(async_client, user, bearer):
    await sync_to_async(TodoFactory)(owner=user, title="water plants")
    headers = bearer(user)
    thread_id = (await stream(async_client, ck.create_thread("show my todos"), headers))[
        0
    ].thread.id
    # The offline model reads the same history a real one gets; a later turn still works.
    events = await stream(async_client, ck.add_message(thread_id, "list all"), headers)
    assert "water plants" in ck.widget_item(events).copy_text
